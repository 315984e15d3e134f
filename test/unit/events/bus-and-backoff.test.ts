import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { EventBus } from "../../../src/events/bus.js";
import { DEFAULT_BACKOFF, backoffDelay } from "../../../src/events/rabbitmq-sink.js";

describe("EventBus", () => {
  it("delivers in order to every listener, logs and skips one that throws", () => {
    const logged: string[] = [];
    const bus = new EventBus<number>(pino({ level: "error" }, { write: (s: string) => logged.push(s) }));
    const a: number[] = [];
    const b: number[] = [];
    bus.on((n) => a.push(n));
    const off = bus.on(() => {
      throw new Error("observer bug");
    });
    bus.on((n) => b.push(n));
    bus.emit(1);
    bus.emit(2);
    off();
    bus.emit(3);
    assert.deepEqual(a, [1, 2, 3]);
    assert.deepEqual(b, [1, 2, 3]);
    assert.equal(logged.length, 2);
    assert.match(logged[0]!, /observer bug/);
  });
});

describe("reconnect backoff", () => {
  it("doubles from 200 ms to a 10 s cap with ±20 % jitter", () => {
    assert.deepEqual(
      [1, 2, 3, 6, 7, 20].map((n) => backoffDelay(n, DEFAULT_BACKOFF, 0.5)),
      [200, 400, 800, 6400, 10_000, 10_000],
    );
    assert.ok(Math.abs(backoffDelay(1, DEFAULT_BACKOFF, 0) - 160) < 1e-6);
    assert.ok(Math.abs(backoffDelay(7, DEFAULT_BACKOFF, 1) - 12_000) < 1e-6);
  });
});
