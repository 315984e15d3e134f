import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { EngineHarness, row } from "../../support/engine-harness.js";
import { RegState } from "../../../src/registrant/state.js";
import type { RegisterRequest } from "../../../src/sip/sip-client.js";

const S = RegState;
const CHALLENGE = { "www-authenticate": 'Digest realm="example.test", nonce="n1", qop="auth"' };
const STALE = { "www-authenticate": 'Digest realm="example.test", nonce="n2", qop="auth", stale=true' };
const OK60 = { contact: "<sip:alice@192.0.2.10:5060>;expires=60" };

const alice = row({ aor: "sip:alice@example.test", expiry: 60 }); // bucket 0 of 2
const bob = row({ aor: "sip:bob@example.test", expiry: 60 }); // bucket 1 of 2

function contactOf(r: RegisterRequest): { uri: string; params: string; expiresSec: number } {
  assert.notEqual(r.contact, "*");
  return r.contact as { uri: string; params: string; expiresSec: number };
}

/** Start, let bucket 0's first tick send alice's REGISTER. */
async function firstRegister(config: ConstructorParameters<typeof EngineHarness>[0] = {}): Promise<EngineHarness> {
  const h = await EngineHarness.started({ opensips: true, rows: [alice], ...config });
  await h.advance(5000);
  assert.equal(h.sip.sent.length, 1);
  return h;
}

async function registered(config: ConstructorParameters<typeof EngineHarness>[0] = {}): Promise<EngineHarness> {
  const h = await firstRegister(config);
  h.sip.reply(401, CHALLENGE);
  await h.advance(0);
  h.sip.reply(200, OK60);
  await h.advance(0);
  assert.equal(h.record(alice).state, S.REGISTERED_STATE);
  return h;
}

describe("first REGISTER (reference §3.6, §4, §6.1)", () => {
  test("goes out one timer period after start, bucket by bucket", async () => {
    const h = await EngineHarness.started({ opensips: true, rows: [alice, bob] });
    await h.advance(4999);
    assert.equal(h.sip.sent.length, 0);
    await h.advance(1);
    assert.deepEqual(
      h.sip.sent.map((s) => s.request.to),
      ["sip:alice@example.test"],
    );
    await h.advance(5000);
    assert.deepEqual(
      h.sip.sent.map((s) => s.request.to),
      ["sip:alice@example.test", "sip:bob@example.test"],
    );
  });

  test("carries the record's fields as OpenSIPS builds them", async () => {
    const r = row({
      aor: "sip:dave@example.test",
      registrar: "sip:example.test",
      proxy: "sip:127.0.0.1:5070",
      third_party_registrant: "sip:admin@example.test",
      binding_params: ";transport=udp",
      expiry: 90,
      forced_socket: "udp:127.0.0.1:5080",
    });
    const h = await EngineHarness.started({ opensips: true, rows: [r], options: { userAgent: "OpenSIPS-harness" } });
    await h.advance(10_000);
    const req = h.sip.last;
    assert.equal(req.requestUri, "sip:example.test");
    assert.equal(req.proxy, "sip:127.0.0.1:5070");
    assert.equal(req.forcedSocket, "udp:127.0.0.1:5080");
    assert.equal(req.to, "sip:dave@example.test");
    assert.equal(req.from, "sip:admin@example.test");
    assert.match(req.callId, /^[0-9a-f]{27}$/);
    assert.match(req.fromTag, /^[0-9a-f]{5}$/);
    assert.equal(req.cseq, 1);
    assert.deepEqual(req.contact, { uri: "sip:dave@192.0.2.10:5060", params: ";transport=udp", expiresSec: 90 });
    assert.equal(req.userAgent, "OpenSIPS-harness");
    assert.equal(req.authorization, undefined);
    assert.equal(h.record(r).state, S.REGISTERING_STATE);
    assert.equal(h.record(r).lastRegisterSentSec, h.nowSec());
  });
});

