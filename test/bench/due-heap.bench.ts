/**
 * DueHeap benchmark (not a test): popping a partly due bucket, as a refresh wave does (records registered over a
 * few minutes of a storm come due over as many seconds), against popping a wholly due one (a storm's start).
 * Entries are objects scattered in memory like records, shuffled into the heap; prints ns per popped entry.
 *
 *   node --import tsx test/bench/due-heap.bench.ts [entries] [spreadSec]
 */
import { DueHeap } from "../../src/registrant/due-heap.js";

const N = Number(process.argv[2] ?? 500_000);
const SPREAD_SEC = Number(process.argv[3] ?? 120);

interface Entry {
  readonly id: number;
  dueSec: number;
  heapIndex: number;
  /** a record's other fields: entries as large as records keep the heap's memory access realistic */
  readonly payload: number[];
}

function entries(): Entry[] {
  const es = Array.from({ length: N }, (_, i) => ({ id: i + 1, dueSec: 0, heapIndex: -1, payload: [i, i, i, i] }));
  for (let i = N - 1, seed = 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [es[i], es[j]] = [es[j]!, es[i]!];
  }
  return es;
}

/** ns per popped entry of one popDue over a heap whose due times span SPREAD_SEC seconds from 1000 */
function run(es: Entry[], dueFraction: number): number {
  const heap = new DueHeap<Entry>();
  for (const e of es) e.heapIndex = -1;
  for (const e of es) heap.set(e, 1000 + (e.id % SPREAD_SEC));
  const now = 1000 + Math.floor(SPREAD_SEC * dueFraction) - 1;
  const t0 = process.hrtime.bigint();
  const popped = heap.popDue(now);
  const ns = Number(process.hrtime.bigint() - t0);
  for (let i = 1; i < popped.length; i++) {
    const a = popped[i - 1]!;
    const b = popped[i]!;
    if (a.dueSec > b.dueSec || (a.dueSec === b.dueSec && a.id > b.id)) throw new Error("out of order");
  }
  if (heap.size + popped.length !== es.length) throw new Error("lost entries");
  return ns / Math.max(1, popped.length);
}

const es = entries();
const out: Record<string, number[]> = {};
for (let round = 0; round < 5; round++) {
  for (const fraction of [0.01, 0.1, 0.5, 0.9, 1]) {
    (out[`${fraction * 100}% due`] ??= []).push(Math.round(run(es, fraction)));
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `${N} entries over ${SPREAD_SEC} s, ns per popped entry (median of 5):`,
  Object.fromEntries(Object.entries(out).map(([k, v]) => [k, median(v)])),
);
