import { test } from "node:test";
import assert from "node:assert/strict";
import { checkRow, contactParamNames, rowChecker } from "../../../src/registrant/row-check.js";
import type { RowCheckContext } from "../../../src/registrant/row-check.js";
import type { RegistrantRow } from "../../../src/registrant/record-spec.js";

const ctx: RowCheckContext = {
  timerInterval: 100,
  defaultExpires: 3600,
  hasSocket: (s) => s === "udp:127.0.0.1:5060",
};

const GOOD: RegistrantRow = {
  id: "7",
  registrar: "sip:registrar.example.com",
  proxy: null,
  aor: "sip:alice@example.com",
  third_party_registrant: null,
  username: null,
  password: null,
  binding_URI: "sip:alice@192.0.2.10:5060",
  binding_params: null,
  expiry: 3600,
  forced_socket: null,
  cluster_shtag: null,
  state: 0,
};

function rejected(over: Partial<RegistrantRow>, c: RowCheckContext = ctx): { column: string; reason: string } {
  const r = checkRow({ ...GOOD, ...over }, c);
  assert.equal(r.ok, false, `expected a rejection for ${JSON.stringify(over)}`);
  if (r.ok) return { column: "", reason: "" };
  assert.equal(r.error.code, "DB_ROW_INVALID");
  assert.equal(r.error.rowId, "7");
  assert.equal(r.error.message, `row id=7: column ${r.error.column}: ${r.error.reason}`);
  return { column: r.error.column, reason: r.error.reason };
}

test("a minimal row gives the RecordSpec the engine builds from", () => {
  assert.deepEqual(checkRow(GOOD, ctx), {
    ok: true,
    spec: {
      aor: "sip:alice@example.com",
      contact: "sip:alice@192.0.2.10:5060",
      registrar: "sip:registrar.example.com",
      expirySec: 3600,
      enabled: true,
      uniqueBinding: false,
    },
  });
});

test("a full row keeps every optional value; empty strings mean unset", () => {
  const r = checkRow(
    {
      ...GOOD,
      proxy: "sip:proxy.example.com;lr",
      third_party_registrant: "sip:admin@example.com",
      username: "alice",
      password: "0xabcdef",
      binding_params: ';reg-id=1;+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>"',
      expiry: "600",
      forced_socket: "udp:127.0.0.1:5060",
      cluster_shtag: " vip / 2 ",
      state: 1,
    },
    ctx,
  );
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.deepEqual(r.spec, {
    aor: "sip:alice@example.com",
    contact: "sip:alice@192.0.2.10:5060",
    registrar: "sip:registrar.example.com",
    proxy: "sip:proxy.example.com;lr",
    thirdPartyRegistrant: "sip:admin@example.com",
    username: "alice",
    password: "0xabcdef",
    bindingParams: ';reg-id=1;+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>"',
    expirySec: 600,
    forcedSocket: "udp:127.0.0.1:5060",
    shtag: { tag: "vip", clusterId: 2 },
    enabled: false,
    uniqueBinding: true,
  });
  const empties = checkRow(
    {
      ...GOOD,
      proxy: "",
      third_party_registrant: "",
      username: "",
      password: "",
      binding_params: "",
      forced_socket: "",
      cluster_shtag: "",
    },
    ctx,
  );
  assert.deepEqual(empties, checkRow(GOOD, ctx));
});

