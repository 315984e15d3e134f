import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../../../src/clock.js";
import { TimerWheel } from "../../../src/sip/transaction/timer-wheel.js";

function wheel(clock: ManualClock, slots = 8) {
  return new TimerWheel({ clock, tickMs: 10, slots, autoDrive: false });
}

describe("TimerWheel", () => {
  it("fires no earlier than asked, at most one tick late", () => {
    const clock = new ManualClock();
    const w = wheel(clock);
    const fired: number[] = [];
    w.schedule(25, () => fired.push(clock.monoMs()));
    for (let t = 0; t < 50; t += 5) {
      clock.advance(5);
      w.runDue();
    }
    assert.equal(fired.length, 1);
    assert.ok(fired[0]! >= 25 && fired[0]! <= 35, String(fired[0]));
    assert.equal(w.size, 0);
  });

  it("handles delays longer than one revolution (rounds) in order", () => {
    const clock = new ManualClock();
    const w = wheel(clock, 4); // 40 ms per revolution
    const fired: string[] = [];
    w.schedule(130, () => fired.push("c"));
    w.schedule(30, () => fired.push("a"));
    w.schedule(90, () => fired.push("b"));
    for (let i = 0; i < 20; i++) {
      clock.advance(10);
      w.runDue();
    }
    assert.deepEqual(fired, ["a", "b", "c"]);
  });

  it("cancel is idempotent and keeps size right", () => {
    const clock = new ManualClock();
    const w = wheel(clock);
    let n = 0;
    const t = w.schedule(10, () => n++);
    w.schedule(10, () => n++);
    assert.equal(w.size, 2);
    t.cancel();
    t.cancel();
    assert.equal(w.size, 1);
    clock.advance(20);
    w.runDue();
    assert.equal(n, 1);
    assert.equal(w.size, 0);
  });

  it("runs a task's onTimer; a cancelled entry is held in its slot until the slot comes round", () => {
    const clock = new ManualClock();
    const w = wheel(clock, 8);
    const fired: number[] = [];
    const task = { onTimer: () => fired.push(clock.monoMs()) };
    w.scheduleTask(30, task);
    const cancelled = w.scheduleTask(50, task);
    cancelled.cancel();
    assert.equal(w.size, 1);
    assert.equal(w.held, 2);
    for (let i = 0; i < 4; i++) {
      clock.advance(10);
      w.runDue();
    }
    assert.deepEqual(fired, [30]);
    assert.equal(w.held, 1, "the cancelled entry waits for its slot");
    clock.advance(10);
    w.runDue();
    assert.equal(w.held, 0);
    assert.deepEqual(fired, [30]);
  });

  it("catches up after a stall without firing anything twice", () => {
    const clock = new ManualClock();
    const w = wheel(clock, 8);
    let fired = 0;
    for (let i = 1; i <= 100; i++) w.schedule(i * 7, () => fired++);
    clock.advance(10_000); // event loop blocked for 10 s
    assert.equal(w.runDue(), 100);
    clock.advance(10_000);
    assert.equal(w.runDue(), 0);
    assert.equal(fired, 100);
  });

  it("a timer scheduled from a callback runs on a later tick; a throwing callback does not stop the wheel", () => {
    const clock = new ManualClock();
    const errors: unknown[] = [];
    const w = new TimerWheel({ clock, tickMs: 10, slots: 8, autoDrive: false, onError: (e) => errors.push(e) });
    const order: string[] = [];
    w.schedule(10, () => {
      order.push("first");
      w.schedule(0, () => order.push("chained"));
      throw new Error("boom");
    });
    w.schedule(10, () => order.push("second"));
    clock.advance(10);
    w.runDue();
    assert.deepEqual(order, ["first", "second"]);
    clock.advance(10);
    w.runDue();
    assert.deepEqual(order, ["first", "second", "chained"]);
    assert.equal(errors.length, 1);
  });

  it("drives itself with one Node timer and stops when idle", async () => {
    const w = new TimerWheel({ tickMs: 5 });
    const done = await new Promise<boolean>((resolve) => {
      w.schedule(20, () => resolve(true));
    });
    assert.ok(done);
    assert.equal(w.size, 0);
    w.close();
  });
});
