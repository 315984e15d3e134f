/**
 * Dashboard benchmark (not a test): the real page in headless Chromium against the real MI HTTP server, events
 * websocket and engine with N registrants (fake SIP answering 200 at once, memory store). Prints the time until
 * the whole table is shown, the frame gaps while every record registers (N state changes x2 streamed to the
 * page), and the time a sort and a filter take to show.
 *
 *   node --import tsx test/bench/dashboard.bench.ts [records]
 */
import { performance } from "node:perf_hooks";
import type { Page } from "playwright-core";
import type { RegisterRequest, SendOutcome } from "../../src/sip/sip-client.js";
import { FAKE_DESTINATION, FakeSipClient, response } from "../support/fake-sip-client.js";
import { row } from "../support/engine-harness.js";
import { launchChromium } from "../support/headless-chromium.js";
import { OperatorStack } from "../support/operator-stack.js";

const RECORDS = Number(process.argv[2] ?? 100_000);

async function waitText(page: Page, selector: string, want: string, timeoutMs = 300_000): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if ((await page.locator(selector).textContent()) === want) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error(`${selector} never showed ${want}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const pct = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

const fake = new FakeSipClient();
let answer = false;
const ok = (req: RegisterRequest): SendOutcome => {
  const contact = req.contact === "*" ? {} : { contact: `<${req.contact.uri}>;expires=${req.contact.expiresSec}` };
  return { kind: "response", response: response(200, contact, "OK"), destination: FAKE_DESTINATION };
};
fake.autoAnswer = (req) => (answer ? ok(req) : undefined);
const rows = [];
for (let i = 0; i < RECORDS; i++) {
  rows.push(
    row({
      aor: `sip:user${String(i).padStart(6, "0")}@example.test`,
      registrar: `sip:registrar${i % 8}.example.test`,
      expiry: 3600,
    }),
  );
}
const stack = await OperatorStack.start({ rows, sip: fake });
const browser = await launchChromium();
const context = browser.context;
try {
  const page = context.pages()[0] ?? (await context.newPage());
  const total = `${RECORDS} shown of ${RECORDS}`;
  const t0 = performance.now();
  await page.goto(`${stack.baseUrl}/dashboard/`);
  await waitText(page, "#total", total);
  const loadMs = performance.now() - t0;

  // frame gaps while every record registers: REGISTERING + REGISTERED events for all N
  await page.evaluate(`(() => { window.__gaps = []; let last = performance.now();
    const tick = (t) => { window.__gaps.push(t - last); last = t; if (!window.__stop) requestAnimationFrame(tick); };
    requestAnimationFrame(tick); })()`);
  answer = true;
  for (const p of fake.sent) {
    if (p.answered) continue;
    p.answered = true;
    p.resolve(ok(p.request));
  }
  const t1 = performance.now();
  await waitText(page, '#counts [data-state="REGISTERED_STATE"] .n', String(RECORDS));
  const storm = performance.now() - t1;
  const gaps = (await page.evaluate<number[]>("(() => { window.__stop = true; return window.__gaps; })()")).sort(
    (a, b) => a - b,
  );

  const t2 = performance.now();
  await page.click('#thead [data-column="registrar"]');
  await page.locator('#thead [data-column="registrar"][data-sort="asc"]').waitFor();
  const sortMs = performance.now() - t2;
  const t3 = performance.now();
  // the last hundred users share this prefix (N a multiple of 100)
  await page.fill("#filter", `user${String(Math.floor((RECORDS - 1) / 100)).padStart(4, "0")}`);
  await waitText(page, "#total", `100 shown of ${RECORDS}`);
  const filterMs = performance.now() - t3;

  console.log(`dashboard with ${RECORDS} registrants (headless chromium, fake SIP)`);
  console.log(`  page load to full table (snapshot + MI list): ${loadMs.toFixed(0)} ms`);
  console.log(`  ${RECORDS * 2} state changes streamed: all REGISTERED on the page after ${storm.toFixed(0)} ms`);
  console.log(
    `  frame gaps meanwhile: p50 ${pct(gaps, 50).toFixed(1)} ms, p99 ${pct(gaps, 99).toFixed(1)} ms, max ${pct(gaps, 100).toFixed(1)} ms (${gaps.length} frames)`,
  );
  console.log(`  sort by registrar: ${sortMs.toFixed(0)} ms; filter to 100 rows: ${filterMs.toFixed(0)} ms`);
} finally {
  await browser.close();
  await stack.stop();
}
