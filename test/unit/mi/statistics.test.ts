import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { registrantCounters } from "../../../src/mi/commands/statistics.js";
import { Statistics } from "../../../src/statistics.js";
import { EngineHarness, row } from "../../support/engine-harness.js";
import { flush } from "../../support/fake-sip-client.js";

describe("Statistics", () => {
  it("counters are get-or-create and shared by name", () => {
    const s = new Statistics();
    s.counter("uac_registrant", "register_sent").inc();
    s.counter("uac_registrant", "register_sent").inc(2);
    assert.equal(s.counter("uac_registrant", "register_sent").get(), 3);
    assert.deepEqual(s.list(), [{ group: "uac_registrant", name: "register_sent", kind: "incremental" }]);
  });

  it("a gauge group is computed once per read, reset leaves gauges alone", () => {
    const s = new Statistics();
    let passes = 0;
    s.gauges("uac_registrant", ["records", "records_registered"], () => {
      passes++;
      return { records: 5, records_registered: 2 };
    });
    s.counter("mi", "requests").inc(7);
    const values = s.read(["uac_registrant:records", "uac_registrant:records_registered", "mi:requests", "nosuch:x"]);
    assert.deepEqual(
      [...values],
      [
        ["uac_registrant:records", 5],
        ["uac_registrant:records_registered", 2],
        ["mi:requests", 7],
      ],
    );
    assert.equal(passes, 1);
    assert.equal(s.reset("mi:requests"), true);
    assert.equal(s.reset("uac_registrant:records"), true);
    assert.equal(s.reset("nosuch:x"), false);
    assert.deepEqual(
      [...s.read(["mi:requests", "uac_registrant:records"])],
      [
        ["mi:requests", 0],
        ["uac_registrant:records", 5],
      ],
    );
  });
});

describe("registrantCounters on the engine's state changes", () => {
  it("counts REGISTERs sent, replies by class and timeouts", async () => {
    const stats = new Statistics();
    const h = new EngineHarness({
      rows: [row({ aor: "sip:alice@example.test" }), row({ aor: "sip:bob@example.test" })],
    });
    h.service.onStateChange(registrantCounters(stats));
    await h.service.start();
    await h.tickAll();
    assert.equal(h.sip.pending.length, 2);
    h.sip.reply(401, { "www-authenticate": 'Digest realm="example.test", nonce="abc"' });
    h.sip.timeout();
    await flush();
    h.sip.reply(200, { contact: "<sip:alice@192.0.2.10:5060>;expires=3600" });
    await flush();
    const v = Object.fromEntries(stats.read(stats.list().map((s) => `${s.group}:${s.name}`)));
    assert.equal(v["uac_registrant:register_sent"], 3);
    assert.equal(v["uac_registrant:replies_4xx"], 1);
    assert.equal(v["uac_registrant:replies_2xx"], 1);
    assert.equal(v["uac_registrant:timeouts"], 1);
    await h.service.stop({ unregister: false });
  });
});
