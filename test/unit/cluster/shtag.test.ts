import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseShtagDecl, parseShtagRef } from "../../../src/cluster/shtag.js";
import { ShtagRegistry } from "../../../src/cluster/shtag-registry.js";
import type { ShtagChange } from "../../../src/cluster/shtag-registry.js";
import { isPublishedEvent } from "../../../src/events/catalog.js";
import { Subscriptions } from "../../../src/events/subscriptions.js";
import { silentLogger } from "../../../src/log.js";

describe("sharing tags", () => {
  it("parses OpenSIPS's sharing_tag modparam and MI tag forms", () => {
    assert.deepEqual(parseShtagDecl("vip1/2=active"), { ok: true, value: { tag: "vip1", clusterId: 2, active: true } });
    assert.deepEqual(parseShtagDecl(" node / 10 = backup "), {
      ok: true,
      value: { tag: "node", clusterId: 10, active: false },
    });
    assert.equal(parseShtagDecl("vip1/2").ok, false);
    assert.equal(parseShtagDecl("vip1/2=on").ok, false);
    assert.deepEqual(parseShtagRef(" vip1 / 2 "), { ok: true, value: { tag: "vip1", clusterId: 2 } });
    assert.deepEqual(parseShtagRef("vip1"), { ok: false, error: "Bad tag format <name/cluster_id>" });
    assert.deepEqual(parseShtagRef("/2"), { ok: false, error: "Bad tag format <name/cluster_id>" });
    assert.deepEqual(parseShtagRef("vip1/x"), { ok: false, error: "Bad cluster ID in tag" });
  });

  it("the registry reports real transitions only; unknown tags are backup; the lease guard closes the gate", () => {
    const reg = new ShtagRegistry([{ tag: "vip1", clusterId: 2, active: true }]);
    const seen: ShtagChange[] = [];
    reg.onChange((c) => seen.push(c));
    assert.equal(reg.isActive({ tag: "vip1", clusterId: 2 }), true);
    assert.equal(reg.isActive({ tag: "vip1", clusterId: 3 }), false);
    assert.equal(reg.set({ tag: "vip1", clusterId: 2 }, true, "MI command"), false);
    assert.equal(reg.set({ tag: "vip1", clusterId: 2 }, false, "lock lost"), true);
    assert.equal(reg.set({ tag: "new", clusterId: 2 }, true, "MI command"), true);
    assert.deepEqual(seen, [
      { tag: "vip1", clusterId: 2, active: false, reason: "lock lost" },
      { tag: "new", clusterId: 2, active: true, reason: "MI command" },
    ]);
    let lease = true;
    reg.setGuard(() => lease);
    assert.equal(reg.isActive({ tag: "new", clusterId: 2 }), true);
    lease = false;
    assert.equal(reg.isActive({ tag: "new", clusterId: 2 }), false);
    assert.deepEqual(
      reg.list().map((e) => [e.tag, e.clusterId, e.active]),
      [
        ["vip1", 2, false],
        ["new", 2, true],
      ],
    );
  });

  it("E_CLUSTERER_SHARING_TAG_CHANGED can be subscribed like the registrant events", async () => {
    assert.equal(isPublishedEvent("E_CLUSTERER_SHARING_TAG_CHANGED"), true);
    assert.equal(isPublishedEvent("E_CLUSTERER_NODE_STATE_CHANGED"), false);
    const subs = new Subscriptions({ outboxSize: 10, log: silentLogger });
    const r = subs.subscribe("E_CLUSTERER_SHARING_TAG_CHANGED", "rabbitmq:guest:guest@127.0.0.1:1/shtags");
    assert.deepEqual(r, { ok: true, refreshed: false });
    assert.equal(subs.subscribers("E_CLUSTERER_SHARING_TAG_CHANGED").length, 1);
    await subs.close(10);
  });
});
