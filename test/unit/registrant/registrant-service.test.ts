import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { EngineHarness, coordsOf, row, testSpecFromRow } from "../../support/engine-harness.js";
import { RegState } from "../../../src/registrant/state.js";
import { RowError, StoreUnavailableError } from "../../../src/errors.js";
import type { RecordSpec } from "../../../src/registrant/record-spec.js";
import { RegistrantService } from "../../../src/registrant/registrant-service.js";
import { DEFAULT_CONFIG } from "../../../src/config/defaults.js";
import { silentLogger } from "../../../src/log.js";
import { MemoryStore } from "../../support/memory-store.js";
import { FakeSipClient } from "../../support/fake-sip-client.js";

const S = RegState;
const alice = row({ aor: "sip:alice@example.test", expiry: 60 });
const bob = row({ aor: "sip:bob@example.test", expiry: 60 });
const carol = row({ aor: "sip:carol@example.test", expiry: 60 });
const okFor = (r: typeof alice) => ({ contact: `<${r.binding_URI}>;expires=60` });

/** Everybody registered, answering 200 to whatever is pending. */
async function allRegistered(h: EngineHarness): Promise<void> {
  await h.advance(10_000);
  for (let guard = 0; guard < 20 && h.sip.pending.length > 0; guard++) {
    const p = h.sip.pending[0]!;
    h.sip.reply(200, { contact: `<${typeof p.request.contact === "string" ? "" : p.request.contact.uri}>;expires=60` });
    await h.advance(0);
  }
}

function specOf(r: typeof alice): RecordSpec {
  const s = testSpecFromRow(r);
  assert.ok(!(s instanceof RowError));
  return s;
}

describe("list / find", () => {
  test("bucket order, full-key lookups, RecordView fields", async () => {
    const h = await EngineHarness.started({
      opensips: true,
      rows: [
        bob,
        alice,
        row({
          aor: "sip:dave@example.test",
          proxy: "sip:p.test",
          third_party_registrant: "sip:admin@example.test",
          binding_params: ";transport=udp",
          cluster_shtag: "vip/1",
        }),
      ],
    });
    assert.deepEqual(
      [...h.service.list()].map((v) => v.aor),
      ["sip:alice@example.test", "sip:bob@example.test", "sip:dave@example.test"],
    );
    const dave = h.service.find({
      aor: "sip:dave@example.test",
      contact: "sip:dave@192.0.2.10:5060",
      registrar: "sip:registrar.test",
    })!;
    assert.equal(dave.proxy, "sip:p.test");
    assert.equal(dave.thirdPartyRegistrant, "sip:admin@example.test");
    assert.equal(dave.bindingParams, ";transport=udp");
    assert.deepEqual(dave.shtag, { tag: "vip", clusterId: 1 });
    assert.equal(dave.state, S.NOT_REGISTERED_STATE);
    assert.equal(dave.enabled, true);
    assert.equal(dave.expiresSec, 3600);
    // the AOR is compared too (§11.3)
    assert.equal(h.service.find({ ...coordsOf(alice), aor: "sip:bob@example.test" }), undefined);
  });

  test("socket and destination appear after the first reply", async () => {
    const h = await EngineHarness.started({ opensips: true, rows: [alice] });
    await h.advance(5000);
    h.sip.reply(200, okFor(alice));
    await h.advance(0);
    const v = h.service.find(coordsOf(alice))!;
    assert.equal(v.socket, "udp:127.0.0.1:5080");
    assert.equal(v.dstIp, "192.0.2.7");
    assert.equal(v.lastRegisterSentSec, h.nowSec());
  });
});

