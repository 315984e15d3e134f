import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { corpus, fuzz, mutate } from "../../bench/fuzz-parser.js";
import { prng } from "../../support/prng.js";

describe("SIP wire layer fuzzing (short slice of test/bench/fuzz-parser.ts)", () => {
  it("20,000 mutated golden messages: no throw, every failure typed", () => {
    const report = fuzz(20261204, 20_000);
    assert.deepEqual(report.failures, []);
    assert.equal(report.count, 20_000);
    // the mutations leave a good share parseable, so the readers behind the parser are exercised too
    assert.ok(report.parsedOk > 2_000, `only ${report.parsedOk} parsed`);
  });

  it("is reproducible from its seed", () => {
    const pool = corpus();
    const a = prng(7);
    const b = prng(7);
    for (let i = 0; i < 200; i++) {
      const src = pool[i % pool.length]!;
      assert.deepEqual(mutate(src, a, pool), mutate(src, b, pool));
    }
  });
});
