import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Outbox } from "../../../src/events/outbox.js";

describe("Outbox", () => {
  it("publishes in order and forgets a confirmed prefix, even when confirms come out of order", () => {
    const box = new Outbox<number>(10);
    for (let i = 1; i <= 4; i++) box.push(i);
    const s1 = box.take()!;
    const s2 = box.take()!;
    const s3 = box.take()!;
    assert.deepEqual([s1.item, s2.item, s3.item], [1, 2, 3]);
    box.confirm(s2);
    assert.equal(box.size, 4);
    box.confirm(s1);
    assert.equal(box.size, 2);
    assert.equal(box.inFlight, 1);
    assert.equal(box.queued, 1);
  });

  it("re-publishes what was unconfirmed after a rewind, in order, skipping out-of-order confirms", () => {
    const box = new Outbox<number>(10);
    for (let i = 1; i <= 5; i++) box.push(i);
    const slots = [box.take()!, box.take()!, box.take()!, box.take()!];
    box.confirm(slots[0]!);
    box.confirm(slots[2]!);
    box.rewind();
    const again: number[] = [];
    for (let s = box.take(); s; s = box.take()) again.push(s.item);
    assert.deepEqual(again, [2, 4, 5]);
  });

  it("drops the oldest queued entry when full, never an in-flight one, and counts it", () => {
    const dropped: number[] = [];
    const box = new Outbox<number>(3, (n) => dropped.push(n));
    box.push(1);
    box.push(2);
    box.push(3);
    box.take();
    assert.equal(box.push(4), true);
    assert.deepEqual(dropped, [2]);
    box.take();
    box.take();
    assert.equal(box.push(5), false);
    assert.deepEqual(dropped, [2, 5]);
    assert.equal(box.dropped, 2);
  });

  it("stays correct across compaction", () => {
    const box = new Outbox<number>(5000);
    const seen: number[] = [];
    for (let i = 0; i < 4000; i++) box.push(i);
    for (let s = box.take(); s; s = box.take()) {
      seen.push(s.item);
      box.confirm(s);
    }
    assert.equal(seen.length, 4000);
    assert.equal(box.size, 0);
    box.push(9);
    assert.equal(box.take()!.item, 9);
  });
});
