import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createShtagRegistry, startCluster } from "../../../src/cluster/cluster-service.js";
import type { ShtagChange } from "../../../src/cluster/shtag-registry.js";
import { validateConfig } from "../../../src/config/load.js";
import { silentLogger } from "../../../src/log.js";
import { clustererCommands } from "../../../src/mi/commands/clusterer.js";
import { createMiDispatcher } from "../../../src/mi/dispatch.js";
import { EngineHarness, row } from "../../support/engine-harness.js";

async function staticNode() {
  const { config } = validateConfig({
    enable_clustering: 1,
    sharing_tag: ["vip1/2=active", "node/10=backup"],
    cluster: { election: "static" },
  });
  const registry = createShtagRegistry(config);
  const h = await EngineHarness.started({
    rows: [
      row({ aor: "sip:vip@example.test", cluster_shtag: "vip1/2" }),
      row({ aor: "sip:node@example.test", cluster_shtag: "node/10" }),
    ],
    isActive: (t) => registry.isActive(t),
    options: { enableClustering: true },
  });
  const cluster = await startCluster(config, { service: h.service, registry, log: silentLogger });
  assert.ok(cluster !== undefined);
  const mi = createMiDispatcher({ log: silentLogger });
  mi.register(clustererCommands(cluster));
  const call = async (method: string, params?: unknown): Promise<string> => {
    const out = await mi.handle(
      JSON.stringify({ jsonrpc: "2.0", method, id: 1, ...(params !== undefined ? { params } : {}) }),
      "test",
    );
    assert.equal(out.kind, "reply");
    return out.kind === "reply" ? out.text : "";
  };
  return { h, cluster, call };
}

describe("clusterer MI commands (static election)", () => {
  it("list_shtags answers OpenSIPS's shape, under both names", async () => {
    const { call } = await staticNode();
    const expected =
      '{"jsonrpc":"2.0","result":[{"Tag":"vip1","Cluster":2,"State":"active"},' +
      '{"Tag":"node","Cluster":10,"State":"backup"}],"id":1}';
    assert.equal(await call("clusterer_list_shtags"), expected);
    assert.equal(await call("clusterer:list_shtags"), expected);
  });

  it("only records of active tags register; shtag_set_active activates, raises one change, and they register", async () => {
    const { h, cluster, call } = await staticNode();
    const changes: ShtagChange[] = [];
    cluster.onChange((c) => changes.push(c));
    await h.tickAll();
    assert.deepEqual(
      h.sip.sent.map((s) => s.request.to),
      ["sip:vip@example.test"],
    );
    assert.equal(
      await call("clusterer:shtag_set_active", { tag: " node / 10 " }),
      '{"jsonrpc":"2.0","result":"OK","id":1}',
    );
    assert.equal(await call("clusterer_shtag_set_active", ["node/10"]), '{"jsonrpc":"2.0","result":"OK","id":1}');
    assert.deepEqual(changes, [{ tag: "node", clusterId: 10, active: true, reason: "MI command" }]);
    await h.tickAll();
    assert.deepEqual(h.sip.sent.map((s) => s.request.to).sort(), ["sip:node@example.test", "sip:vip@example.test"]);
  });

  it("errors as OpenSIPS words them; an unknown tag in a known cluster is created", async () => {
    const { call } = await staticNode();
    const err = (code: number, message: string) =>
      `{"jsonrpc":"2.0","error":{"code":${code},"message":"${message}"},"id":1}`;
    assert.equal(
      await call("clusterer_shtag_set_active", { tag: "vip1" }),
      err(400, "Bad tag format <name/cluster_id>"),
    );
    assert.equal(await call("clusterer_shtag_set_active", { tag: "vip1/x" }), err(400, "Bad cluster ID in tag"));
    assert.equal(await call("clusterer_shtag_set_active", { tag: "vip1/7" }), err(404, "Cluster ID not found"));
    assert.equal(
      await call("clusterer_shtag_set_active", { tag: "extra/2" }),
      '{"jsonrpc":"2.0","result":"OK","id":1}',
    );
    assert.match(await call("clusterer_list_shtags"), /\{"Tag":"extra","Cluster":2,"State":"active"\}/);
  });
});
