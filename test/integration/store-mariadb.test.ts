import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_CONFIG } from "../../src/config/defaults.js";
import type { Config } from "../../src/config/config.js";
import { ConfigError, StoreUnavailableError, StoreVersionError } from "../../src/errors.js";
import { silentLogger } from "../../src/log.js";
import { openStore } from "../../src/store/open-store.js";
import { loadAllRows } from "../../src/store/store.js";
import type { RegistrantStore } from "../../src/store/store.js";
import { createTestDatabase } from "../support/mariadb.js";
import type { TestDatabase } from "../support/mariadb.js";
import { freePort } from "../support/ports.js";
import { CUSTOM_NAMES, createRegistrantTable } from "../support/store-fixtures.js";

const dbs: TestDatabase[] = [];
const stores: RegistrantStore[] = [];

async function freshDb(schema = true): Promise<TestDatabase> {
  const db = await createTestDatabase({ schema });
  dbs.push(db);
  return db;
}

async function open(config: Config): Promise<RegistrantStore> {
  const store = await openStore(config, silentLogger);
  stores.push(store);
  return store;
}

after(async () => {
  for (const s of stores) await s.close().catch(() => undefined);
  for (const db of dbs) await db.drop().catch(() => undefined);
});

const ALICE = {
  registrar: "sip:registrar.example.com",
  aor: "sip:alice@example.com",
  binding_URI: "sip:alice@192.0.2.10:5060",
};

describe("MariaDB store", () => {
  let db: TestDatabase;
  let store: RegistrantStore;

  before(async () => {
    db = await freshDb();
    await db.insert({ ...ALICE, username: "alice", password: "secret", expiry: 3600 });
    await db.insert({
      registrar: "sip:registrar.example.com",
      proxy: "sip:proxy.example.com;lr",
      aor: "sip:bob@example.com",
      third_party_registrant: "sip:admin@example.com",
      binding_URI: "sip:bob@192.0.2.11",
      binding_params: ';reg-id=1;+sip.instance="<urn:uuid:1>"',
      forced_socket: "udp:127.0.0.1:5060",
      cluster_shtag: "vip/1",
      state: 1,
    });
    store = await open({ ...DEFAULT_CONFIG, db_url: db.url });
  });

  test("scanAll returns every row, in DB order, with NULLs as null", async () => {
    assert.equal(store.kind, "mariadb");
    const rows = await loadAllRows(store);
    assert.equal(rows.length, 2);
    assert.deepEqual(rows[0], {
      id: "1",
      ...ALICE,
      proxy: null,
      third_party_registrant: null,
      username: "alice",
      password: "secret",
      binding_params: null,
      expiry: 3600,
      forced_socket: null,
      cluster_shtag: null,
      state: 0,
    });
    assert.equal(rows[1]!.expiry, null);
    assert.equal(rows[1]!.state, 1);
    assert.equal(rows[1]!.binding_params, ';reg-id=1;+sip.instance="<urn:uuid:1>"');
  });

  test("loadOne matches the three key columns", async () => {
    const coords = { aor: ALICE.aor, contact: ALICE.binding_URI, registrar: ALICE.registrar };
    assert.equal((await store.loadOne(coords)).length, 1);
    assert.equal((await store.loadOne({ ...coords, registrar: "sip:other.example.com" })).length, 0);
  });

  test("writeState is OpenSIPS's UPDATE ... SET state WHERE aor, binding_URI, registrar", async () => {
    const coords = { aor: ALICE.aor, contact: ALICE.binding_URI, registrar: ALICE.registrar };
    await store.writeState(coords, 1);
    assert.deepEqual(await db.query("SELECT id, state FROM registrant ORDER BY id"), [
      { id: 1, state: 1 },
      { id: 2, state: 1 },
    ]);
    assert.equal((await loadAllRows(store))[0]!.state, 1);
    await store.writeState(coords, 0);
    assert.deepEqual(await db.query("SELECT state FROM registrant WHERE id=1"), [{ state: 0 }]);
    // no such row: OpenSIPS only logs it
    await store.writeState({ ...coords, aor: "sip:nobody@example.com" }, 1);
  });
});

