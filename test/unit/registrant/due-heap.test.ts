import { test } from "node:test";
import assert from "node:assert/strict";
import { DueHeap } from "../../../src/registrant/due-heap.js";

interface E {
  id: number;
  dueSec: number;
  heapIndex: number;
}
const entry = (id: number): E => ({ id, dueSec: Infinity, heapIndex: -1 });

test("pops due entries earliest first, ties in id order; update and remove keep the heap valid", () => {
  const heap = new DueHeap<E>();
  const es = Array.from({ length: 200 }, (_, i) => entry(i + 1));
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (const e of es) heap.set(e, Math.floor(rnd() * 100));
  for (const e of es.slice(0, 50)) heap.set(e, Math.floor(rnd() * 100));
  for (const e of es.slice(50, 70)) heap.remove(e);
  heap.set(es[70]!, Infinity);
  assert.equal(heap.size, 200 - 21);
  const popped = heap.popDue(49);
  for (let i = 1; i < popped.length; i++) {
    const a = popped[i - 1]!;
    const b = popped[i]!;
    assert.ok(a.dueSec < b.dueSec || (a.dueSec === b.dueSec && a.id < b.id));
  }
  assert.ok(popped.every((e) => e.dueSec <= 49 && e.heapIndex === -1));
  assert.ok(heap.popDue(1000).every((e) => e.dueSec > 49));
  assert.equal(heap.size, 0);
});

test("when every entry is due they all come out at once, in order, whether queued in order or not", () => {
  for (const shuffled of [false, true]) {
    const heap = new DueHeap<E>();
    const es = Array.from({ length: 500 }, (_, i) => entry(i + 1));
    const order = shuffled ? [...es].sort((a, b) => ((a.id * 7919) % 500) - ((b.id * 7919) % 500)) : es;
    for (const e of order) heap.set(e, shuffled ? e.id % 3 : 0);
    const popped = heap.popDue(10);
    assert.equal(popped.length, 500);
    for (let i = 1; i < popped.length; i++) {
      const a = popped[i - 1]!;
      const b = popped[i]!;
      assert.ok(a.dueSec < b.dueSec || (a.dueSec === b.dueSec && a.id < b.id));
    }
    assert.ok(popped.every((e) => e.heapIndex === -1));
    assert.equal(heap.size, 0);
    heap.set(es[0]!, 5);
    assert.deepEqual(heap.popDue(10), [es[0]]);
  }
});
