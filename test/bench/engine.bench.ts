/**
 * Engine benchmark (not a test): memory per record with 100,000 records in the table, and the CPU cost of one
 * timer tick when nothing is due and when one bucket is due. Fake time and a fake SIP client, so only the engine
 * is measured (the store load is in store-load.bench.ts, the SIP stack in transactions.bench.ts).
 *
 *   node --expose-gc --import tsx test/bench/engine.bench.ts [records]
 */
import { performance } from "node:perf_hooks";
import { EngineHarness, row } from "../support/engine-harness.js";
import { FAKE_DESTINATION, flush, response } from "../support/fake-sip-client.js";
import type { RegisterRequest, SendOutcome } from "../../src/sip/sip-client.js";

const RECORDS = Number(process.argv[2] ?? 100_000);
const gc = (globalThis as { gc?: () => void }).gc;

function heapUsed(): number {
  for (let i = 0; i < 3; i++) gc?.();
  return process.memoryUsage().heapUsed;
}

function ok(req: RegisterRequest): SendOutcome {
  const contact = req.contact === "*" ? "" : `<${req.contact.uri}>;expires=3600`;
  // a Destination per transaction, as the SIP stack makes them
  return { kind: "response", response: response(200, { contact }), destination: { ...FAKE_DESTINATION } };
}

async function run(hashSize: number, timerIntervalSec: number): Promise<void> {
  const rows = Array.from({ length: RECORDS }, (_, i) =>
    row({
      id: String(i),
      aor: `sip:user${i}@example.com`,
      registrar: `sip:registrar${i % 50}.example.com`,
      binding_URI: `sip:user${i}@192.0.2.${i % 250}:5060`,
      expiry: 3600,
    }),
  );
  const h = new EngineHarness({
    rows,
    options: { hashSize, timerIntervalSec, spreadTick: false, failureBackoff: false },
  });
  const buckets = 2 ** hashSize;
  const before = heapUsed();
  const t0 = performance.now();
  await h.service.start();
  const loadMs = performance.now() - t0;
  h.tableChanges.length = 0; // the harness records every table change
  const after = heapUsed();
  const perRecord = (after - before) / RECORDS;

  // register everything: every bucket is due once
  h.sip.autoAnswer = ok;
  for (let b = 0; b < buckets; b++) h.service.tick();
  await flush();
  h.sip.sent.length = 0;
  h.changes.length = 0; // the harness records every state change
  h.tableChanges.length = 0;
  const registered = (heapUsed() - before) / RECORDS;

  // nothing due
  const idleTicks = 10_000;
  const t1 = performance.now();
  let due = 0;
  for (let i = 0; i < idleTicks; i++) due += h.service.tick();
  const idleUs = ((performance.now() - t1) * 1000) / idleTicks;
  if (due !== 0) throw new Error(`expected nothing due, got ${due}`);

  // one bucket due: jump to the refresh window, then time single ticks (the sends go to a client that never answers)
  h.sip.autoAnswer = undefined;
  h.clock.advance(3600 * 1000);
  const samples: number[] = [];
  let sent = 0;
  for (let b = 0; b < Math.min(buckets, 16); b++) {
    const t = performance.now();
    sent += h.service.tick();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  const perBucket = sent / samples.length;
  const median = samples[Math.floor(samples.length / 2)]!;

  console.log(
    `hash_size=${hashSize} (${buckets} buckets), timer_interval=${timerIntervalSec}, ${RECORDS} records: ` +
      `start ${loadMs.toFixed(0)} ms, ${perRecord.toFixed(0)} bytes/record retained (spec + record + table), ` +
      `${registered.toFixed(0)} once registered, ` +
      `tick with nothing due ${idleUs.toFixed(2)} µs, ` +
      `tick with one bucket due (${perBucket.toFixed(0)} records) median ${median.toFixed(1)} ms ` +
      `= ${((median * 1000) / perBucket).toFixed(1)} µs/record`,
  );
  await h.service.stop();
}

if (gc === undefined) console.log("(run with --expose-gc for a stable memory figure)");
await run(1, 100);
await run(8, 600);
