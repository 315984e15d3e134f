import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { CALL_ID_LENGTH, newDialogHex } from "../../../src/registrant/dialog-ids.js";
import { RegistrantRecord } from "../../../src/registrant/record.js";

const spec = { aor: "sip:alice@example.test", contact: "sip:a@192.0.2.1", registrar: "sip:r.test" };

test("Call-ID is the first 27 hex digits of MD5(aor, rand, now), From-tag the last 5", () => {
  const rec = new RegistrantRecord({ ...spec, expirySec: 60, enabled: true, uniqueBinding: false }, 0);
  rec.setDialog(
    newDialogHex(" sip:alice@example.test ", 1700000000, () => 12345),
    CALL_ID_LENGTH,
  );
  const hex = createHash("md5")
    .update("sip:alice@example.test" + "12345" + "1700000000")
    .digest("hex");
  assert.equal(rec.callId, hex.slice(0, 27));
  assert.equal(rec.fromTag, hex.slice(27));
  assert.match(rec.callId, /^[0-9a-f]{27}$/);
  assert.match(rec.fromTag, /^[0-9a-f]{5}$/);
});

test("two records with the same AOR at the same second get different ids (OpenSIPS #2375)", () => {
  const a = newDialogHex("sip:a@x", 1, () => 1);
  const b = newDialogHex("sip:a@x", 1, () => 2);
  assert.notEqual(a.slice(0, CALL_ID_LENGTH), b.slice(0, CALL_ID_LENGTH));
});
