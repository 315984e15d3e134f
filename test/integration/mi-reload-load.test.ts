import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { silentLogger } from "../../src/log.js";
import { startMiHttp } from "../../src/mi/http-server.js";
import type { MiHttpServer } from "../../src/mi/http-server.js";
import { EngineHarness, row } from "../support/engine-harness.js";
import { buildMi } from "../support/golden-mi.js";
import { httpPost } from "../support/mi-clients.js";

const ROWS = Array.from({ length: 200 }, (_, i) =>
  row({
    id: String(i),
    aor: `sip:user${i}@example.test`,
    binding_URI: `sip:user${i}@192.0.2.10:5060`,
    state: i % 7 === 0 ? 1 : 0,
  }),
);
const coords = (i: number) => [`sip:user${i}@example.test`, `sip:user${i}@192.0.2.10:5060`, "sip:registrar.test"];

describe("a thousand concurrent MI requests during a full reload (real RegistrantService)", () => {
  let harness: EngineHarness;
  let http: MiHttpServer;

  before(async () => {
    harness = await EngineHarness.started({ rows: ROWS });
    const { dispatcher } = buildMi(harness.service);
    http = await startMiHttp({ enabled: true, ip: "127.0.0.1", port: 0, root: "mi" }, dispatcher, silentLogger);
  });
  after(async () => {
    await http?.close();
    await harness?.service.stop({ unregister: false });
  });

  it("answers every request, and only the reload changes the table", async () => {
    // keep the reload's DB read in flight while the other requests arrive
    const store = harness.store;
    const scanAll = store.scanAll.bind(store);
    store.scanAll = async (visit) => {
      await sleep(300);
      return scanAll(visit);
    };
    const port = http.address().port;
    const upsert = {
      aor: "sip:mem@example.test",
      contact: "sip:mem@192.0.2.10:5060",
      registrar: "sip:registrar.test",
      proxy: "",
      third_party_registrant: "",
      username: "",
      password: "",
      binding_params: "",
      expiry: 600,
      forced_socket: "",
      cluster_shtag: "",
      state: 0,
    };
    const bodies: string[] = [JSON.stringify({ jsonrpc: "2.0", method: "uac_registrant:reload", id: "reload" })];
    for (let i = 0; i < 1000; i++) {
      const n = i % 200;
      const req = [
        { method: "uac_registrant:list" },
        { method: "reg_list", params: coords(n) },
        { method: "uac_registrant:force_register", params: coords(n) },
        { method: "uac_registrant:upsert", params: { ...upsert, aor: "not a uri" } },
        { method: "uac_registrant:enable", params: coords(1000 + n) },
      ][i % 5]!;
      bodies.push(JSON.stringify({ jsonrpc: "2.0", id: i, ...req }));
    }
    const replies = await Promise.all(bodies.map((b) => httpPost(port, b)));
    for (const [i, r] of replies.entries()) {
      assert.equal(r.status, 200, `request ${i}`);
      const j = JSON.parse(r.body) as { result?: unknown; error?: { code: number; message: string } };
      if (i === 0) {
        assert.equal(j.result, "OK");
        continue;
      }
      switch ((i - 1) % 5) {
        case 0:
          assert.equal((j.result as { Records: unknown[] }).Records.length, 200);
          break;
        case 1:
          assert.ok((j.result as { Registrant?: unknown }).Registrant, r.body);
          break;
        case 2:
          assert.equal(j.result, "OK");
          break;
        case 3:
          assert.equal(j.error?.code, -32602);
          break;
        case 4:
          assert.deepEqual(j.error, { code: 404, message: "No such registrant" });
          break;
      }
    }
    const list = [...harness.service.list()];
    assert.equal(list.length, 200);
    for (const r of list) assert.equal(r.enabled, Number(/user(\d+)@/.exec(r.aor)![1]) % 7 !== 0, r.aor);
    assert.equal(store.writes.length, 0);
  });
});
