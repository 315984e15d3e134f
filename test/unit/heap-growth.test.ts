import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyHeapGrowth } from "../../src/heap-growth.js";

describe("applyHeapGrowth", () => {
  it("sets V8's growing factor and gives V8's own choice back with 0", () => {
    assert.doesNotThrow(() => applyHeapGrowth(50));
    assert.doesNotThrow(() => applyHeapGrowth(0));
  });

  it("refuses a negative or fractional percentage, naming the setting", () => {
    assert.throws(() => applyHeapGrowth(-1), /heap_growth_percent must be a whole number, 0 or more/);
    assert.throws(() => applyHeapGrowth(1.5), /heap_growth_percent/);
  });
});
