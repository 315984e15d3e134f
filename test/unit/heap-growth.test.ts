import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { growthPercent, limitHeapHeadroom, nextGrowthPercent } from "../../src/heap-growth.js";

const MB = 2 ** 20;

describe("heap headroom", () => {
  it("sets the growing factor so that the next full collection comes about the headroom later", () => {
    assert.equal(growthPercent(600 * MB, 256 * MB), 43); // a million records: 600 MB live
    assert.equal(growthPercent(150 * MB, 256 * MB), 171); // 100,000 records
    assert.equal(growthPercent(20 * MB, 256 * MB), 300, "a small heap: V8's own upper bound");
    assert.equal(growthPercent(4000 * MB, 256 * MB), 10, "a huge heap: V8's own lower bound");
    assert.equal(growthPercent(0, 256 * MB), 300);
  });

  it("aims at the live data the last interval's growth predicts, since V8 applies the factor at the next collection", () => {
    assert.equal(nextGrowthPercent(600 * MB, 0, 256 * MB), 43, "no history: the live data as it is");
    assert.equal(nextGrowthPercent(600 * MB, 600 * MB, 256 * MB), 43, "a steady heap: the same");
    assert.equal(nextGrowthPercent(600 * MB, 700 * MB, 256 * MB), 43, "a shrinking heap is not predicted to shrink");
    assert.equal(nextGrowthPercent(600 * MB, 300 * MB, 256 * MB), 21, "doubled: aim at 1,200 MB");
    assert.equal(nextGrowthPercent(400 * MB, 10 * MB, 256 * MB), 16, "growth counted at most fourfold");
  });

  it("follows the heap until stopped; 0 gives V8's own choice back", () => {
    const stop = limitHeapHeadroom(256);
    stop();
    assert.doesNotThrow(() => limitHeapHeadroom(0)());
  });

  it("refuses a negative or fractional headroom, naming the setting", () => {
    assert.throws(() => limitHeapHeadroom(-1), /heap_headroom_mb must be a whole number, 0 or more/);
    assert.throws(() => limitHeapHeadroom(1.5), /heap_headroom_mb/);
  });
});
