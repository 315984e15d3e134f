import { test } from "node:test";
import assert from "node:assert/strict";
import { checkTableVersion, columnLabeler, columnRefs, missingColumns } from "../../../src/store/columns.js";
import { StoreVersionError } from "../../../src/errors.js";
import type { ColumnNames } from "../../../src/config/config.js";

const DEFAULT_NAMES: ColumnNames = {
  registrar_column: "registrar",
  proxy_column: "proxy",
  aor_column: "aor",
  third_party_registrant_column: "third_party_registrant",
  username_column: "username",
  password_column: "password",
  binding_URI_column: "binding_URI",
  binding_params_column: "binding_params",
  expiry_column: "expiry",
  forced_socket_column: "forced_socket",
  cluster_shtag_column: "cluster_shtag",
  state_column: "state",
};

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
  const names = { ...DEFAULT_NAMES, binding_URI_column: "contact", state_column: "enabled_flag" };
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
