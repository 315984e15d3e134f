import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ShtagRegistry } from "../../../src/cluster/shtag-registry.js";
import { RegState } from "../../../src/registrant/state.js";
import { EngineHarness, coordsOf, row } from "../../support/engine-harness.js";

const P1 = { tag: "p1", clusterId: 1 };

async function harness(rows = [row({ aor: "sip:alice@example.test", cluster_shtag: "p1/1", expiry: 60 })]) {
  const reg = new ShtagRegistry([{ ...P1, active: false }]);
  const h = await EngineHarness.started({
    rows,
    isActive: (t) => reg.isActive(t),
    options: { enableClustering: true, spreadTick: true },
  });
  const activate = (): void => {
    reg.set(P1, true, "lock acquired");
    h.service.shtagChanged(P1, true);
  };
  return { h, reg, activate };
}

describe("takeover of a sharing tag by the engine (resume, gate)", () => {
  it("a backup node sends nothing; a binding resumed before the gate opens refreshes at once when due", async () => {
    const { h, activate } = await harness();
    const r = row({ aor: "sip:alice@example.test", cluster_shtag: "p1/1", expiry: 60 });
    await h.tickAll();
    assert.equal(h.sip.sent.length, 0);
    const now = h.nowSec();
    const ok = h.service.resume(coordsOf(r), {
      callId: "saved-call",
      fromTag: "saved-tag",
      cseq: 9,
      expiresSec: 60,
      lastRegisterSentSec: now - 45,
      registrationTimeoutSec: now - 45 + 60 - 10,
    });
    assert.equal(ok, true);
    assert.equal(h.record(r).state, RegState.REGISTERED_STATE);
    assert.equal(h.sip.sent.length, 0, "nothing sent while the tag is still backup");
    activate();
    assert.equal(h.sip.sent.length, 1, "due refresh sent when the tag turns active");
    assert.equal(h.sip.last.callId, "saved-call");
    assert.equal(h.sip.last.fromTag, "saved-tag");
    assert.equal(h.sip.last.cseq, 10);
  });

  it("a resumed binding not yet due is refreshed by its bucket before the saved deadline, same dialog", async () => {
    const { h, activate } = await harness();
    const r = row({ aor: "sip:alice@example.test", cluster_shtag: "p1/1", expiry: 60 });
    const now = h.nowSec();
    h.service.resume(coordsOf(r), {
      callId: "saved-call",
      fromTag: "saved-tag",
      cseq: 3,
      expiresSec: 60,
      lastRegisterSentSec: now - 5,
      registrationTimeoutSec: now + 45,
    });
    activate();
    assert.equal(h.sip.sent.length, 0);
    await h.advance(30_000);
    assert.equal(h.sip.sent.length, 0, "not before timer_interval ahead of the deadline");
    await h.advance(10_000);
    assert.equal(h.sip.sent.length, 1);
    assert.ok(h.nowSec() <= now + 45, "refreshed no later than the saved deadline");
    assert.equal(h.sip.last.callId, "saved-call");
    assert.equal(h.sip.last.cseq, 4);
  });

  it("only an idle NOT_REGISTERED record resumes", async () => {
    const { h, activate } = await harness();
    const r = row({ aor: "sip:alice@example.test", cluster_shtag: "p1/1", expiry: 60 });
    activate();
    await h.tickAll();
    assert.equal(h.sip.sent.length, 1);
    const saved = {
      callId: "x",
      fromTag: "y",
      cseq: 1,
      expiresSec: 60,
      lastRegisterSentSec: 0,
      registrationTimeoutSec: 0,
    };
    assert.equal(h.service.resume(coordsOf(r), saved), false);
    assert.equal(h.service.resume({ aor: "sip:nobody@x", contact: "sip:n@x", registrar: "sip:r" }, saved), false);
  });

  it("records waiting for their slot in a spread tick send nothing once the tag went backup", async () => {
    const rows = Array.from({ length: 6 }, (_, i) => row({ aor: `sip:u${i}@example.test`, cluster_shtag: "p1/1" }));
    const { h, reg, activate } = await harness(rows);
    activate();
    h.service.tick();
    h.service.tick();
    const before = h.sip.sent.length;
    assert.ok(before < 6, `some records wait for their slot (${before} sent at once)`);
    reg.set(P1, false, "handed over");
    h.service.shtagChanged(P1, false);
    await h.advance(20_000);
    assert.equal(h.sip.sent.length, before, "no REGISTER after the tag went backup");
  });
});
