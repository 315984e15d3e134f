import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Statistics } from "../../../src/statistics.js";

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
