import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_CONFIG } from "../../src/config/defaults.js";
import { StoreUnavailableError } from "../../src/errors.js";
import { silentLogger } from "../../src/log.js";
import type { RegistrantRow } from "../../src/registrant/record-spec.js";
import { openStore } from "../../src/store/open-store.js";
import { loadAllRows } from "../../src/store/store.js";
import type { RegistrantStore } from "../../src/store/store.js";
import { createTestDatabase, startPrivateMariadb, whileTableLocked } from "../support/mariadb.js";
import type { PrivateMariadb, TestDatabase } from "../support/mariadb.js";
import { until } from "../support/until.js";

// A private mariadbd (never the shared one) is SIGKILLed while a load waits on the server, then restarted. Every
// wait below is on a condition with a generous deadline: nothing assumes how fast the server dies or comes back.
const ROWS = 300;
let server: PrivateMariadb | undefined;
let db: TestDatabase | undefined;
let store: RegistrantStore | undefined;

before(
  async () => {
    server = await startPrivateMariadb();
    db = await createTestDatabase({ port: server.port });
    const values = Array.from({ length: ROWS }, (_, i) => [
      "sip:registrar.example.com",
      `sip:user${i}@example.com`,
      `sip:user${i}@192.0.2.1`,
      3600,
    ]);
    await db.pool.batch("INSERT INTO registrant (registrar, aor, binding_URI, expiry) VALUES (?, ?, ?, ?)", values);
    store = await openStore({ ...DEFAULT_CONFIG, db_url: db.url }, silentLogger);
  },
  { timeout: 300_000 },
);

after(
  async () => {
    await store?.close().catch(() => undefined);
    await db?.drop().catch(() => undefined);
    await server?.destroy();
  },
  { timeout: 120_000 },
);

test(
  "MariaDB killed during a load: the load fails with StoreUnavailableError, and works again after a restart",
  { timeout: 600_000 },
  async () => {
    assert.ok(server && store && db);
    assert.equal((await loadAllRows(store)).length, ROWS);

    // the SELECT is certainly in flight when the server dies: it waits on a write lock another connection holds
    const locked = await whileTableLocked(server, db.name, () => loadAllRows(store!));
    await server.kill();
    const err = await locked.outcome;
    assert.ok(err instanceof StoreUnavailableError, `expected StoreUnavailableError, got ${String(err)}`);
    assert.equal(err.code, "STORE_UNAVAILABLE");
    locked.release();

    // While the server is down, every call fails the same clean way (after the pool's acquire timeout).
    await assert.rejects(loadAllRows(store), StoreUnavailableError);
    await assert.rejects(
      store.writeState(
        { aor: "sip:user0@example.com", contact: "sip:user0@192.0.2.1", registrar: "sip:registrar.example.com" },
        1,
      ),
      StoreUnavailableError,
    );

    await server.start();
    // Same store object (no daemon restart): the pool makes new connections once the server answers again.
    const rows = await until<RegistrantRow[]>(
      "a load to succeed after the restart",
      async () => {
        try {
          return await loadAllRows(store!);
        } catch (e) {
          assert.ok(e instanceof StoreUnavailableError, `unexpected error ${String(e)}`);
          return undefined;
        }
      },
      120_000,
      250,
    );
    assert.equal(rows.length, ROWS);
    const coords = {
      aor: "sip:user0@example.com",
      contact: "sip:user0@192.0.2.1",
      registrar: "sip:registrar.example.com",
    };
    await store.writeState(coords, 1);
    assert.equal((await store.loadOne(coords))[0]!.state, 1);
  },
);
