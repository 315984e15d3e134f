import { test } from "node:test";
import assert from "node:assert/strict";
import { RegistrationTracker, TimesById } from "../../../src/metrics/registration-tracker.js";
import { RegState } from "../../../src/registrant/state.js";
import type { RegStateValue } from "../../../src/registrant/state.js";
import type { StateChange } from "../../../src/registrant/state-change.js";

const { NOT_REGISTERED_STATE, REGISTERING_STATE, AUTHENTICATING_STATE, REGISTERED_STATE } = RegState;

function change(recordId: number, to: RegStateValue, atMs: number, registrar = "sip:r.test"): StateChange {
  return {
    coords: { aor: `sip:u${recordId}@x.test`, contact: `sip:u${recordId}@192.0.2.1`, registrar },
    recordId,
    from: NOT_REGISTERED_STATE,
    to,
    atMs,
  };
}

test("TimesById: a time per id, kept until taken; the first one stays; none is NaN", () => {
  const times = new TimesById();
  // ids on both sides of page boundaries, and a time of 0 (a test clock's epoch) is a time
  for (const id of [0, 1, 1023, 1024, 2047, 5_000_000]) {
    assert.ok(Number.isNaN(times.get(id)));
    times.setIfAbsent(id, id === 1 ? 0 : id * 10);
    times.setIfAbsent(id, 42);
  }
  assert.equal(times.get(1), 0);
  assert.equal(times.get(1024), 10240);
  assert.equal(times.take(1024), 10240);
  assert.ok(Number.isNaN(times.take(1024)));
  assert.ok(Number.isNaN(times.get(1024)));
  assert.equal(times.get(1023), 10230);
  assert.equal(times.take(1), 0);
  assert.ok(Number.isNaN(times.take(3)));
  assert.ok(Number.isNaN(times.take(9_999_999)));
});

test("TimesById: pages emptied and filled again (a storm, then refreshes) keep every time apart", () => {
  const times = new TimesById();
  for (let round = 0; round < 3; round++) {
    for (let id = 1; id <= 50_000; id++) times.setIfAbsent(id, round * 1e6 + id);
    for (let id = 50_000; id >= 1; id--) assert.equal(times.take(id), round * 1e6 + id);
    for (let id = 1; id <= 50_000; id += 997) assert.ok(Number.isNaN(times.get(id)));
  }
});

test("RegistrationTracker: latency from the first REGISTERING through challenges and retries to REGISTERED", () => {
  const seen: number[] = [];
  const tracker = new RegistrationTracker(10, (s) => seen.push(s));
  tracker.onStateChange(change(7, REGISTERING_STATE, 1_000));
  tracker.onStateChange(change(7, AUTHENTICATING_STATE, 1_200));
  tracker.onStateChange(change(7, REGISTERING_STATE, 1_300)); // a 423 retry keeps the first start
  tracker.onStateChange(change(7, REGISTERED_STATE, 3_500));
  assert.deepEqual(seen, [2.5]);
  // a refresh without a start seen (e.g. resumed) counts no latency but a success
  tracker.onStateChange(change(7, REGISTERED_STATE, 4_000));
  assert.deepEqual(seen, [2.5]);
  // an error in between forgets the start
  tracker.onStateChange(change(8, REGISTERING_STATE, 5_000));
  tracker.onStateChange(change(8, RegState.REGISTER_TIMEOUT_STATE, 6_000));
  tracker.onStateChange(change(8, REGISTERED_STATE, 7_000));
  // so does the record's removal
  tracker.onStateChange(change(9, REGISTERING_STATE, 5_000));
  tracker.onTableChange({ kind: "removed", coords: change(9, REGISTERING_STATE, 0).coords, recordId: 9 });
  tracker.onStateChange(change(9, REGISTERED_STATE, 8_000));
  assert.deepEqual(seen, [2.5]);
});

test("RegistrationTracker: last success per registrar, capped labels, registrars taking turns", () => {
  const tracker = new RegistrationTracker(2, () => {});
  const ok = (id: number, registrar: string, atMs: number) =>
    tracker.onStateChange(change(id, REGISTERED_STATE, atMs, registrar));
  ok(1, "sip:a.test", 100);
  ok(2, "sip:b.test", 200);
  ok(3, "sip:c.test", 300); // over the cap: "other"
  ok(4, "sip:a.test", 400);
  ok(5, "sip:a.test", 350); // an older time does not go back
  ok(6, "sip:d.test", 250);
  ok(7, "sip:b.test", 500);
  ok(8, "sip:c.test", 260);
  assert.deepEqual([...tracker.lastSuccess()].sort(), [
    ["other", 300],
    ["sip:a.test", 400],
    ["sip:b.test", 500],
  ]);
});
