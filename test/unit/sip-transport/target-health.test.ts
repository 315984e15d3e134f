import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../../../src/clock.js";
import type { Target } from "../../../src/sip/transport/locate.js";
import { TargetHealth } from "../../../src/sip/transport/target-health.js";

const t = (port: number): Target => ({ transport: "udp", address: "192.0.2.1", port, family: 4, hostname: "reg.test" });

describe("TargetHealth", () => {
  it("moves a failed target to the end for holdMs, then restores DNS order", () => {
    const clock = new ManualClock();
    const h = new TargetHealth(30_000, clock);
    const list = [t(1), t(2), t(3)];
    h.markFailed(t(1));
    assert.deepEqual(
      h.order(list).map((x) => x.port),
      [2, 3, 1],
    );
    clock.advance(29_999);
    assert.deepEqual(
      h.order(list).map((x) => x.port),
      [2, 3, 1],
    );
    clock.advance(1);
    assert.deepEqual(
      h.order(list).map((x) => x.port),
      [1, 2, 3],
    );
  });

  it("a target that answers is forgotten at once; all failed still leaves every target to try", () => {
    const h = new TargetHealth(30_000, new ManualClock());
    h.markFailed(t(1));
    h.markFailed(t(2));
    assert.deepEqual(
      h.order([t(1), t(2)]).map((x) => x.port),
      [1, 2],
    );
    h.markOk(t(1));
    assert.equal(h.isFailed(t(1)), false);
    assert.equal(h.isFailed(t(2)), true);
  });

  it("with nothing failed the DNS order stands; markOk of a healthy target changes nothing", () => {
    const h = new TargetHealth(30_000, new ManualClock());
    const list = [t(3), t(1), t(2)];
    h.markOk(t(3));
    assert.deepEqual(
      h.order(list).map((x) => x.port),
      [3, 1, 2],
    );
    h.markFailed(t(3));
    h.markOk(t(1));
    assert.equal(h.isFailed(t(3)), true);
  });
});