describe("401/407 (reference §5.2, §5.4)", () => {
  test("answered once with credentials: same Call-ID, CSeq+1, AUTHENTICATING, then REGISTERED", async () => {
    const h = await firstRegister();
    const first = h.sip.reply(401, CHALLENGE);
    await h.advance(0);
    const second = h.sip.last;
    assert.equal(second.callId, first.callId);
    assert.equal(second.fromTag, first.fromTag);
    assert.equal(second.cseq, 2);
    assert.equal(second.authorization?.header, "Authorization");
    assert.match(
      second.authorization.value,
      /^Digest username="alice", realm="example.test", nonce="n1", uri="sip:registrar.test"/,
    );
    assert.equal(h.record(alice).state, S.AUTHENTICATING_STATE);
    h.sip.reply(200, OK60);
    await h.advance(0);
    const rec = h.record(alice);
    assert.equal(rec.state, S.REGISTERED_STATE);
    assert.equal(rec.expiresSec, 60);
    // registration_timeout = now + expires*PCT/100 - TI
    assert.equal(rec.registrationTimeoutSec, h.nowSec() + 60 - 10);
    assert.deepEqual(h.transitions(), ["0>1", "1>2", "2>3"]);
  });

  test("407 answers with Proxy-Authorization", async () => {
    const h = await firstRegister();
    h.sip.reply(407, { "proxy-authenticate": 'Digest realm="p", nonce="x"' });
    await h.advance(0);
    assert.equal(h.sip.last.authorization?.header, "Proxy-Authorization");
  });

  test("a second challenge is WRONG_CREDENTIALS with the retry deadline", async () => {
    const h = await firstRegister();
    h.sip.reply(401, CHALLENGE);
    await h.advance(0);
    h.sip.reply(401, CHALLENGE);
    await h.advance(0);
    const rec = h.record(alice);
    assert.equal(rec.state, S.WRONG_CREDENTIALS_STATE);
    assert.equal(rec.registrationTimeoutSec, h.nowSec() + 60 - 10);
    assert.equal(h.sip.pending.length, 0);
  });

  test("stale=true earns one more try (improvement); OpenSIPS treats it as wrong credentials", async () => {
    const h = await firstRegister({ opensips: false });
    h.sip.reply(401, CHALLENGE);
    await h.advance(0);
    h.sip.reply(401, STALE);
    await h.advance(0);
    assert.equal(h.record(alice).state, S.AUTHENTICATING_STATE);
    assert.equal(h.sip.last.cseq, 3);
    assert.match(h.sip.last.authorization!.value, /nonce="n2"/);
    h.sip.reply(401, STALE);
    await h.advance(0);
    assert.equal(h.record(alice).state, S.WRONG_CREDENTIALS_STATE);

    const o = await firstRegister();
    o.sip.reply(401, CHALLENGE);
    await o.advance(0);
    o.sip.reply(401, STALE);
    await o.advance(0);
    assert.equal(o.record(alice).state, S.WRONG_CREDENTIALS_STATE);
  });

  test("no credentials provisioned → WRONG_CREDENTIALS", async () => {
    const r = row({ aor: "sip:alice@example.test", username: null, password: "" });
    const h = await EngineHarness.started({ opensips: true, rows: [r] });
    await h.advance(5000);
    h.sip.reply(401, CHALLENGE);
    await h.advance(0);
    assert.equal(h.record(r).state, S.WRONG_CREDENTIALS_STATE);
  });

  test("an unusable challenge → INTERNAL_ERROR", async () => {
    const h = await firstRegister();
    h.sip.reply(401, { "www-authenticate": 'Digest nonce="x"' });
    await h.advance(0);
    assert.equal(h.record(alice).state, S.INTERNAL_ERROR_STATE);
  });
});

