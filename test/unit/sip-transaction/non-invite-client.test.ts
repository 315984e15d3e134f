import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../../../src/clock.js";
import { TransportError } from "../../../src/errors.js";
import type { SipResponse } from "../../../src/sip/message.js";
import { NictState, NonInviteClientTransaction } from "../../../src/sip/transaction/non-invite-client.js";
import type { NictOutcome } from "../../../src/sip/transaction/non-invite-client.js";
import { TimerWheel } from "../../../src/sip/transaction/timer-wheel.js";
import { RFC_TIMERS } from "../../../src/sip/transaction/timers.js";

function response(status: number): SipResponse {
  return { kind: "response", status, reason: "x", headers: [], body: Buffer.alloc(0) };
}

function setup(reliable: boolean, timerF = 5_000, ownerAbsorbsRetransmissions = false) {
  const clock = new ManualClock();
  const wheel = new TimerWheel({ clock, tickMs: 10, slots: 256, autoDrive: false });
  const sends: number[] = [];
  const outcomes: NictOutcome[] = [];
  let terminated = 0;
  const txn = new NonInviteClientTransaction(
    Buffer.from("REGISTER"),
    { reliable, send: () => sends.push(clock.monoMs()) },
    { ...RFC_TIMERS, timerF },
    wheel,
    { onOutcome: (o) => outcomes.push(o), onTerminated: () => terminated++, ownerAbsorbsRetransmissions },
  );
  const run = (ms: number) => {
    for (let t = 0; t < ms; t += 10) {
      clock.advance(10);
      wheel.runDue();
    }
  };
  return { clock, wheel, txn, sends, outcomes, run, terminated: () => terminated };
}

