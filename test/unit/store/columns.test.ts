import { test } from "node:test";
import assert from "node:assert/strict";
import { checkTableVersion, columnLabeler, columnRefs, missingColumns } from "../../../src/store/columns.js";
import { StoreVersionError } from "../../../src/errors.js";
import { DEFAULT_CONFIG } from "../../../src/config/defaults.js";

function versionError(table: string, versions: unknown[]): string {
  try {
    checkTableVersion(table, versions);
  } catch (err) {
    assert.ok(err instanceof StoreVersionError);
    assert.equal(err.code, "STORE_VERSION");
    return err.message;
  }
  return "";
}

test("version check uses OpenSIPS's messages", () => {
  assert.equal(versionError("registrant", [3]), "");
  assert.equal(versionError("registrant", ["3"]), "");
  assert.equal(versionError("registrant", [3n]), "");
  assert.equal(versionError("registrant", []), "'registrant' record not found in 'version' table, expected ver 3");
  assert.equal(versionError("reg2", [2]), "invalid version 2 for table reg2 found, expected 3");
  assert.match(versionError("registrant", [3, 3]), /2 records/);
  assert.match(versionError("registrant", [null]), /invalid version value null/);
  assert.match(versionError("registrant", ["x"]), /invalid version value x/);
});

test("column refs follow the modparams; missing ones name the modparam", () => {
  const names = { ...DEFAULT_CONFIG, binding_URI_column: "contact", state_column: "enabled_flag" };
  const refs = columnRefs(names);
  assert.equal(refs.length, 12);
  assert.deepEqual(refs[6], { column: "binding_URI", name: "contact", modparam: "binding_URI_column" });
  const table = ["id", "REGISTRAR", "proxy", "aor", "third_party_registrant", "username", "password", "contact"];
  assert.deepEqual(missingColumns(refs, table), [
    "binding_params (binding_params_column)",
    "expiry (expiry_column)",
    "forced_socket (forced_socket_column)",
    "cluster_shtag (cluster_shtag_column)",
    "enabled_flag (state_column)",
  ]);
  assert.equal(columnLabeler(names)("binding_URI"), "contact");
});