describe("full reload (reference §7.4 with the §11.4 fix)", () => {
  test("unchanged records keep everything; removed and disabled rows are unregistered; changes rebuild", async () => {
    const h = await EngineHarness.started({ opensips: true, rows: [alice, bob, carol] });
    await allRegistered(h);
    for (const r of [alice, bob, carol]) assert.equal(h.record(r).state, S.REGISTERED_STATE);
    const aliceBefore = h.record(alice);
    const carolId = h.record(carol).id;
    const bobCallId = h.record(bob).callId;
    const sentBefore = h.sip.sent.length;
    const changesBefore = h.changes.length;

    // bob disabled in the DB, carol removed, a new row for erin, alice untouched
    const erin = row({ aor: "sip:erin@example.test" });
    h.store.rows = [alice, { ...bob, state: 1 }, erin];
    await h.service.reloadAll();

    assert.equal(h.record(alice), aliceBefore, "same record object");
    assert.equal(h.record(alice).state, S.REGISTERED_STATE);
    const unregs = h.sip.sent.slice(sentBefore).map((s) => s.request);
    assert.deepEqual(unregs.map((r) => r.to).sort(), ["sip:bob@example.test", "sip:carol@example.test"]);
    for (const r of unregs) assert.equal(typeof r.contact === "string" ? -1 : r.contact.expiresSec, 0);
    assert.equal(unregs.find((r) => r.to === bob.aor)!.callId, bobCallId);
    assert.equal(h.record(bob).state, S.UNREGISTERING_STATE);
    assert.equal(h.service.find(coordsOf(carol)), undefined);
    assert.equal(h.service.detachedCount, 1, "carol finishes her unREGISTER");
    assert.equal(h.record(erin).state, S.NOT_REGISTERED_STATE);
    assert.ok(
      h.changes.slice(changesBefore).every((c) => c.coords.aor !== alice.aor),
      "no event for alice",
    );
    assert.deepEqual(
      h.tableChanges.slice(-1).map((c) => `${c.kind} ${c.coords.aor}`),
      ["added sip:erin@example.test"],
    );

    // carol's unREGISTER (sent first) is challenged: answered even though she left the table
    assert.equal(h.sip.pending[0]!.request.to, carol.aor);
    h.sip.reply(401, { "www-authenticate": 'Digest realm="r", nonce="n"' });
    await h.advance(0);
    assert.ok(h.sip.last.authorization !== undefined && h.sip.last.to === carol.aor);
    h.sip.reply(200); // bob
    await h.advance(0);
    assert.equal(h.record(bob).state, S.NOT_REGISTERED_STATE);
    h.sip.reply(200); // carol
    await h.advance(0);
    assert.deepEqual(h.tableChanges.at(-1), { kind: "removed", coords: coordsOf(carol), recordId: carolId });
    assert.equal(h.service.detachedCount, 0);
  });

  test("a changed row rebuilds the record; an enabled REGISTERED one carries its dialog over silently", async () => {
    const h = await EngineHarness.started({ opensips: true, rows: [alice] });
    await allRegistered(h);
    const before = h.record(alice);
    const n = h.changes.length;
    h.store.rows = [{ ...alice, password: "newpw" }];
    await h.service.reloadAll();
    const after = h.record(alice);
    assert.notEqual(after.id, before.id);
    assert.equal(after.state, S.REGISTERED_STATE);
    assert.equal(after.callId, before.callId);
    assert.equal(after.cseq, before.cseq);
    assert.equal(after.registrationTimeoutSec, before.registrationTimeoutSec);
    assert.equal(h.changes.length, n);
    assert.deepEqual(h.tableChanges.at(-1), {
      kind: "replaced",
      coords: coordsOf(alice),
      recordId: after.id,
      previousId: before.id,
    });
  });

  test("a reply for a replaced record never lands on its successor (stable ids)", async () => {
    const h = await EngineHarness.started({ opensips: true, rows: [alice] });
    await h.advance(5000);
    assert.equal(h.record(alice).state, S.REGISTERING_STATE);
    h.store.rows = [{ ...alice, expiry: 120 }];
    await h.service.reloadAll();
    const fresh = h.record(alice);
    assert.equal(fresh.state, S.NOT_REGISTERED_STATE);
    h.sip.reply(200, okFor(alice));
    await h.advance(0);
    assert.equal(h.record(alice).state, S.NOT_REGISTERED_STATE);
  });

  test("a store outage rejects with StoreUnavailableError and keeps memory as it was", async () => {
    const h = await EngineHarness.started({ opensips: true, rows: [alice, bob] });
    await allRegistered(h);
    const before = [...h.service.list()];
    h.store.down = true;
    await assert.rejects(h.service.reloadAll(), StoreUnavailableError);
    await assert.rejects(h.service.reloadOne(coordsOf(alice)), StoreUnavailableError);
    assert.deepEqual([...h.service.list()], before);
  });

  test("duplicate keys: the first row wins", async () => {
    const h = await EngineHarness.started({ opensips: true, rows: [alice, { ...alice, id: "dup", expiry: 999 }] });
    assert.equal([...h.service.list()].length, 1);
    assert.equal(h.record(alice).spec.expirySec, 60, "the first row's expiry, not the duplicate's 999");
  });
});

