import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { newDialogIds } from "../../../src/registrant/dialog-ids.js";

test("Call-ID is the first 27 hex digits of MD5(aor, rand, now), From-tag the last 5", () => {
  const ids = newDialogIds(" sip:alice@example.test ", 1700000000, () => 12345);
  const hex = createHash("md5")
    .update("sip:alice@example.test" + "12345" + "1700000000")
    .digest("hex");
  assert.equal(ids.callId, hex.slice(0, 27));
  assert.equal(ids.fromTag, hex.slice(27));
  assert.match(ids.callId, /^[0-9a-f]{27}$/);
  assert.match(ids.fromTag, /^[0-9a-f]{5}$/);
});

test("two records with the same AOR at the same second get different ids (OpenSIPS #2375)", () => {
  const a = newDialogIds("sip:a@x", 1, () => 1);
  const b = newDialogIds("sip:a@x", 1, () => 2);
  assert.notEqual(a.callId, b.callId);
});
