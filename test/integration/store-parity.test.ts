import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_CONFIG } from "../../src/config/defaults.js";
import type { Config } from "../../src/config/config.js";
import { silentLogger } from "../../src/log.js";
import type { RegistrantRow } from "../../src/registrant/record-spec.js";
import { checkRows } from "../../src/registrant/row-check.js";
import type { RowCheckContext, RowColumn } from "../../src/registrant/row-check.js";
import { columnLabeler, ROW_COLUMNS } from "../../src/store/columns.js";
import { encodeValue } from "../../src/store/dbtext-table.js";
import { openStore } from "../../src/store/open-store.js";
import { loadAllRows } from "../../src/store/store.js";
import type { RegistrantStore } from "../../src/store/store.js";
import { createTestDatabase } from "../support/mariadb.js";
import type { TestDatabase } from "../support/mariadb.js";
import { cleanupsAfterAll } from "../support/cleanups.js";
import { CUSTOM_NAMES, captureLogger, createRegistrantTable } from "../support/store-fixtures.js";

const R = "sip:registrar.example.com";
type Fields = Partial<Omit<RegistrantRow, "id">>;

/** The same record set for both back-ends: good rows of every shape, and one bad row per §3.1 check. */
const RECORDS: readonly [number, Fields][] = [
  [1, { registrar: R, aor: "sip:alice@example.com", binding_URI: "sip:alice@192.0.2.10:5060", expiry: 3600 }],
  [
    2,
    {
      registrar: "sip:192.0.2.1:5080;transport=tcp",
      proxy: "sip:proxy.example.com;lr",
      aor: "sip:bob@example.com",
      third_party_registrant: "sip:admin@example.com",
      username: "bob",
      password: "s3cr:et\\pw",
      binding_URI: "sip:bob@192.0.2.11",
      binding_params: ';reg-id=1;+sip.instance="<urn:uuid:1>"',
      expiry: 600,
      forced_socket: "udp:127.0.0.1:5060",
      cluster_shtag: "vip/1",
      state: 1,
    },
  ],
  [
    3,
    {
      registrar: R,
      aor: "sip:carol@example.com",
      binding_URI: "sip:carol@192.0.2.12",
      binding_params: ";transport=tcp",
    },
  ],
  [10, { registrar: "registrar.example.com", aor: "sip:x10@example.com", binding_URI: "sip:x10@h" }],
  [11, { registrar: "sip:user@registrar.example.com", aor: "sip:x11@example.com", binding_URI: "sip:x11@h" }],
  [12, { registrar: R, proxy: "sip:u@proxy.example.com", aor: "sip:x12@example.com", binding_URI: "sip:x12@h" }],
  [13, { registrar: R, aor: "x13@example.com", binding_URI: "sip:x13@h" }],
  [14, { registrar: R, aor: "sip:x14@example.com", third_party_registrant: "tel", binding_URI: "sip:x14@h" }],
  [15, { registrar: R, aor: "sip:x15@example.com", binding_URI: "x15" }],
  [16, { registrar: R, aor: "sip:x16@example.com", binding_URI: "sip:x16@h", binding_params: ";lr;" }],
  [17, { registrar: R, aor: "sip:x17@example.com", binding_URI: "sip:x17@h", expiry: 60 }],
  [18, { registrar: R, aor: "sip:x18@example.com", binding_URI: "sip:x18@h", forced_socket: "tcp:10.1.1.1:5060" }],
  [19, { registrar: R, aor: "sip:x19@example.com", binding_URI: "sip:x19@h", cluster_shtag: "vip" }],
  [20, { registrar: R, aor: "sip:x20@example.com", binding_URI: "sip:x20@h", cluster_shtag: "vip/x" }],
  [21, { registrar: R, aor: "sip:dave@example.com", binding_URI: "sip:dave@192.0.2.13", expiry: 101, state: 0 }],
];

const EXPECTED_ERRORS: readonly [number, RowColumn, string][] = [
  [10, "registrar", "cannot parse registrar uri [registrar.example.com]"],
  [11, "registrar", "registrant uri must not have user [user]"],
  [12, "proxy", "proxy uri must not have user [u]"],
  [13, "aor", "cannot parse aor uri [x13@example.com]"],
  [14, "third_party_registrant", "cannot parse third party registrant uri [tel]"],
  [15, "binding_URI", "cannot parse contact uri [x15]"],
  [16, "binding_params", "Bogus params [;lr;]"],
  [
    17,
    "expiry",
    "Please decrease timer_interval=[100] - requested expires=[60] to small for AOR=[sip:x17@example.com]",
  ],
  [18, "forced_socket", "invalid forced socket [tcp:10.1.1.1:5060]"],
  [19, "cluster_shtag", "Bad naming for sharing tag <vip>, <name/cluster_id> expected"],
  [20, "cluster_shtag", "Invalid cluster id <x> for sharing tag <vip>"],
];

