import { test } from "node:test";
import assert from "node:assert/strict";
import { parseDbUrl, redactDbUrl } from "../../../src/store/db-url.js";
import { ConfigError } from "../../../src/errors.js";

test("mysql URLs as OpenSIPS writes them", () => {
  assert.deepEqual(parseDbUrl("mysql://opensips:opensipsrw@localhost/opensips"), {
    kind: "mysql",
    user: "opensips",
    password: "opensipsrw",
    host: "localhost",
    port: 3306,
    database: "opensips",
  });
  assert.deepEqual(parseDbUrl("mysql://root@127.0.0.1:3307/db"), {
    kind: "mysql",
    user: "root",
    password: "",
    host: "127.0.0.1",
    port: 3307,
    database: "db",
  });
  const ipv6 = parseDbUrl("mysql://u:p@[::1]:3306/db");
  assert.equal(ipv6.kind === "mysql" && ipv6.host, "::1");
});

test("a password may contain @, / and : and is not percent-decoded", () => {
  const u = parseDbUrl("mysql://u:p@ss/w:rd%40@db.example.com/reg");
  assert.equal(u.kind, "mysql");
  if (u.kind !== "mysql") return;
  assert.equal(u.password, "p@ss/w:rd%40");
  assert.equal(u.host, "db.example.com");
  assert.equal(u.database, "reg");
});

test("text URLs: absolute, and relative to the base directory", () => {
  assert.deepEqual(parseDbUrl("text:///var/lib/registrantd"), { kind: "text", dir: "/var/lib/registrantd" });
  assert.deepEqual(parseDbUrl("text://dbtext", "/etc/opensips"), { kind: "text", dir: "/etc/opensips/dbtext" });
});

test("refused URLs name the problem and never show the password", () => {
  for (const bad of [
    "postgres://u:secret@h/db",
    "mysql://u:secret@h",
    "mysql://u:secret@h:99999/db",
    "mysql://u:secret@/db",
    "nourl",
  ]) {
    assert.throws(
      () => parseDbUrl(bad),
      (err: unknown) => err instanceof ConfigError && err.code === "CONFIG_INVALID" && !err.message.includes("secret"),
      bad,
    );
  }
});

test("redactDbUrl hides the password only", () => {
  assert.equal(redactDbUrl("mysql://u:secret@h:1/db"), "mysql://u:***@h:1/db");
  assert.equal(redactDbUrl("mysql://u@h/db"), "mysql://u@h/db");
  assert.equal(redactDbUrl("text:///x"), "text:///x");
});