test("each bad value is refused with OpenSIPS's text, naming the column", () => {
  const nullText = "columns [registrar] or/and [aor] or/and [binding_URI] cannot be null -> skipping";
  const cases: [Partial<RegistrantRow>, string, string][] = [
    [{ registrar: null }, "registrar", nullText],
    [{ aor: null }, "aor", nullText],
    [{ binding_URI: null }, "binding_URI", nullText],
    [{ registrar: "" }, "registrar", "cannot parse registrar uri []"],
    [{ registrar: "registrar.example.com" }, "registrar", "cannot parse registrar uri [registrar.example.com]"],
    [{ registrar: "sip:bob@registrar.example.com" }, "registrar", "registrant uri must not have user [bob]"],
    [{ proxy: "sip:pro xy" }, "proxy", "cannot parse proxy uri [sip:pro xy]"],
    [{ proxy: "sip:carol@proxy.example.com" }, "proxy", "proxy uri must not have user [carol]"],
    [{ aor: "alice@example.com" }, "aor", "cannot parse aor uri [alice@example.com]"],
    [
      { third_party_registrant: "http://example.com" },
      "third_party_registrant",
      "cannot parse third party registrant uri [http://example.com]",
    ],
    [{ binding_URI: "sip:" }, "binding_URI", "cannot parse contact uri [sip:]"],
    [{ binding_params: ";transport=tcp;" }, "binding_params", "Bogus params [;transport=tcp;]"],
    [{ binding_params: ";expires=" }, "binding_params", "Bogus params [;expires=]"],
    [{ binding_params: ';x="open' }, "binding_params", 'Bogus params [;x="open]'],
    [{ binding_params: ";a=b c" }, "binding_params", "Bogus params [;a=b c]"],
    [{ binding_params: "reg-id=1" }, "binding_params", "Bogus params [reg-id=1]"],
    [
      { expiry: 100 },
      "expiry",
      "Please decrease timer_interval=[100] - requested expires=[100] to small for AOR=[sip:alice@example.com]",
    ],
    [
      { expiry: 0 },
      "expiry",
      "Please decrease timer_interval=[100] - requested expires=[0] to small for AOR=[sip:alice@example.com]",
    ],
    [{ expiry: "soon" }, "expiry", "invalid expiry [soon]"],
    [{ forced_socket: "udp:10.9.9.9:5060" }, "forced_socket", "invalid forced socket [udp:10.9.9.9:5060]"],
    [{ cluster_shtag: "vip" }, "cluster_shtag", "Bad naming for sharing tag <vip>, <name/cluster_id> expected"],
    [{ cluster_shtag: "vip/one" }, "cluster_shtag", "Invalid cluster id <one> for sharing tag <vip>"],
    [{ cluster_shtag: "vip/-1" }, "cluster_shtag", "Invalid cluster id <-1> for sharing tag <vip>"],
    [{ cluster_shtag: "vip/" }, "cluster_shtag", "Invalid cluster id <> for sharing tag <vip>"],
    [{ state: "on" }, "state", "invalid state [on]"],
  ];
  for (const [over, column, reason] of cases) {
    assert.deepEqual(rejected(over), { column, reason }, JSON.stringify(over));
  }
});

test("checks run in OpenSIPS's order: the first failing column is reported", () => {
  assert.equal(rejected({ registrar: "x", aor: "y", expiry: 1, cluster_shtag: "bad" }).column, "registrar");
  assert.equal(rejected({ aor: "y", binding_URI: "z", expiry: 1 }).column, "aor");
  assert.equal(rejected({ binding_params: ";", expiry: 1 }).column, "binding_params");
  assert.equal(rejected({ expiry: 1, forced_socket: "tcp:1.2.3.4" }).column, "expiry");
  assert.equal(rejected({ forced_socket: "tcp:1.2.3.4", cluster_shtag: "bad" }).column, "forced_socket");
});

test("NULL expiry takes default_expires (OpenSIPS rejects it); a given value must exceed timer_interval", () => {
  const r = checkRow({ ...GOOD, expiry: null }, { ...ctx, defaultExpires: 1800 });
  assert.ok(r.ok && r.spec.expirySec === 1800);
  const tight = checkRow({ ...GOOD, expiry: 101 }, ctx);
  assert.ok(tight.ok && tight.spec.expirySec === 101);
  const ti = rejected({ expiry: 300 }, { ...ctx, timerInterval: 300 });
  assert.match(ti.reason, /timer_interval=\[300\] - requested expires=\[300\]/);
});

