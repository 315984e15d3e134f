import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startEvents } from "../../../src/events/events-service.js";
import type { RegistrantEvent } from "../../../src/events/catalog.js";
import { silentLogger } from "../../../src/log.js";
import type { Coords } from "../../../src/registrant/coords.js";
import type { StateChange } from "../../../src/registrant/state-change.js";
import { RegState } from "../../../src/registrant/state.js";

const alice: Coords = {
  aor: "sip:alice@example.test",
  contact: "sip:alice@127.0.0.1:5080",
  registrar: "sip:127.0.0.1:5070",
};

/** a change that counts how often its coordinates are read: building an event reads them */
function watchedChange(to: StateChange["to"]): { change: StateChange; reads: () => number } {
  let reads = 0;
  const change: StateChange = {
    get coords() {
      reads++;
      return alice;
    },
    recordId: 1,
    from: RegState.NOT_REGISTERED_STATE,
    to,
    atMs: 1_700_000_000_000,
  };
  return { change, reads: () => reads };
}

describe("events service", () => {
  it("builds no event while nobody would get it, counts it raised, and delivers once someone listens", async () => {
    const events = await startEvents(
      {
        subscribe: [],
        outbox_size: 10,
        extended_params: false,
        websocket: { enabled: false, ip: "", port: 0, path: "" },
      },
      { log: silentLogger, snapshot: () => [] },
    );
    try {
      const unwanted = watchedChange(RegState.REGISTERED_STATE);
      events.onStateChange(unwanted.change);
      assert.equal(unwanted.reads(), 0);
      assert.equal(events.counters().raised, 1);

      const got: RegistrantEvent[] = [];
      const off = events.onEvent((ev) => got.push(ev));
      events.onStateChange(watchedChange(RegState.REGISTERED_STATE).change);
      assert.deepEqual(
        got.map((e) => e.body),
        [JSON.stringify({ jsonrpc: "2.0", method: "E_REGISTRANT_REGISTERED", params: alice })],
      );

      off();
      off();
      const again = watchedChange(RegState.REGISTERING_STATE);
      events.onStateChange(again.change);
      assert.equal(again.reads(), 0);
      assert.equal(got.length, 1);
      // NOT_REGISTERED has no event: not counted
      events.onStateChange(watchedChange(RegState.NOT_REGISTERED_STATE).change);
      assert.equal(events.counters().raised, 3);
    } finally {
      await events.close(100);
    }
  });
});