describe("reload one / upsert / delete (reference §7.5, §7.8, §7.9)", () => {
  test("reloadOne: not in the DB, invalid row (error names the column), new row, disabled row", async () => {
    const h = await EngineHarness.started({ opensips: true, rows: [alice] });
    await allRegistered(h);
    assert.equal(await h.service.reloadOne(coordsOf(bob)), "not-in-db");
    h.store.rows.push({ ...bob, registrar: bob.registrar, aor: bob.aor, binding_URI: bob.binding_URI });
    assert.equal(await h.service.reloadOne(coordsOf(bob)), "ok");
    assert.equal(h.record(bob).state, S.NOT_REGISTERED_STATE);

    h.store.rows[0] = { ...alice, state: 1 };
    assert.equal(await h.service.reloadOne(coordsOf(alice)), "ok");
    assert.equal(h.record(alice).state, S.UNREGISTERING_STATE);
    assert.equal(h.record(alice).enabled, false);
    assert.equal(h.store.writes.length, 0, "a reload does not write the state back");
  });

  test("upsert appends, leaves an identical record alone, and turning a registered record off unregisters it", async () => {
    const h = await EngineHarness.started({ opensips: true, rows: [alice] });
    await allRegistered(h);
    const before = h.record(alice);
    h.service.upsert(specOf(alice));
    assert.equal(h.record(alice), before);

    h.service.upsert(specOf(bob));
    assert.equal(h.record(bob).state, S.NOT_REGISTERED_STATE);
    assert.equal(h.tableChanges.at(-1)?.kind, "added");

    const n = h.sip.sent.length;
    h.service.upsert({ ...specOf(alice), enabled: false, password: "changed" });
    const after = h.record(alice);
    assert.notEqual(after.id, before.id);
    assert.equal(after.state, S.UNREGISTERING_STATE);
    assert.equal(h.sip.sent.length, n + 1);
    assert.equal(h.sip.last.callId, before.callId);
    assert.equal(h.sip.last.cseq, before.cseq + 1);
    assert.equal(h.store.writes.length, 0, "upsert is memory only");
  });

  test("delete: disable logic with state=1 written, unREGISTER completes, record gone at once", async () => {
    const h = await EngineHarness.started({ opensips: true, rows: [alice] });
    await allRegistered(h);
    assert.equal(await h.service.delete({ ...coordsOf(alice), registrar: "sip:other" }), false);
    assert.equal(await h.service.delete(coordsOf(alice)), true);
    assert.deepEqual(h.store.writes, [{ coords: coordsOf(alice), state: 1 }]);
    assert.equal(h.service.find(coordsOf(alice)), undefined);
    assert.equal(h.sip.last.contact !== "*" && h.sip.last.contact.expiresSec, 0);
    assert.equal(h.tableChanges.at(-1)?.kind, "added", "removed only once forgotten");
    h.sip.reply(200);
    await h.advance(0);
    assert.equal(h.service.detachedCount, 0);
    assert.equal(h.changes.at(-1)?.to, S.NOT_REGISTERED_STATE);
    assert.equal(h.tableChanges.at(-1)?.kind, "removed");
  });

  test("enable/disable: a store write failure is logged, the operation still happens (OpenSIPS ignores the UPDATE result)", async () => {
    const h = await EngineHarness.started({ opensips: true, rows: [alice] });
    await allRegistered(h);
    h.store.down = true;
    assert.equal(await h.service.disable(coordsOf(alice)), true);
    assert.equal(h.record(alice).state, S.UNREGISTERING_STATE);
  });
});

describe("cluster gate (reference §10)", () => {
  const tagged = row({ aor: "sip:alice@example.test", cluster_shtag: "vip/1" });

  test("a tagged record is never registered without clustering; with it only while the tag is active", async () => {
    const off = await EngineHarness.started({ opensips: true, rows: [tagged], isActive: () => true });
    await off.advance(30_000);
    assert.equal(off.sip.sent.length, 0);

    let active = false;
    const h = await EngineHarness.started({
      opensips: true,
      rows: [tagged],
      options: { enableClustering: true },
      isActive: () => active,
    });
    await h.advance(30_000);
    assert.equal(h.sip.sent.length, 0);
    active = true;
    await h.advance(10_000);
    assert.equal(h.sip.sent.length, 1);
    h.sip.reply(200, okFor(tagged));
    await h.advance(0);
    assert.equal(h.record(tagged).state, S.REGISTERED_STATE);

    active = false;
    h.service.shtagChanged({ tag: "vip", clusterId: 1 }, false);
    assert.equal(h.record(tagged).state, S.NOT_REGISTERED_STATE);
    assert.equal(h.sip.sent.length, 1, "no SIP when the tag goes backup");
  });

  test("a reply arriving after the switch to backup does not leave the record registered (§11.27)", async () => {
    let active = true;
    const h = await EngineHarness.started({
      opensips: true,
      rows: [tagged],
      options: { enableClustering: true },
      isActive: () => active,
    });
    await h.advance(5000);
    active = false;
    h.sip.reply(200, okFor(tagged));
    await h.advance(0);
    assert.equal(h.record(tagged).state, S.NOT_REGISTERED_STATE);
  });

  test("cluster id 0 is always active", async () => {
    const h = await EngineHarness.started({ opensips: true, rows: [{ ...tagged, cluster_shtag: "vip/0" }] });
    await h.advance(5000);
    assert.equal(h.sip.sent.length, 1);
  });
});