describe("200 OK (reference §5.2)", () => {
  test("granted expiry from our binding's Contact (RFC 3261 §19.1.4 match), else the Expires header", async () => {
    const h = await firstRegister();
    h.sip.reply(200, {
      contact: ["<sip:other@192.0.2.99>;expires=999", "<SIP:alice@192.0.2.10:5060>;expires=120"],
      expires: "300",
    });
    await h.advance(0);
    assert.equal(h.record(alice).expiresSec, 120);

    const h2 = await firstRegister();
    h2.sip.reply(200, { contact: "<sip:alice@192.0.2.10:5060>", expires: "300" });
    await h2.advance(0);
    assert.equal(h2.record(alice).expiresSec, 300);
  });

  test("no exact match: the contact with our user, host and port gives the expiry (§11.10 fix)", async () => {
    const h = await firstRegister();
    h.sip.reply(200, { contact: "<sip:alice@192.0.2.10:5060;transport=udp;ob>;expires=90" });
    await h.advance(0);
    assert.equal(h.record(alice).expiresSec, 90);
  });

  test("a 200 without our binding still counts as REGISTERED with the old expiry", async () => {
    const h = await firstRegister();
    h.sip.reply(200, { contact: "<sip:someone@else>;expires=30" });
    await h.advance(0);
    assert.equal(h.record(alice).state, S.REGISTERED_STATE);
    assert.equal(h.record(alice).expiresSec, 60);
  });

  test("a 200 with no Contact to a REGISTER → INTERNAL_ERROR", async () => {
    const h = await firstRegister();
    h.sip.reply(200);
    await h.advance(0);
    assert.equal(h.record(alice).state, S.INTERNAL_ERROR_STATE);
    assert.equal(h.record(alice).registrationTimeoutSec, h.nowSec() + 50);
  });

  test("2xx other than 200 → REGISTRAR_ERROR", async () => {
    const h = await firstRegister();
    h.sip.reply(202, OK60);
    await h.advance(0);
    assert.equal(h.record(alice).state, S.REGISTRAR_ERROR_STATE);
  });

  test("refresh from REGISTERED keeps Call-ID and From-tag, CSeq+1, one TI before the deadline", async () => {
    const h = await registered();
    const okAt = h.nowSec();
    const callId = h.sip.last.callId;
    // deadline okAt+50; refreshed once now + TI >= deadline, i.e. from okAt+40, at a visit of bucket 0
    while (h.nowSec() < okAt + 39) {
      await h.advance(1000);
      assert.equal(h.sip.sent.length, 2, `no refresh yet at +${h.nowSec() - okAt}`);
    }
    await h.advance(11_000);
    assert.equal(h.sip.sent.length, 3);
    const refresh = h.sip.last;
    assert.equal(refresh.callId, callId);
    assert.equal(refresh.cseq, 3);
    assert.equal(refresh.authorization, undefined);
    assert.equal(h.record(alice).state, S.REGISTERING_STATE);
  });

  test("reregister_expiry_percentage shortens the refresh", async () => {
    const h = await registered({ options: { reregisterExpiryPercentage: 50 } });
    assert.equal(h.record(alice).registrationTimeoutSec, h.nowSec() + 30 - 10);
  });
});

