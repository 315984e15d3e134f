import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_CONFIG } from "../../src/config/defaults.js";
import { StoreUnavailableError } from "../../src/errors.js";
import { silentLogger } from "../../src/log.js";
import { defaultEngineOptions } from "../../src/registrant/engine-options.js";
import { RegistrantService } from "../../src/registrant/registrant-service.js";
import { wireReaders } from "../../src/registrant/response.js";
import { RegState } from "../../src/registrant/state.js";
import { openStore } from "../../src/store/open-store.js";
import type { RegistrantStore } from "../../src/store/store.js";
import { FakeTimers, JumpingClock, testSpecFromRow } from "../support/engine-harness.js";
import { FAKE_DESTINATION, FakeSipClient, response } from "../support/fake-sip-client.js";
import { createTestDatabase, startPrivateMariadb, whileTableLocked } from "../support/mariadb.js";
import type { PrivateMariadb, TestDatabase } from "../support/mariadb.js";
import { until } from "../support/until.js";

/**
 * The engine on a MariaDB that dies in the middle of a full reload. The engine runs on fake time with a SIP client
 * that answers 200 at once, so the only real-time waits are on the database, each on a condition with a generous
 * deadline: nothing here depends on how fast the server dies or comes back.
 */
const RECORDS = 20;
let server: PrivateMariadb | undefined;
let db: TestDatabase | undefined;
let store: RegistrantStore | undefined;
let service: RegistrantService | undefined;

const clock = new JumpingClock(1_700_000_000_000, 0);
const timers = new FakeTimers(clock);
const sip = new FakeSipClient();
// every REGISTER is granted what it asked for
sip.autoAnswer = (req) => ({
  kind: "response",
  destination: FAKE_DESTINATION,
  response:
    req.contact === "*"
      ? response(200, {})
      : response(200, { contact: `<${req.contact.uri}>;expires=${req.contact.expiresSec}` }),
});

const aorOf = (i: number) => `sip:user${i}@example.test`;
const callIds = () => new Map([...service!.list()].map((r) => [r.aor, service!.recordFor(r)!.callId]));

before(
  async () => {
    server = await startPrivateMariadb();
    db = await createTestDatabase({ port: server.port });
    for (let i = 0; i < RECORDS; i++) {
      await db.insert({
        registrar: "sip:registrar.example.test",
        aor: aorOf(i),
        binding_URI: `sip:user${i}@192.0.2.1`,
        expiry: 120,
        state: 0,
      });
    }
    store = await openStore({ ...DEFAULT_CONFIG, db_url: db.url }, silentLogger);
    let n = 0;
    service = new RegistrantService({
      store,
      sip,
      clock,
      log: silentLogger,
      options: { ...defaultEngineOptions, timerIntervalSec: 10, hashSize: 1 },
      specFromRow: testSpecFromRow,
      readers: wireReaders,
      timers,
      rand: () => ++n,
      jitter: () => 0.5,
    });
    await service.start();
  },
  { timeout: 300_000 },
);

after(
  async () => {
    await service?.stop().catch(() => undefined);
    await store?.close().catch(() => undefined);
    await db?.drop().catch(() => undefined);
    await server?.destroy();
  },
  { timeout: 120_000 },
);

test(
  "MariaDB SIGKILLed during a full reload: the reload fails cleanly, records stay registered and refresh; after the restart the reload works and keeps Call-IDs",
  { timeout: 600_000 },
  async () => {
    assert.ok(server && db && store && service);
    const s = service;
    // both buckets visited (one every TI/2 = 5 s, each spread over its tick): every record registers
    await timers.advance(20_000);
    const states = () => [...s.list()].map((r) => r.state);
    assert.equal(states().length, RECORDS);
    assert.ok(
      states().every((st) => st === RegState.REGISTERED_STATE),
      `states ${states().join(",")}`,
    );
    const before = callIds();

    // the reload's SELECT is certainly in flight when the server dies: it waits on a lock another connection holds
    const locked = await whileTableLocked(server, db.name, () => s.reloadAll());
    await server.kill();
    const outcome = await locked.outcome;
    assert.ok(outcome instanceof StoreUnavailableError, `reload outcome: ${String(outcome)}`);

    // memory untouched: same records, same dialogs, still registered
    assert.deepEqual(callIds(), before);
    assert.ok(states().every((st) => st === RegState.REGISTERED_STATE));

    // without the DB the engine goes on: the refreshes (expires 120, TI 10) keep the same Call-IDs
    const sentBefore = sip.sent.length;
    await timers.advance(120_000);
    assert.ok(sip.sent.length >= sentBefore + RECORDS, "every record refreshed while the DB was down");
    assert.deepEqual(callIds(), before);
    assert.ok(states().every((st) => st === RegState.REGISTERED_STATE));

    // the server comes back: the same store object reloads (the pool reconnects) and nothing is disturbed
    await server.start();
    await until(
      "a full reload to succeed after the restart",
      () =>
        s.reloadAll().then(
          () => true,
          () => false,
        ),
      90_000,
      500,
    );
    assert.deepEqual(callIds(), before);
    assert.ok(states().every((st) => st === RegState.REGISTERED_STATE));
    assert.equal([...s.list()].length, RECORDS);
    locked.release();
  },
);
