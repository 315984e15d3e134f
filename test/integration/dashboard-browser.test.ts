import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import type { RegisterRequest, SendOutcome } from "../../src/sip/sip-client.js";
import { FAKE_DESTINATION, FakeSipClient, response } from "../support/fake-sip-client.js";
import { row } from "../support/engine-harness.js";
import { OperatorStack } from "../support/operator-stack.js";
import { launchChromium } from "../support/headless-chromium.js";
import { until } from "../support/until.js";

/**
 * The dashboard in a real browser (Debian's chromium driven by playwright-core, no browser download) against
 * the real MI HTTP server, events websocket and engine, with a fake SIP client deciding each REGISTER's fate.
 * DASHBOARD_RECORDS sets the table size; DASHBOARD_SCREENSHOT=<png> also writes the screenshot there (that is
 * how docs/images/dashboard-10000.png is made: DASHBOARD_RECORDS=10000).
 */
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const ARTIFACTS = process.env["TEST_ARTIFACTS"] ?? join(REPO, "test-artifacts");
const RECORDS = Number(process.env["DASHBOARD_RECORDS"] ?? 2_000);

/** Polls a page value (text or attribute) until it matches: no DOM types needed in the test's TypeScript. */
async function pageUntil(
  what: string,
  read: () => Promise<string | null>,
  want: RegExp | string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string | null;
  for (;;) {
    last = await read().catch(() => null);
    if (last !== null && (typeof want === "string" ? last === want : want.test(last))) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const carol = row({ aor: "sip:carol@example.test", expiry: 120 });

/** Most registrars answer 200; some refuse (403), some are down (503) and some never answer (Timer F). */
function outcomeFor(req: RegisterRequest, holdCarol: boolean): SendOutcome | undefined {
  const user = /^sip:([^@]+)@/.exec(req.to)?.[1] ?? "";
  if (user === "carol" && holdCarol) return undefined;
  const n = Number(/\d+$/.exec(user)?.[0] ?? 0);
  if (n % 41 === 7) return { kind: "timeout", destination: FAKE_DESTINATION };
  if (n % 23 === 5)
    return { kind: "response", response: response(403, {}, "Forbidden"), destination: FAKE_DESTINATION };
  if (n % 37 === 11)
    return { kind: "response", response: response(503, {}, "Service Unavailable"), destination: FAKE_DESTINATION };
  const expires = req.contact === "*" ? 0 : req.contact.expiresSec;
  const contact = req.contact === "*" ? {} : { contact: `<${req.contact.uri}>;expires=${expires}` };
  return { kind: "response", response: response(200, contact, "OK"), destination: FAKE_DESTINATION };
}

describe("dashboard in headless Chromium", { timeout: 300_000 }, () => {
  let stack: OperatorStack;
  let context: BrowserContext;
  let page: Page;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  const fake = new FakeSipClient();
  let holdCarol = true;
  const pageErrors: string[] = [];

  before(async () => {
    fake.autoAnswer = (req) => outcomeFor(req, holdCarol);
    const rows = [carol];
    for (let i = 1; i < RECORDS; i++) {
      const user = `user${String(i).padStart(5, "0")}`;
      rows.push(row({ aor: `sip:${user}@example.test`, registrar: `sip:registrar${i % 4}.example.test`, expiry: 600 }));
    }
    // failed records wait an hour before retrying, so the event stream stays readable in the screenshot
    stack = await OperatorStack.start({ rows, sip: fake, config: { failure_retry_interval: 3600 } });
    browser = await launchChromium();
    context = browser.context;
    // a loaded 2-core CI machine: every wait is generous
    context.setDefaultTimeout(60_000);
    page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (err) => pageErrors.push(err.message));
  });

  after(async () => {
    await browser?.close();
    await stack?.stop().catch(() => undefined);
  });

  it("shows the table live, changes a row on an event, runs an action and shows the MI answer", async () => {
    await page.goto(`${stack.baseUrl}/dashboard`);
    assert.equal(new URL(page.url()).pathname, "/dashboard/");
    await page.waitForSelector('#conn[data-status="live"]', { timeout: 60_000 });
    await pageUntil(
      "the whole table",
      () => page.locator("#total").textContent(),
      `${RECORDS} shown of ${RECORDS}`,
      60_000,
    );

    // no polling: once live, the page makes no HTTP request of its own
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));

    // carol's REGISTER is held by the fake registrar: REGISTERING on the page
    await page.fill("#filter", "carol@");
    const carolRow = page.locator('#rows .row[data-key^="sip:carol@example.test"]');
    await until("carol's REGISTER", () => fake.pending.find((p) => p.request.to === carol.aor), 60_000);
    await carolRow.waitFor({ timeout: 60_000 });
    await pageUntil("carol REGISTERING", () => carolRow.getAttribute("data-state"), "REGISTERING_STATE");
    // the registrar answers: the row turns REGISTERED without a reload
    holdCarol = false;
    const pending = fake.pending.find((p) => p.request.to === carol.aor)!;
    fake.outcome(outcomeFor(pending.request, false)!, fake.pending.indexOf(pending));
    await pageUntil("carol REGISTERED", () => carolRow.getAttribute("data-state"), "REGISTERED_STATE");
    await pageUntil(
      "the event stream",
      () => page.locator("#events").textContent(),
      /REGISTERED sip:carol@example\.test 200 OK/,
    );

    // detail pane: the record, its Status/Report history
    await carolRow.click();
    await page.waitForSelector("#detail h2");
    assert.equal(await page.locator("#detail h2").innerText(), carol.aor!);
    await pageUntil(
      "the Status/Report history",
      () => page.locator("#detail .reports").textContent(),
      /state changed to REGISTERED_STATE/,
    );

    // an action through MI over the websocket, with the MI answer shown
    await page.click('#detail button[data-action="disable"]');
    await pageUntil(
      "the MI answer",
      () => page.locator("#detail .mi-answer").textContent(),
      /uac_registrant:disable → "OK"/,
    );
    await pageUntil("carol disabled", () => carolRow.locator(".c-enabled").textContent(), "no");
    // the unREGISTER's 200 ends in NOT_REGISTERED, which has no E_REGISTRANT_* event: ws:state carries it
    await pageUntil("carol unregistered", () => carolRow.getAttribute("data-state"), "NOT_REGISTERED_STATE");
    assert.equal(
      stack.service.find({ aor: carol.aor!, contact: carol.binding_URI!, registrar: carol.registrar! })?.enabled,
      false,
    );

    // the trace switch answers too
    await page.click('#detail button[data-action="trace"]');
    await pageUntil("the trace answer", () => page.locator("#detail .mi-answer").textContent(), /record_trace on/);

    await page.fill("#filter", "");
    await pageUntil("the filter cleared", () => page.locator("#total").textContent(), `${RECORDS} shown of ${RECORDS}`);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-browser.png") });
    const docsShot = process.env["DASHBOARD_SCREENSHOT"];
    if (docsShot) await page.screenshot({ path: resolve(REPO, docsShot) });

    assert.deepEqual(
      requests.filter((u) => !u.startsWith("ws")),
      [],
      "no HTTP request after the page went live",
    );
    assert.deepEqual(pageErrors, []);
  });
});
