/**
 * Status/Report benchmark (not a test): the heap Status/Report keeps per record, and the CPU of one state change,
 * with N records (default 100,000) living a storm (created, REGISTERING, AUTHENTICATING, REGISTERED: 4 reports each)
 * and then enough refreshes to fill their 20-report rings, the records taken in a shuffled order. The records' own strings are made before the first
 * measurement: they belong to the engine, Status/Report only points at them. Memory counts the V8 heap and the
 * ArrayBuffers (typed arrays live outside the heap).
 *
 *   node --expose-gc --import tsx test/bench/status-report.bench.ts [records]
 */
import { performance } from "node:perf_hooks";
import { ManualClock } from "../../src/clock.js";
import type { Coords } from "../../src/registrant/coords.js";
import { RegState } from "../../src/registrant/state.js";
import type { RegStateValue } from "../../src/registrant/state.js";
import { StatusReport } from "../../src/status/status-report.js";

const RECORDS = Number(process.argv[2] ?? 100_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with node --expose-gc");

function memory(): number {
  for (let i = 0; i < 3; i++) gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** distinct string objects per record, as rows read from a database give them */
const records: Coords[] = Array.from({ length: RECORDS }, (_, i) => ({
  aor: `sip:user${i}@example.com`,
  contact: `sip:user${i}@192.0.2.${i % 250}:5060`,
  registrar: `sip:registrar${i % 50}.example.com`.slice(0),
}));

/** a storm's changes reach Status/Report in no useful order: a fixed shuffle of the records */
const order = Array.from({ length: RECORDS }, (_, i) => i);
for (let i = RECORDS - 1, seed = 1; i > 0; i--) {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  const j = seed % (i + 1);
  [order[i], order[j]] = [order[j]!, order[i]!];
}

const clock = new ManualClock(1_795_000_000_000);
const { REGISTERING_STATE: R, AUTHENTICATING_STATE: A, REGISTERED_STATE: OK } = RegState;
const before = memory();
const sr = new StatusReport(clock);
records.forEach((coords, i) => sr.onTableChange({ kind: "added", coords, recordId: i + 1 }));

let changes = 0;
let cpuMs = 0;
/** one pass of `states` over every record; the change's coords are a fresh object, as the engine makes them */
function pass(states: readonly RegStateValue[]): void {
  const t0 = performance.now();
  let from: RegStateValue = RegState.NOT_REGISTERED_STATE;
  for (const to of states) {
    for (const i of order) {
      const c = records[i]!;
      sr.onStateChange({
        coords: { aor: c.aor, contact: c.contact, registrar: c.registrar },
        recordId: i + 1,
        from,
        to,
        atMs: clock.nowMs(),
      });
    }
    from = to;
    clock.advance(1000);
  }
  cpuMs += performance.now() - t0;
  changes += RECORDS * states.length;
}

pass([R, A, OK]);
const afterStorm = memory();
// refreshes: REGISTERING, REGISTERED until every ring holds 20 reports (4 + 8 × 2)
for (let i = 0; i < 8; i++) pass([R, OK]);
const full = memory();

const idents = sr.identifiers("uac_registrant")!;
if (idents.length !== RECORDS || idents[0]!.reports.length !== 20) throw new Error("unexpected Status/Report content");

const perRecord = (bytes: number) => Math.round((bytes - before) / RECORDS);
console.log(
  JSON.stringify({
    records: RECORDS,
    bytesPerRecordAfterStorm: perRecord(afterStorm),
    bytesPerRecordWith20Reports: perRecord(full),
    nsPerStateChange: Math.round((cpuMs * 1e6) / changes),
  }),
);