test("the unique-binding flag belongs to its row only (no carry-over, reference §11.2)", () => {
  const rows: RegistrantRow[] = [
    { ...GOOD, id: "1", binding_params: ';reg-id=1;+sip.instance="<urn:uuid:1>"' },
    { ...GOOD, id: "2", binding_params: ";transport=tcp" },
    { ...GOOD, id: "3", binding_params: ';+sip.instance="<urn:uuid:3>"' },
    { ...GOOD, id: "4", binding_params: ";reg-idx=2;+sip.instancex=1" },
  ];
  const flags = rows.map((row) => {
    const r = checkRow(row, ctx);
    assert.ok(r.ok);
    return r.ok && r.spec.uniqueBinding;
  });
  // prefix match as OpenSIPS (reg-idx counts), but nothing leaks from row 1 to rows 2 and 3
  assert.deepEqual(flags, [true, false, false, true]);
});

test("state: 0 enabled, anything else disabled, NULL reads as 0", () => {
  const enabled = (state: RegistrantRow["state"]): boolean => {
    const r = checkRow({ ...GOOD, state }, ctx);
    assert.ok(r.ok);
    return r.ok && r.spec.enabled;
  };
  assert.deepEqual(
    [enabled(0), enabled(1), enabled(5), enabled(-1), enabled(null), enabled("0"), enabled("1")],
    [true, false, false, false, true, true, false],
  );
});

test("sharing tags: name/digits, trimmed, cluster id 0 allowed", () => {
  const shtag = (text: string) => {
    const r = checkRow({ ...GOOD, cluster_shtag: text }, ctx);
    return r.ok ? r.spec.shtag : r.error.reason;
  };
  assert.deepEqual(shtag("vip/0"), { tag: "vip", clusterId: 0 });
  assert.deepEqual(shtag("\tvip\t/ 12 "), { tag: "vip", clusterId: 12 });
  assert.equal(shtag("vip/99999999999"), "Invalid cluster id <99999999999> for sharing tag <vip>");
});

test("messages use the configured column names", () => {
  const named: RowCheckContext = { ...ctx, columnName: (c) => (c === "binding_URI" ? "contact" : `${c}_col`) };
  assert.deepEqual(rejected({ binding_URI: null }, named), {
    column: "contact",
    reason: "columns [registrar_col] or/and [aor_col] or/and [contact] cannot be null -> skipping",
  });
});

test("a load's checker gives checkRow's verdicts, whether a column's texts repeat or keep being new", () => {
  const check = rowChecker(ctx);
  const variants: Partial<RegistrantRow>[] = [
    {},
    { registrar: "sip:user@registrar.example.com" },
    { registrar: "not a uri" },
    { proxy: "sip:proxy.example.com;lr" },
    { proxy: "sip:p@proxy.example.com" },
    { third_party_registrant: "bogus" },
    { binding_params: ';reg-id=1;+sip.instance="<urn:uuid:1>"' },
    { binding_params: "reg-id=1" },
    { forced_socket: "udp:127.0.0.1:5060" },
    { forced_socket: "udp:127.0.0.1:9" },
    { cluster_shtag: "vip/1" },
    { cluster_shtag: "vip/x" },
  ];
  // 3,000 rows: the repeating columns come back every 12 rows, the usernames are all new (past the memo's bound)
  for (let i = 0; i < 3_000; i++) {
    const row: RegistrantRow = {
      ...GOOD,
      id: String(i),
      aor: `sip:u${i}@example.com`,
      username: `u${i}`,
      password: "shared",
      ...variants[i % variants.length],
    };
    assert.deepEqual(check(row), checkRow(row, ctx), `row ${i}`);
  }
});

test("contactParamNames follows OpenSIPS's parse_params", () => {
  assert.deepEqual(contactParamNames(';reg-id=1;+sip.instance="<urn:uuid:x>"'), ["", "reg-id", "+sip.instance"]);
  assert.deepEqual(contactParamNames(";a ; b = c;d"), ["", "a", "b", "d"]);
  assert.deepEqual(contactParamNames(';q="x\\"y";e'), ["", "q", "e"]);
  assert.deepEqual(contactParamNames(";a=b,junk"), ["", "a"]);
  assert.equal(contactParamNames(";a;"), undefined);
  assert.equal(contactParamNames(";a= "), undefined);
  assert.equal(contactParamNames(";a=;b"), undefined);
});
