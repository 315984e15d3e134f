import { test } from "node:test";
import assert from "node:assert/strict";
import {
  escapeText,
  fileLines,
  formatHeader,
  parseHeader,
  parseRow,
  splitFields,
  unescapeText,
} from "../../../src/store/dbtext-table.js";

const OPENSIPS_HEADER =
  "id(int,auto) registrar(string) proxy(string,null) aor(string) third_party_registrant(string,null) username(string,null) password(string,null) binding_URI(string) binding_params(string,null) expiry(int,null) forced_socket(string,null) cluster_shtag(string,null) state(int)";

test("OpenSIPS's registrant header parses and prints back identically", () => {
  const h = parseHeader(OPENSIPS_HEADER);
  assert.ok(h.ok);
  if (!h.ok) return;
  assert.equal(h.value.length, 13);
  assert.deepEqual(h.value[0], { name: "id", type: "int", nullable: false, auto: true });
  assert.deepEqual(h.value[2], { name: "proxy", type: "string", nullable: true, auto: false });
  assert.equal(formatHeader(h.value), OPENSIPS_HEADER);
});

test("header: types by first letter, trailing space tolerated, errors named", () => {
  const h = parseHeader("a(str) b(int,null) c(double) d(long) ");
  assert.ok(h.ok);
  if (h.ok)
    assert.deepEqual(
      h.value.map((c) => c.type),
      ["str", "int", "double", "long"],
    );
  assert.equal(parseHeader("a(xyz)").ok, false);
  assert.equal(parseHeader("a(str,auto)").ok, false);
  assert.equal(parseHeader("a").ok, false);
});

test("rows: empty field is NULL, escapes decoded, integers checked", () => {
  const h = parseHeader("id(int,auto) s(str,null) n(int,null)");
  assert.ok(h.ok);
  if (!h.ok) return;
  const r = parseRow("7:a\\:b\\\\c\\n\\t:", h.value);
  assert.ok(r.ok);
  if (r.ok) assert.deepEqual(r.value.values, [7, "a:b\\c\n\t", null]);
  const neg = parseRow("1::-5", h.value);
  assert.ok(neg.ok && neg.value.values[2] === -5);
  assert.match((parseRow("1:x:abc", h.value) as { error: string }).error, /column n: "abc" is not an integer/);
  assert.match((parseRow("1:x", h.value) as { error: string }).error, /2 fields, the header declares 3/);
  assert.match((parseRow("1:\\q:", h.value) as { error: string }).error, /bad escape/);
});

test("escape and unescape are inverse; ':' splitting respects escapes", () => {
  const s = 'sip:a@b;x="1:2"\\\n\r\t\0end';
  const e = escapeText(s);
  assert.equal(splitFields(`${e}:${e}`).length, 2);
  assert.deepEqual(unescapeText(e), { ok: true, value: s });
});

test("fileLines keeps empty lines (for line numbers) and drops CR", () => {
  assert.deepEqual(fileLines("h\r\na\n\nb\n"), ["h", "a", "", "b"]);
  assert.deepEqual(fileLines(""), []);
});