describe("errors and retries (reference §5.2, §5.3)", () => {
  test("403 → REGISTRAR_ERROR; the retry at the deadline starts a new Call-ID with CSeq 1", async () => {
    const h = await firstRegister({ options: { failureRetryIntervalSec: 30 } });
    const first = h.sip.reply(403);
    await h.advance(0);
    const rec = h.record(alice);
    assert.equal(rec.state, S.REGISTRAR_ERROR_STATE);
    assert.equal(rec.registrationTimeoutSec, h.nowSec() + 30 - 10);
    await h.advance(30_000);
    assert.equal(h.sip.sent.length, 2);
    assert.notEqual(h.sip.last.callId, first.callId);
    assert.notEqual(h.sip.last.fromTag, first.fromTag);
    assert.equal(h.sip.last.cseq, 1);
  });

  test("408 and a transaction timeout → REGISTER_TIMEOUT; a timeout forgets the destination", async () => {
    const h = await firstRegister();
    h.sip.reply(408);
    await h.advance(0);
    assert.equal(h.record(alice).state, S.REGISTER_TIMEOUT_STATE);
    assert.equal(h.record(alice).destination?.address, "192.0.2.7");

    const t = await firstRegister();
    t.sip.timeout();
    await t.advance(0);
    assert.equal(t.record(alice).state, S.REGISTER_TIMEOUT_STATE);
    assert.equal(t.record(alice).destination, undefined);
  });

  test("a transport error → INTERNAL_ERROR with the retry deadline", async () => {
    const h = await firstRegister();
    h.sip.transportError();
    await h.advance(0);
    assert.equal(h.record(alice).state, S.INTERNAL_ERROR_STATE);
    assert.equal(h.record(alice).registrationTimeoutSec, h.nowSec() + 50);
  });

  test("3xx → INTERNAL_ERROR, deadline untouched: OpenSIPS retries on every visit; the backoff spaces them", async () => {
    const h = await firstRegister();
    h.sip.reply(302, { contact: "<sip:elsewhere@127.0.0.1:5999>" });
    await h.advance(0);
    assert.equal(h.record(alice).state, S.INTERNAL_ERROR_STATE);
    assert.equal(h.record(alice).registrationTimeoutSec, 0);
    await h.advance(10_000);
    assert.equal(h.sip.sent.length, 2);

    const b = await firstRegister({ opensips: false, options: { spreadTick: false } });
    b.sip.reply(302, { contact: "<sip:elsewhere@127.0.0.1:5999>" });
    await b.advance(0);
    const deadline = b.record(alice).registrationTimeoutSec;
    assert.ok(deadline > b.nowSec(), "backoff sets a deadline");
    await b.advance(10_000);
    // failure 1: base TI=10 → 5..10 s with jitter; jitter 0.5 → 8 s
    assert.equal(b.sip.sent.length, 2);
    b.sip.reply(302);
    await b.advance(0);
    const d2 = b.record(alice).registrationTimeoutSec - b.nowSec();
    assert.ok(d2 >= 10 && d2 <= 20, `second failure waits 10..20 s, got ${d2}`);
  });

  test("backoff doubles up to failure_retry_interval", async () => {
    const h = await firstRegister({ opensips: false, options: { failureRetryIntervalSec: 60, spreadTick: false } });
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      h.sip.reply(500);
      await h.advance(0);
      delays.push(h.record(alice).registrationTimeoutSec - h.nowSec());
      await h.advance((delays[i]! + 10) * 1000);
      assert.equal(h.sip.pending.length, 1);
    }
    // jitter 0.5 → 3/4 of the step: 10, 20, 40, 60 (capped)...
    assert.deepEqual(delays, [8, 15, 30, 45, 45, 45]);
  });

  test("503 Retry-After is the retry deadline when honoured; OpenSIPS ignores it", async () => {
    const h = await firstRegister({ opensips: false });
    h.sip.reply(503, { "retry-after": "30" });
    await h.advance(0);
    assert.equal(h.record(alice).state, S.REGISTRAR_ERROR_STATE);
    assert.equal(h.record(alice).registrationTimeoutSec, h.nowSec() + 30);

    const o = await firstRegister();
    o.sip.reply(503, { "retry-after": "30" });
    await o.advance(0);
    assert.equal(o.record(alice).registrationTimeoutSec, o.nowSec() + 60 - 10);
  });

  test("423 with Min-Expires re-sends at once with that expiry and no credentials; without it → REGISTRAR_ERROR", async () => {
    const h = await firstRegister();
    const first = h.sip.reply(423, { "min-expires": "120" });
    await h.advance(0);
    assert.equal(h.record(alice).state, S.REGISTERING_STATE);
    assert.equal(contactOf(h.sip.last).expiresSec, 120);
    assert.equal(h.sip.last.callId, first.callId);
    assert.equal(h.sip.last.cseq, 2);
    assert.deepEqual(h.transitions(), ["0>1", "1>1"]);

    for (const headers of [{}, { "min-expires": "3" }]) {
      const e = await firstRegister();
      e.sip.reply(423, headers);
      await e.advance(0);
      assert.equal(e.record(alice).state, S.REGISTRAR_ERROR_STATE);
    }
  });

  test("423 loop protection: the third 423 of a cycle is REGISTRAR_ERROR", async () => {
    const h = await firstRegister();
    h.sip.reply(423, { "min-expires": "120" });
    await h.advance(0);
    h.sip.reply(423, { "min-expires": "240" });
    await h.advance(0);
    assert.equal(contactOf(h.sip.last).expiresSec, 240);
    h.sip.reply(423, { "min-expires": "480" });
    await h.advance(0);
    assert.equal(h.record(alice).state, S.REGISTRAR_ERROR_STATE);
  });
});

