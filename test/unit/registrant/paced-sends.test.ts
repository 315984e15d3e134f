import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SendPacer } from "../../../src/sip/send-pacer.js";
import { RegState } from "../../../src/registrant/state.js";
import { EngineHarness, coordsOf, row, testSpecFromRow } from "../../support/engine-harness.js";
import { FakeSipClient } from "../../support/fake-sip-client.js";
import type { RecordSpec } from "../../../src/registrant/record-spec.js";

/** The engine behind a send pacer with one transaction in flight: the others wait in its queue. */
function pacedHarness(rows: ReturnType<typeof row>[]): { h: EngineHarness; wire: FakeSipClient } {
  const wire = new FakeSipClient();
  const inner = Object.assign(wire, { hasSocket: () => true });
  const h = new EngineHarness({
    opensips: true,
    rows,
    sip: new SendPacer(inner, { maxInFlight: 1, rate: 0, ratePerRegistrar: 0 }),
  });
  return { h, wire };
}

const ok = (uri: string) => ({
  kind: "response" as const,
  response: {
    kind: "response" as const,
    status: 200,
    reason: "OK",
    headers: [{ name: "contact", value: `<${uri}>;expires=60` }],
    body: Buffer.alloc(0),
  },
  destination: { transport: "udp" as const, address: "192.0.2.7", port: 5060, socket: "udp:127.0.0.1:5080" },
});

describe("sends through a queue (send pacing)", () => {
  const rows = ["u1", "u2", "u3"].map((u) => row({ aor: `sip:${u}@example.test` }));

  test("a waiting record is REGISTERING at once; its request is built when it leaves the queue", async () => {
    const { h, wire } = pacedHarness(rows);
    await h.service.start();
    h.service.tick();
    h.service.tick();
    assert.equal(wire.sent.length, 1);
    for (const r of rows) assert.equal(h.service.find(coordsOf(r))!.state, RegState.REGISTERING_STATE);
    for (let i = 0; i < 3; i++) {
      const p = wire.sent[i]!;
      assert.equal(p.request.cseq, 1);
      p.resolve(ok(typeof p.request.contact === "string" ? "" : p.request.contact.uri));
      await h.advance(0);
    }
    assert.equal(wire.sent.length, 3);
    for (const r of rows) assert.equal(h.service.find(coordsOf(r))!.state, RegState.REGISTERED_STATE);
  });

  test("a record replaced while its REGISTER waits sends nothing; its successor registers", async () => {
    const { h, wire } = pacedHarness(rows);
    await h.service.start();
    h.service.tick();
    h.service.tick();
    const spec = testSpecFromRow(rows[2]!) as RecordSpec;
    h.service.upsert({ ...spec, expirySec: 120 });
    for (let i = 0; i < 2; i++) {
      const p = wire.sent[i]!;
      p.resolve(ok(typeof p.request.contact === "string" ? "" : p.request.contact.uri));
      await h.advance(0);
    }
    assert.equal(wire.sent.length, 2, "u3's first REGISTER was dropped in the queue");
    h.service.tick();
    h.service.tick();
    assert.equal(wire.sent.length, 3);
    const last = wire.sent[2]!.request;
    assert.equal(last.to, rows[2]!.aor);
    assert.equal(typeof last.contact === "string" ? -1 : last.contact.expiresSec, 120);
  });
});