describe("MariaDB version row", () => {
  test("missing row → OpenSIPS's message", async () => {
    const db = await freshDb();
    await db.query("DELETE FROM version WHERE table_name='registrant'");
    await assert.rejects(openStore({ ...DEFAULT_CONFIG, db_url: db.url }, silentLogger), (err: unknown) => {
      assert.ok(err instanceof StoreVersionError);
      assert.equal(err.message, "'registrant' record not found in 'version' table, expected ver 3");
      return true;
    });
  });

  test("other version → OpenSIPS's message", async () => {
    const db = await freshDb();
    await db.query("UPDATE version SET table_version=2 WHERE table_name='registrant'");
    await assert.rejects(openStore({ ...DEFAULT_CONFIG, db_url: db.url }, silentLogger), (err: unknown) => {
      assert.ok(err instanceof StoreVersionError);
      assert.equal(err.message, "invalid version 2 for table registrant found, expected 3");
      return true;
    });
  });

  test("no version table at all → clear StoreVersionError", async () => {
    const db = await freshDb(false);
    await assert.rejects(
      openStore({ ...DEFAULT_CONFIG, db_url: db.url }, silentLogger),
      (err: unknown) => err instanceof StoreVersionError && /table 'version' not found/.test(err.message),
    );
  });

  test("the version row is looked up by the configured table_name", async () => {
    const db = await freshDb();
    await assert.rejects(
      openStore({ ...DEFAULT_CONFIG, db_url: db.url, table_name: "registrant_b" }, silentLogger),
      (err: unknown) =>
        err instanceof StoreVersionError &&
        err.message === "'registrant_b' record not found in 'version' table, expected ver 3",
    );
  });
});

describe("MariaDB custom table and column names", () => {
  async function customDb(): Promise<TestDatabase> {
    const db = await freshDb();
    await createRegistrantTable(db, { ...DEFAULT_CONFIG, ...CUSTOM_NAMES });
    await db.insert(
      { reg_uri: "sip:r.example.com", to_uri: "sip:c@example.com", contact: "sip:c@10.0.0.1", expires: 600 },
      "sip_regs",
    );
    return db;
  }

  test("loads and writes back through the configured names", async () => {
    const db = await customDb();
    const store = await open({ ...DEFAULT_CONFIG, ...CUSTOM_NAMES, db_url: db.url });
    const rows = await loadAllRows(store);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.aor, "sip:c@example.com");
    assert.equal(rows[0]!.binding_URI, "sip:c@10.0.0.1");
    assert.equal(rows[0]!.expiry, 600);
    const coords = { aor: "sip:c@example.com", contact: "sip:c@10.0.0.1", registrar: "sip:r.example.com" };
    assert.equal((await store.loadOne(coords)).length, 1);
    await store.writeState(coords, 1);
    assert.deepEqual(await db.query("SELECT disabled FROM sip_regs"), [{ disabled: 1 }]);
  });

  test("a configured column the table lacks is a ConfigError naming the modparam", async () => {
    const db = await customDb();
    await assert.rejects(
      openStore({ ...DEFAULT_CONFIG, ...CUSTOM_NAMES, expiry_column: "expiry_sec", db_url: db.url }, silentLogger),
      (err: unknown) =>
        err instanceof ConfigError && err.message === "table 'sip_regs' has no column expiry_sec (expiry_column)",
    );
  });
});

describe("MariaDB unreachable or refusing at start", () => {
  test("nothing listening → StoreUnavailableError, and the start fails cleanly", async () => {
    const port = await freePort();
    await assert.rejects(
      openStore({ ...DEFAULT_CONFIG, db_url: `mysql://root:@127.0.0.1:${port}/registrant_db` }, silentLogger),
      (err: unknown) => err instanceof StoreUnavailableError && err.code === "STORE_UNAVAILABLE",
    );
  });

  test("wrong credentials → StoreUnavailableError that does not show the password", async () => {
    await assert.rejects(
      openStore({ ...DEFAULT_CONFIG, db_url: "mysql://no_such_user:Sup3rSecret@127.0.0.1:3306/x" }, silentLogger),
      (err: unknown) =>
        err instanceof StoreUnavailableError &&
        /Access denied/.test(err.message) &&
        !err.message.includes("Sup3rSecret"),
    );
  });
});