describe("enable / disable (reference §5.6)", () => {
  test("disable a REGISTERED record: unREGISTER at once (same Call-ID, CSeq+1, expires=0), challenge, NOT_REGISTERED", async () => {
    const h = await registered();
    const callId = h.sip.last.callId;
    assert.equal(
      await h.service.disable({
        aor: "sip:other@example.test",
        contact: alice.binding_URI!,
        registrar: alice.registrar!,
      }),
      false,
      "all three key parts are compared",
    );
    assert.equal(
      await h.service.disable({ aor: alice.aor!, contact: alice.binding_URI!, registrar: alice.registrar! }),
      true,
    );
    assert.deepEqual(h.store.writes.at(-1)?.state, 1);
    const unreg = h.sip.last;
    assert.equal(unreg.callId, callId);
    assert.equal(unreg.cseq, 3);
    assert.equal(contactOf(unreg).expiresSec, 0);
    assert.equal(h.record(alice).state, S.UNREGISTERING_STATE);
    h.sip.reply(401, CHALLENGE);
    await h.advance(0);
    assert.equal(h.record(alice).state, S.AUTHENTICATING_UNREGISTER_STATE);
    assert.equal(contactOf(h.sip.last).expiresSec, 0);
    assert.equal(h.sip.last.cseq, 4);
    h.sip.reply(200);
    await h.advance(0);
    assert.equal(h.record(alice).state, S.NOT_REGISTERED_STATE);
    assert.equal(h.record(alice).registrationTimeoutSec, 0);
    await h.advance(200_000);
    assert.equal(h.sip.sent.length, 4, "nothing sent for a disabled record");
  });

  test("disabled while the REGISTER is in flight: its 200 turns into an unREGISTER", async () => {
    const h = await firstRegister();
    await h.service.disable({ aor: alice.aor!, contact: alice.binding_URI!, registrar: alice.registrar! });
    assert.equal(h.record(alice).state, S.REGISTERING_STATE);
    h.sip.reply(200, OK60);
    await h.advance(0);
    assert.equal(h.record(alice).state, S.UNREGISTERING_STATE);
    assert.equal(contactOf(h.sip.last).expiresSec, 0);
  });

  test("enable from NOT_REGISTERED registers at once with a new Call-ID", async () => {
    const r = row({ aor: "sip:alice@example.test", state: 1 });
    const h = await EngineHarness.started({ opensips: true, rows: [r] });
    await h.advance(20_000);
    assert.equal(h.sip.sent.length, 0);
    const before = h.record(r).callId;
    await h.service.enable({ aor: r.aor!, contact: r.binding_URI!, registrar: r.registrar! });
    assert.equal(h.store.writes.at(-1)?.state, 0);
    assert.equal(h.sip.sent.length, 1);
    assert.notEqual(h.sip.last.callId, before);
    assert.equal(h.sip.last.cseq, 1);
  });

  test("re-enabled while the unREGISTER is in flight: its 200 starts a new registration", async () => {
    const h = await registered();
    const c = { aor: alice.aor!, contact: alice.binding_URI!, registrar: alice.registrar! };
    await h.service.disable(c);
    const unreg = h.sip.last;
    await h.service.enable(c);
    assert.equal(h.record(alice).state, S.UNREGISTERING_STATE);
    h.sip.reply(200);
    await h.advance(0);
    assert.equal(h.record(alice).state, S.REGISTERING_STATE);
    assert.notEqual(h.sip.last.callId, unreg.callId);
    assert.equal(h.sip.last.cseq, 1);
    assert.equal(contactOf(h.sip.last).expiresSec, 60);
  });

  test("a disabled record in an error state sends its unREGISTER at the deadline", async () => {
    const h = await firstRegister();
    h.sip.reply(403);
    await h.advance(0);
    await h.service.disable({ aor: alice.aor!, contact: alice.binding_URI!, registrar: alice.registrar! });
    await h.advance(60_000);
    assert.equal(h.sip.sent.length, 2);
    assert.equal(contactOf(h.sip.last).expiresSec, 0);
    assert.equal(h.record(alice).state, S.UNREGISTERING_STATE);
  });

  test("a 423 to an unREGISTER is a registrar error, never a REGISTER (fix of §11.11)", async () => {
    const h = await registered();
    await h.service.disable({ aor: alice.aor!, contact: alice.binding_URI!, registrar: alice.registrar! });
    h.sip.reply(423, { "min-expires": "120" });
    await h.advance(0);
    assert.equal(h.record(alice).state, S.REGISTRAR_ERROR_STATE);
    assert.equal(h.sip.sent.length, 3);
  });
});

describe("force_register", () => {
  test("sends at once by default; OpenSIPS waits for the next tick of the bucket", async () => {
    const h = await registered({ opensips: false });
    const c = { aor: alice.aor!, contact: alice.binding_URI!, registrar: alice.registrar! };
    assert.equal(h.service.forceRegister(c), true);
    assert.equal(h.sip.sent.length, 3);
    assert.equal(h.sip.last.cseq, 3);

    const o = await registered();
    o.service.forceRegister(c);
    assert.equal(o.sip.sent.length, 2);
    assert.equal(o.record(alice).registrationTimeoutSec, 0);
    await o.advance(10_000);
    assert.equal(o.sip.sent.length, 3);
  });
});

