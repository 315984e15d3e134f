import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { EngineHarness, row } from "../../support/engine-harness.js";
import { RegState } from "../../../src/registrant/state.js";

const alice = row({ aor: "sip:alice@example.test", expiry: 60 }); // bucket 0 of 2

async function registeredAt(h: EngineHarness): Promise<number> {
  await h.advance(5000);
  h.sip.reply(200, { contact: `<${alice.binding_URI}>;expires=60` });
  await h.advance(0);
  assert.equal(h.record(alice).state, RegState.REGISTERED_STATE);
  return h.clock.monoMs();
}

describe("timer (reference §3.6)", () => {
  test("each bucket is visited every TI: bucket 0 at +5, +15, +25 s... with TI=10 and 2 buckets", async () => {
    const h = await EngineHarness.started({ opensips: true, rows: [alice] });
    const visits: number[] = [];
    // count firings through the record's refreshes: answer every REGISTER with expires=11 (refresh each visit)
    h.sip.autoAnswer = (req) => {
      visits.push(h.clock.monoMs());
      return {
        kind: "response",
        response: {
          kind: "response",
          status: 200,
          reason: "OK",
          headers: [{ name: "contact", value: `<${alice.binding_URI}>;expires=11` }],
          body: Buffer.alloc(0),
        },
        destination: { transport: "udp", address: "192.0.2.7", port: 5060, socket: req.requestUri },
      };
    };
    await h.advance(36_000);
    assert.deepEqual(visits, [5_000, 15_000, 25_000, 35_000]);
  });
});

describe("wall-clock jumps", () => {
  test("a step back does not push the refresh past the registrar's expiry", async () => {
    const h = await EngineHarness.started({ opensips: true, rows: [alice] });
    const okAt = await registeredAt(h);
    h.clock.jumpWall(-3_600_000);
    await h.advance(50_000);
    assert.equal(h.sip.sent.length, 2, "refreshed within the expiry");
    assert.ok(h.clock.monoMs() - okAt <= 50_000);
  });

  test("a step forward does not make everything due at once", async () => {
    const h = await EngineHarness.started({ opensips: true, rows: [alice] });
    await registeredAt(h);
    h.clock.jumpWall(3_600_000);
    await h.advance(20_000);
    assert.equal(h.sip.sent.length, 1, "no early refresh");
    await h.advance(30_000);
    assert.equal(h.sip.sent.length, 2);
  });
});

describe("cluster gate at a tick", () => {
  test("held records stay due for a later tick, the others are visited in bucket and load order", async () => {
    const rows = Array.from({ length: 12 }, (_, i) =>
      row({ aor: `sip:u${i}@example.test`, cluster_shtag: i % 3 === 1 ? "held/1" : "free/0" }),
    );
    let open = false;
    const h = await EngineHarness.started({
      opensips: true,
      rows,
      options: { enableClustering: true },
      isActive: (tag) => open || tag.tag === "free",
    });
    const sent = () => h.sip.sent.map((s) => s.request.to);
    const inTickOrder = (rs: typeof rows) =>
      rs
        .map((r, i) => ({ aor: r.aor!, bucket: h.record(r).bucket, i }))
        .sort((a, b) => a.bucket - b.bucket || a.i - b.i)
        .map((r) => r.aor);
    await h.tickAll();
    assert.deepEqual(sent(), inTickOrder(rows.filter((_, i) => i % 3 !== 1)));
    open = true;
    await h.tickAll();
    assert.deepEqual(sent().slice(8), inTickOrder(rows.filter((_, i) => i % 3 === 1)));
  });
});