describe("timer work and spreading (reference §3.6, §11.16)", () => {
  test("a tick touches only the due records of its bucket", async () => {
    const rows = Array.from({ length: 50 }, (_, i) => row({ aor: `sip:u${i}@example.test` }));
    const h = await EngineHarness.started({ opensips: true, rows });
    const due0 = h.service.tick() + h.service.tick();
    assert.equal(due0, 50);
    for (const p of h.sip.pending)
      p.resolve({
        kind: "response",
        response: {
          kind: "response",
          status: 200,
          reason: "OK",
          headers: [
            {
              name: "contact",
              value: `<${typeof p.request.contact === "string" ? "" : p.request.contact.uri}>;expires=3600`,
            },
          ],
          body: Buffer.alloc(0),
        },
        destination: { transport: "udp", address: "1.1.1.1", port: 5060, socket: "udp:1.1.1.1:5060" },
      });
    await h.advance(0);
    assert.equal(h.service.tick() + h.service.tick(), 0, "nothing due right after registering");
  });

  test("with spreading, the due records of a bucket go out over the period, not in one burst", async () => {
    const rows = Array.from({ length: 40 }, (_, i) => row({ aor: `sip:u${i}@example.test` }));
    const h = await EngineHarness.started({ rows, options: { hashSize: 0, timerIntervalSec: 10 } });
    await h.advance(10_000);
    assert.equal(h.sip.sent.length, 1);
    await h.advance(4_500);
    assert.ok(
      h.sip.sent.length > 15 && h.sip.sent.length < 25,
      `about half after half the period: ${h.sip.sent.length}`,
    );
    await h.advance(4_500);
    assert.equal(h.sip.sent.length, 40);
  });
});

describe("graceful stop", () => {
  test("unregister: every registered record sends its unREGISTER, stop waits for the replies", async () => {
    const h = await EngineHarness.started({ opensips: true, rows: [alice, bob] });
    await allRegistered(h);
    const stopped = h.service.stop({ unregister: true });
    const unregs = h.sip.pending.map((p) => p.request);
    assert.equal(unregs.length, 2);
    assert.ok(unregs.every((r) => r.contact !== "*" && r.contact.expiresSec === 0));
    let done = false;
    void stopped.then(() => (done = true));
    h.sip.reply(200);
    await h.advance(0);
    assert.equal(done, false);
    h.sip.reply(200);
    await h.advance(0);
    await stopped;
    assert.equal(h.timers.count, 0, "no timer left");
  });

  test("the wait is bounded by shutdown_unregister_timeout", async () => {
    const h = await EngineHarness.started({ opensips: true, rows: [alice] });
    await allRegistered(h);
    const stopped = h.service.stop({ unregister: true });
    await h.advance(5000);
    await stopped;
  });
});

describe("fromConfig", () => {
  test("options from the config, OpenSIPS's row checks: a bad row is skipped, the others load", async () => {
    const store = new MemoryStore([alice, { ...bob, expiry: 5 }, { ...carol, registrar: "sip:user@registrar.test" }]);
    const sip = Object.assign(new FakeSipClient(), { hasSocket: () => true });
    const service = RegistrantService.fromConfig(
      { ...DEFAULT_CONFIG, timer_interval: 10 },
      { store, sip, log: silentLogger },
    );
    await service.start();
    assert.deepEqual(
      [...service.list()].map((v) => v.aor),
      [alice.aor],
    );
    await service.stop();
    assert.throws(
      () =>
        RegistrantService.fromConfig(
          { ...DEFAULT_CONFIG, timer_interval: 10, hash_size: 4 },
          { store, sip, log: silentLogger },
        ),
      /MUST be at least as big as reg_hsize=\[16\]/,
    );
  });
});