describe("unique binding (reference §6.6)", () => {
  const kate = row({
    aor: "sip:alice@example.test",
    binding_params: ';reg-id=1;+sip.instance="<urn:uuid:kate-0001>"',
    expiry: 60,
  });
  const TWO = { contact: ["<sip:alice@192.0.2.10:5060>;expires=60", "<sip:stale@127.0.0.2:5999>;expires=3600"] };

  test("a 200 listing other bindings: one Contact: * removal, then a fresh REGISTER; loop protection stops the next", async () => {
    const h = await EngineHarness.started({ rows: [kate], options: { spreadTick: false } });
    await h.advance(5000);
    const reg = h.sip.reply(200, TWO);
    await h.advance(0);
    const star = h.sip.last;
    assert.equal(star.contact, "*");
    assert.equal(star.callId, reg.callId);
    assert.equal(star.cseq, 2);
    assert.equal(h.record(kate).state, S.UNREGISTERING_STATE);
    h.sip.reply(401, CHALLENGE);
    await h.advance(0);
    assert.equal(h.sip.last.contact, "*", "a challenged Contact: * stays Contact: *");
    assert.equal(h.record(kate).state, S.AUTHENTICATING_UNREGISTER_STATE);
    h.sip.reply(200);
    await h.advance(0);
    const fresh = h.sip.last;
    assert.notEqual(fresh.callId, reg.callId);
    assert.equal(fresh.cseq, 1);
    assert.equal(h.record(kate).state, S.REGISTERING_STATE);
    h.sip.reply(200, TWO);
    await h.advance(0);
    assert.equal(h.record(kate).state, S.REGISTERED_STATE);
    assert.match(h.changes.at(-1)?.cause?.detail ?? "", /loop protection/);
  });

  test("OpenSIPS (unique_binding_max_removals=0) removes again every time", async () => {
    const h = await EngineHarness.started({ opensips: true, rows: [kate] });
    await h.advance(5000);
    for (let i = 0; i < 3; i++) {
      h.sip.reply(200, TWO);
      await h.advance(0);
      assert.equal(h.sip.last.contact, "*");
      h.sip.reply(200);
      await h.advance(0);
    }
  });
});

describe("notifications", () => {
  test("one StateChange per change with coords, record id and cause; a throwing listener breaks nothing", async () => {
    const h = new EngineHarness({ opensips: true, rows: [alice] });
    h.service.onStateChange(() => {
      throw new Error("boom");
    });
    await h.service.start();
    await h.advance(5000);
    h.sip.reply(403);
    await h.advance(0);
    const last = h.changes.at(-1)!;
    assert.deepEqual(last.coords, { aor: alice.aor, contact: alice.binding_URI, registrar: alice.registrar });
    assert.equal(last.recordId, h.record(alice).id);
    assert.equal(last.from, S.REGISTERING_STATE);
    assert.equal(last.to, S.REGISTRAR_ERROR_STATE);
    assert.equal(last.cause?.status, 403);
    assert.equal(h.changes.length, 2);
  });
});

describe("time", () => {
  test("an outcome reads the clock once: its change's time, the send time and the deadline agree", async () => {
    const h = await firstRegister();
    const rec = h.record(alice);
    const wall = h.clock.nowMs.bind(h.clock);
    let reads = 0;
    // from here on every read of the wall clock is a second later than the one before
    h.clock.nowMs = () => wall() + 1000 * reads++;
    h.sip.reply(401, CHALLENGE);
    await h.advance(0);
    const authenticating = h.changes.at(-1)!;
    assert.equal(authenticating.to, S.AUTHENTICATING_STATE);
    assert.equal(rec.lastRegisterSentSec, Math.floor(authenticating.atMs / 1000));
    h.sip.reply(200, OK60);
    await h.advance(0);
    const registeredChange = h.changes.at(-1)!;
    assert.equal(registeredChange.to, S.REGISTERED_STATE);
    assert.deepEqual(registeredChange.cause, {
      status: 200,
      reason: "Reason",
      destination: "192.0.2.7",
      expiresSec: 60,
    });
    // refreshed one timer interval (10 s) before the granted 60 s run out, counted from the change's second
    assert.equal(rec.registrationTimeoutSec, Math.floor(registeredChange.atMs / 1000) + 60 - 10);
  });
});
