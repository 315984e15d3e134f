import { test } from "node:test";
import assert from "node:assert/strict";
import { RowError } from "../../../src/errors.js";
import type { Coords } from "../../../src/registrant/coords.js";
import type { ReloadOneResult } from "../../../src/registrant/operations.js";
import { FakeRegistrantOps, buildMi } from "../../support/golden-mi.js";

/** reference §11.22: OpenSIPS answers "OK" for a DB row its checks refuse; we name the column and the reason. */
class InvalidRowOps extends FakeRegistrantOps {
  override reloadOne(_coords: Coords): Promise<ReloadOneResult> {
    return Promise.reject(new RowError("7", "registrar_column", "registrar has a user part"));
  }
}

test("reload of one record whose DB row fails the load checks answers an error naming the column", async () => {
  const { dispatcher } = buildMi(new InvalidRowOps([]));
  const out = await dispatcher.handle(
    JSON.stringify({
      jsonrpc: "2.0",
      method: "uac_registrant:reload",
      params: { aor: "sip:a@example.test", contact: "sip:a@127.0.0.1", registrar: "sip:127.0.0.1" },
      id: 3,
    }),
    "test",
  );
  assert.equal(out.kind, "reply");
  assert.deepEqual(JSON.parse(out.kind === "reply" ? out.text : "{}"), {
    jsonrpc: "2.0",
    error: {
      code: 400,
      message: "Invalid registrant in database",
      data: "row id=7: column registrar_column: registrar has a user part",
    },
    id: 3,
  });
});