const ctx = (config: Config): RowCheckContext => ({
  timerInterval: config.timer_interval,
  defaultExpires: config.default_expires,
  hasSocket: (s) => s === "udp:127.0.0.1:5060",
  columnName: columnLabeler(config),
});

const cleanups = cleanupsAfterAll();

async function mariadbStore(config: Config): Promise<RegistrantStore> {
  const db: TestDatabase = await createTestDatabase();
  cleanups.push(() => db.drop());
  const col = columnLabeler(config);
  // OpenSIPS's DDL with the configured names
  if (config.table_name !== "registrant") await createRegistrantTable(db, config);
  // InnoDB returns rows in primary-key order: the ids ascend so both back-ends list them alike
  for (const [id, f] of RECORDS) {
    const row = Object.fromEntries(Object.entries(f).map(([k, v]) => [col(k as RowColumn), v]));
    await db.insert({ id, ...row }, config.table_name);
  }
  const store = await openStore({ ...config, db_url: db.url }, silentLogger);
  cleanups.push(() => store.close());
  return store;
}

async function dbtextStore(config: Config): Promise<RegistrantStore> {
  const dir = await mkdtemp(join(tmpdir(), "registrantd-parity-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  // let the embedded default create the files, then append the rows in header order
  const created = await openStore({ ...config, data_dir: dir }, silentLogger);
  await created.close();
  const path = join(dir, config.table_name);
  const lines = RECORDS.map(([id, f]) =>
    [String(id), ...ROW_COLUMNS.map((c) => encodeValue(f[c] ?? (c === "state" ? 0 : null)))].join(":"),
  );
  await writeFile(path, (await readFile(path, "utf8")) + lines.join("\n") + "\n");
  const store = await openStore({ ...config, data_dir: dir }, silentLogger);
  cleanups.push(() => store.close());
  return store;
}

for (const [label, config] of [
  ["default names", DEFAULT_CONFIG],
  ["custom table and column names", { ...DEFAULT_CONFIG, ...CUSTOM_NAMES }],
] as const) {
  test(`${label}: MariaDB and db_text load the same record set into equal RecordSpec lists`, async () => {
    const mariadb = await mariadbStore(config);
    const dbtext = await dbtextStore(config);
    const fromDb = await loadAllRows(mariadb);
    const fromText = await loadAllRows(dbtext);
    assert.deepEqual(fromText, fromDb, "raw rows equal");

    const a = captureLogger("info");
    const db = checkRows(fromDb, ctx(config), a.log);
    const b = checkRows(fromText, ctx(config));
    assert.deepEqual(b.specs, db.specs);
    assert.deepEqual(
      db.specs.map((s) => s.aor),
      ["sip:alice@example.com", "sip:bob@example.com", "sip:carol@example.com", "sip:dave@example.com"],
    );
    assert.deepEqual(db.specs[0], {
      aor: "sip:alice@example.com",
      contact: "sip:alice@192.0.2.10:5060",
      registrar: R,
      expirySec: 3600,
      enabled: true,
      uniqueBinding: false,
    });
    assert.equal(db.specs[1]!.password, "s3cr:et\\pw");
    assert.equal(db.specs[1]!.uniqueBinding, true);
    // row 3 follows a unique-binding row and has params: OpenSIPS would have flagged it too (§11.2)
    assert.equal(db.specs[2]!.uniqueBinding, false);
    assert.equal(db.specs[2]!.expirySec, 3600, "NULL expiry takes default_expires");

    // each bad row skipped with its id, the configured column name and OpenSIPS's reason; one ERROR line each
    const label = columnLabeler(config);
    const expected = EXPECTED_ERRORS.map(([id, column, reason]) => `row id=${id}: column ${label(column)}: ${reason}`);
    assert.deepEqual(
      db.errors.map((e) => e.message),
      expected,
    );
    assert.deepEqual(
      b.errors.map((e) => e.message),
      expected,
    );
    assert.deepEqual(
      a
        .lines()
        .filter((l) => l["level"] === 50)
        .map((l) => l["msg"]),
      expected,
    );

    // writeState round trip on both
    const coords = { aor: "sip:dave@example.com", contact: "sip:dave@192.0.2.13", registrar: R };
    for (const store of [mariadb, dbtext]) {
      await store.writeState(coords, 1);
      const one = await store.loadOne(coords);
      assert.equal(one.length, 1, store.kind);
      assert.equal(one[0]!.state, 1, store.kind);
      await store.writeState(coords, 0);
      assert.equal((await store.loadOne(coords))[0]!.state, 0, store.kind);
    }
  });
}
