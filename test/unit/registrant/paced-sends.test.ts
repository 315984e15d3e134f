import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SendPacer } from "../../../src/sip/send-pacer.js";
import { RegState } from "../../../src/registrant/state.js";
import { EngineHarness, coordsOf, row, testSpecFromRow } from "../../support/engine-harness.js";
import { FAKE_DESTINATION, FakeSipClient, response } from "../../support/fake-sip-client.js";
import type { RecordSpec } from "../../../src/registrant/record-spec.js";
import type { RegisterRequest } from "../../../src/sip/sip-client.js";

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

const uriOf = (r: RegisterRequest): string => (typeof r.contact === "string" ? "" : r.contact.uri);

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

  test("a challenge answer goes before the records waiting for their first REGISTER", async () => {
    const { h, wire } = pacedHarness(rows);
    await h.service.start();
    h.service.tick();
    h.service.tick();
    wire.sent[0]!.resolve({
      kind: "response",
      response: response(401, { "www-authenticate": 'Digest realm="example.test", nonce="n1", qop="auth"' }),
      destination: FAKE_DESTINATION,
    });
    await h.advance(0);
    // the freed slot went to the next REGISTER in line before the 401 was handled; the answer takes the next one
    wire.sent[1]!.resolve(ok(uriOf(wire.sent[1]!.request)));
    await h.advance(0);
    const [first, , third] = wire.sent.map((p) => p.request);
    assert.equal(third!.to, first!.to);
    assert.equal(third!.cseq, 2);
    assert.equal(third!.authorization?.header, "Authorization");
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
