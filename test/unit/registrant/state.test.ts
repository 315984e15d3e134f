import { test } from "node:test";
import assert from "node:assert/strict";
import { RegState, stateName, isWaiting } from "../../../src/registrant/state.js";

test("state names and numbers are OpenSIPS's", () => {
  assert.equal(stateName(RegState.NOT_REGISTERED_STATE), "NOT_REGISTERED_STATE");
  assert.equal(stateName(9), "AUTHENTICATING_UNREGISTER_STATE");
  assert.equal(RegState.REGISTERED_STATE, 3);
  assert.equal(isWaiting(RegState.REGISTERING_STATE), true);
  assert.equal(isWaiting(RegState.REGISTERED_STATE), false);
});