describe("NonInviteClientTransaction (RFC 3261 §17.1.2)", () => {
  it("UDP silence: Timer E doubles from T1 to T2, Timer F (fr_timeout) ends it with one timeout", () => {
    const s = setup(false, 30_000);
    s.txn.start();
    s.run(31_000);
    // OpenSIPS / RFC pattern: 0, 0.5, 1.5, 3.5, 7.5, then every 4 s until 30 s
    assert.deepEqual(
      s.sends.map((t) => Math.round(t / 100) / 10),
      [0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5],
    );
    assert.deepEqual(s.outcomes, [{ kind: "timeout" }]);
    assert.equal(s.txn.state, NictState.Terminated);
    assert.equal(s.terminated(), 1);
    assert.equal(s.wheel.size, 0);
  });

  it("golden no-answer trace: fr_timeout 5 s gives 4 transmissions", () => {
    const s = setup(false, 5_000);
    s.txn.start();
    s.run(6_000);
    assert.equal(s.sends.length, 4);
    assert.equal(s.outcomes[0]?.kind, "timeout");
  });

  it("1xx moves to Proceeding: retransmissions at T2 pace, Timer F not restarted", () => {
    const s = setup(false, 30_000);
    s.txn.start();
    s.run(600); // sends at 0 and 0.5
    s.txn.receiveResponse(response(100));
    assert.equal(s.txn.state, NictState.Proceeding);
    s.run(31_000);
    // the Timer E already running fires at 1.5 s; every later one is T2 apart
    const gaps = s.sends.slice(3).map((t, i) => t - s.sends[i + 2]!);
    assert.ok(
      gaps.every((g) => g >= 4_000 && g <= 4_020),
      JSON.stringify(gaps),
    );
    assert.deepEqual(s.outcomes, [{ kind: "timeout" }]);
    assert.ok(s.clock.monoMs() >= 30_000);
  });

  it("final response: TU told once, Completed absorbs duplicates until Timer K (T4), no more sends", () => {
    const s = setup(false);
    s.txn.start();
    s.txn.receiveResponse(response(401));
    s.txn.receiveResponse(response(401));
    s.txn.receiveResponse(response(200));
    assert.equal(s.outcomes.length, 1);
    assert.equal(s.outcomes[0]?.kind, "response");
    assert.equal(s.txn.state, NictState.Completed);
    s.run(4_900);
    assert.equal(s.txn.state, NictState.Completed);
    s.run(200);
    assert.equal(s.txn.state, NictState.Terminated);
    assert.equal(s.sends.length, 1);
    assert.equal(s.wheel.size, 0);
  });

  it("an owner that absorbs retransmissions itself: Terminated at the final response, no Timer K kept", () => {
    const s = setup(false, 5_000, true);
    s.txn.start();
    s.txn.receiveResponse(response(200));
    assert.equal(s.outcomes.length, 1);
    assert.equal(s.txn.state, NictState.Terminated);
    assert.equal(s.terminated(), 1);
    assert.equal(s.wheel.size, 0);
    s.txn.receiveResponse(response(200));
    assert.equal(s.outcomes.length, 1);
  });

  it("TCP: no retransmissions, Timer K = 0, timeout still at Timer F", () => {
    const s = setup(true, 2_000);
    s.txn.start();
    s.run(2_100);
    assert.equal(s.sends.length, 1);
    assert.equal(s.outcomes[0]?.kind, "timeout");
    const r = setup(true);
    r.txn.start();
    r.txn.receiveResponse(response(200));
    assert.equal(r.txn.state, NictState.Terminated);
  });

  it("transport error: TU told at once, later events ignored", () => {
    const s = setup(true);
    s.txn.start();
    s.txn.transportError(new TransportError("reset"));
    s.txn.receiveResponse(response(200));
    s.run(10_000);
    assert.equal(s.outcomes.length, 1);
    assert.equal(s.outcomes[0]?.kind, "transport-error");
  });

  describe("Timers E and F share one wheel entry", () => {
    it("RFC timers over UDP: E at T1, 2T1, 4T1... capped at T2, F at 64*T1, one entry in the wheel throughout", () => {
      const s = setup(false, 64 * RFC_TIMERS.t1);
      s.txn.start();
      let mostHeld = s.wheel.held;
      for (let t = 0; t < 33_000; t += 10) {
        s.run(10);
        mostHeld = Math.max(mostHeld, s.wheel.held);
      }
      assert.deepEqual(
        s.sends.map((t) => Math.round(t / 10) * 10),
        [0, 500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500],
      );
      assert.deepEqual(s.outcomes, [{ kind: "timeout" }]);
      assert.equal(mostHeld, 1);
      assert.equal(s.wheel.held, 0);
    });

    it("Timer F fires at its deadline, not one tick early or late, after retransmissions", () => {
      const s = setup(false, 32_000);
      s.txn.start();
      s.run(31_990);
      assert.equal(s.outcomes.length, 0);
      s.run(10);
      assert.deepEqual(s.outcomes, [{ kind: "timeout" }]);
    });

    it("Timer F wins when Timer E is due at the same time: no retransmission with the timeout", () => {
      const s = setup(false, 1_500); // E at 0.5 s, then 1.5 s = Timer F
      s.txn.start();
      s.run(2_000);
      assert.deepEqual(s.sends, [0, 500]);
      assert.deepEqual(s.outcomes, [{ kind: "timeout" }]);
    });

    it("a final response cancels the entry; it leaves the wheel at the next Timer E, not at Timer F", () => {
      const s = setup(false, 32_000, true);
      s.txn.start();
      s.run(100);
      s.txn.receiveResponse(response(200));
      assert.equal(s.wheel.size, 0);
      assert.equal(s.wheel.held, 1);
      s.run(400); // Timer E's slot (T1) has come round
      assert.equal(s.wheel.held, 0);
      s.run(40_000);
      assert.equal(s.sends.length, 1);
      assert.equal(s.outcomes.length, 1);
    });

    it("after a provisional response Timer E goes on at T2 with the same single entry until Timer F", () => {
      const s = setup(false, 20_000);
      s.txn.start();
      s.run(100);
      s.txn.receiveResponse(response(180));
      let mostHeld = 0;
      for (let t = 0; t < 21_000; t += 10) {
        s.run(10);
        mostHeld = Math.max(mostHeld, s.wheel.held);
      }
      assert.deepEqual(
        s.sends.map((t) => Math.round(t / 10) * 10),
        [0, 500, 4_500, 8_500, 12_500, 16_500],
      );
      assert.deepEqual(s.outcomes, [{ kind: "timeout" }]);
      assert.equal(mostHeld, 1);
    });

    it("TCP: no Timer E; the one entry is Timer F's", () => {
      const s = setup(true, 32_000);
      s.txn.start();
      assert.equal(s.wheel.held, 1);
      s.run(31_990);
      assert.equal(s.sends.length, 1);
      assert.equal(s.outcomes.length, 0);
      s.run(10);
      assert.deepEqual(s.outcomes, [{ kind: "timeout" }]);
      assert.equal(s.wheel.held, 0);
    });

    it("a transport error cancels the entry: no retransmission and no timeout follow", () => {
      const s = setup(false, 5_000);
      s.txn.start();
      s.run(600);
      s.txn.transportError(new TransportError("unreachable"));
      s.run(10_000);
      assert.equal(s.sends.length, 2);
      assert.deepEqual(
        s.outcomes.map((o) => o.kind),
        ["transport-error"],
      );
      assert.equal(s.wheel.held, 0);
    });

    it("2,000 transactions with random answers on one wheel: every one ends once, on time, and the wheel empties", () => {
      const clock = new ManualClock();
      const wheel = new TimerWheel({ clock, tickMs: 10, slots: 64, autoDrive: false });
      const timers = { ...RFC_TIMERS, timerF: 32_000 };
      let seed = 8;
      const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
      interface Run {
        startedMs: number;
        sends: number[];
        outcomes: [string, number][];
        finalAtMs: number | undefined;
        provisionalAtMs: number | undefined;
        reliable: boolean;
        txn?: NonInviteClientTransaction;
      }
      const runs: Run[] = [];
      const started = (r: Run): NonInviteClientTransaction =>
        new NonInviteClientTransaction(
          Buffer.from("REGISTER"),
          { reliable: r.reliable, send: () => r.sends.push(clock.monoMs() - r.startedMs) },
          timers,
          wheel,
          {
            onOutcome: (o) => r.outcomes.push([o.kind, clock.monoMs() - r.startedMs]),
            onTerminated: () => undefined,
            ownerAbsorbsRetransmissions: true,
          },
        );
      for (let ms = 0; ms < 60_000; ms += 10) {
        // one new transaction every 10 ms for 20 s
        if (ms < 20_000) {
          const fate = random();
          const r: Run = {
            startedMs: ms,
            sends: [],
            outcomes: [],
            reliable: random() < 0.2,
            finalAtMs: fate < 0.3 ? undefined : ms + Math.floor(random() * 40_000),
            provisionalAtMs: random() < 0.3 ? ms + Math.floor(random() * 10_000) : undefined,
          };
          r.txn = started(r);
          r.txn.start();
          runs.push(r);
        }
        clock.advance(10);
        const now = clock.monoMs();
        for (const r of runs) {
          if (r.provisionalAtMs !== undefined && r.provisionalAtMs < now && r.provisionalAtMs >= now - 10) {
            r.txn?.receiveResponse(response(100));
          }
          if (r.finalAtMs !== undefined && r.finalAtMs < now && r.finalAtMs >= now - 10) {
            r.txn?.receiveResponse(response(200));
          }
        }
        wheel.runDue();
      }
      for (const r of runs) {
        assert.equal(r.outcomes.length, 1, JSON.stringify(r));
        const [kind, atMs] = r.outcomes[0]!;
        const answeredBeforeF = r.finalAtMs !== undefined && r.finalAtMs - r.startedMs < 32_000;
        assert.equal(kind, answeredBeforeF ? "response" : "timeout", JSON.stringify(r));
        if (kind === "timeout") assert.ok(atMs >= 32_000 && atMs <= 32_010, JSON.stringify(r));
        // no send after the outcome; none but the first over TCP
        assert.ok(r.sends.every((t) => t <= atMs));
        if (r.reliable) assert.deepEqual(r.sends, [0]);
      }
      assert.equal(wheel.size, 0);
      assert.equal(wheel.held, 0);
    });
  });
});
