import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_CONFIG } from "../../src/config/defaults.js";
import { silentLogger } from "../../src/log.js";
import { RegState, stateName } from "../../src/registrant/state.js";
import { headerValue } from "../../src/sip/message.js";
import type { SipRequest } from "../../src/sip/message.js";
import { parseDbUrl } from "../../src/store/db-url.js";
import { MariadbStore } from "../../src/store/mariadb-store.js";
import { LiveEngine } from "../support/engine-harness.js";
import { KamailioRegistrar } from "../support/kamailio.js";
import { createTestDatabase } from "../support/mariadb.js";
import type { TestDatabase } from "../support/mariadb.js";
import { until } from "../support/until.js";

let kamailio: KamailioRegistrar | undefined;
let db: TestDatabase | undefined;
let engine: LiveEngine | undefined;

const cseqOf = (m: SipRequest): number => Number(headerValue(m, "cseq")?.split(" ")[0]);
const callIdOf = (m: SipRequest): string => headerValue(m, "call-id") ?? "";

before(async () => {
  kamailio = await KamailioRegistrar.start({ users: { alice: "alicepw", carol: "carolpw" } });
  db = await createTestDatabase();
  const base = { registrar: kamailio.uri("udp"), expiry: 30, state: 0 };
  await db.insert({
    ...base,
    aor: "sip:alice@example.test",
    username: "alice",
    password: "alicepw",
    binding_URI: "sip:alice@127.0.0.1:5080",
  });
  await db.insert({
    ...base,
    aor: "sip:carol@example.test",
    username: "carol",
    password: "wrong",
    binding_URI: "sip:carol@127.0.0.1:5080",
  });
  const url = parseDbUrl(db.url);
  assert.equal(url.kind, "mysql");
  if (url.kind !== "mysql") return;
  const store = await MariadbStore.open(url, "registrant", DEFAULT_CONFIG, silentLogger);
  // PCT 50 so a refresh comes within ~20 s whatever expiry Kamailio grants (it raises 30 to its min_expires)
  engine = await LiveEngine.start({ store, options: { reregisterExpiryPercentage: 50 } });
});

after(async () => {
  await engine?.stop();
  await engine?.store.close();
  await kamailio?.stop();
  await db?.drop();
});

test("Kamailio with digest auth: register, refresh, wrong password, disable → unREGISTER + state=1, enable", async () => {
  const e = engine!;
  const registrar = kamailio!.uri("udp");
  const alice = { aor: "sip:alice@example.test", contact: "sip:alice@127.0.0.1:5080", registrar };
  const carol = { aor: "sip:carol@example.test", contact: "sip:carol@127.0.0.1:5080", registrar };
  const stateIs = (c: typeof alice, s: number) => () => e.state(c) === s;
  const why = () =>
    `wire:\n${e
      .registers("")
      .map((m) => `${m.method} cseq=${cseqOf(m)}`)
      .join("\n")}\n${kamailio!.log().slice(-2000)}`;

  await until("alice REGISTERED", stateIs(alice, RegState.REGISTERED_STATE), 30_000).catch((err: Error) => {
    throw new Error(`${err.message}; state ${stateName(e.state(alice) as never)}\n${why()}`);
  });
  const [first, authed] = e.registers(alice.aor);
  assert.ok(first !== undefined && authed !== undefined);
  assert.equal(headerValue(first, "authorization"), undefined);
  assert.match(headerValue(authed, "authorization") ?? "", /^Digest username="alice", realm="example.test"/);
  assert.equal(callIdOf(authed), callIdOf(first));
  assert.equal(cseqOf(first), 1);
  assert.equal(cseqOf(authed), 2);

  await until("carol WRONG_CREDENTIALS", stateIs(carol, RegState.WRONG_CREDENTIALS_STATE), 30_000);

  // the refresh: same Call-ID, CSeq continues (Kamailio challenges it again, OpenSIPS never reuses a nonce)
  await until(
    "alice's refresh",
    () => e.registers(alice.aor).length >= 4 && e.state(alice) === RegState.REGISTERED_STATE,
    60_000,
  );
  const refresh = e.registers(alice.aor)[2]!;
  assert.equal(callIdOf(refresh), callIdOf(first));
  assert.equal(cseqOf(refresh), 3);
  assert.equal(cseqOf(e.registers(alice.aor)[3]!), 4);

  // disable: unREGISTER at once (expires=0, same Call-ID), state=1 in MariaDB
  const before = e.registers(alice.aor).length;
  assert.equal(await e.service.disable(alice), true);
  await until("alice NOT_REGISTERED", stateIs(alice, RegState.NOT_REGISTERED_STATE), 20_000);
  const unreg = e.registers(alice.aor).slice(before);
  assert.ok(unreg.length >= 1);
  for (const m of unreg) {
    assert.match(headerValue(m, "contact") ?? "", /;expires=0$/);
    assert.equal(callIdOf(m), callIdOf(first));
  }
  const rows = await db!.query<{ state: number }[]>("SELECT state FROM registrant WHERE aor = ?", [alice.aor]);
  assert.equal(rows[0]?.state, 1);

  // enable: a new REGISTER with a new Call-ID, state=0 again
  const n = e.registers(alice.aor).length;
  assert.equal(await e.service.enable(alice), true);
  await until("alice REGISTERED again", stateIs(alice, RegState.REGISTERED_STATE), 20_000);
  const again = e.registers(alice.aor)[n]!;
  assert.notEqual(callIdOf(again), callIdOf(first));
  assert.equal(cseqOf(again), 1);
  const rows2 = await db!.query<{ state: number }[]>("SELECT state FROM registrant WHERE aor = ?", [alice.aor]);
  assert.equal(rows2[0]?.state, 0);

  // graceful stop with unregister_on_shutdown: the (challenged) unREGISTER completes before stop() resolves
  const m = e.registers(alice.aor).length;
  await e.service.stop({ unregister: true });
  assert.equal(e.state(alice), RegState.NOT_REGISTERED_STATE);
  const last = e.registers(alice.aor).slice(m);
  assert.ok(last.length >= 1 && last.every((r) => /;expires=0$/.test(headerValue(r, "contact") ?? "")));
});
