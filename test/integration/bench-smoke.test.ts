import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { startRig } from "../bench/scenarios/rig.js";
import type { Rig } from "../bench/scenarios/rig.js";
import { runStorm } from "../bench/scenarios/storm.js";

/**
 * The benchmark suite kept from rotting: the storm scenario at N = 1,000 (registrantd in its own process against
 * the load registrar, every REGISTER challenged). Asserts only that every registration completed; the figures
 * are printed by `npm run bench`, never checked here.
 */
describe("bench smoke: storm of 1,000", () => {
  let rig: Rig | undefined;
  after(async () => {
    await rig?.close();
  });

  it("registers every record through a 401 challenge", async () => {
    rig = await startRig({ n: 1_000, store: "db_text" });
    assert.equal(rig.probe.ready.records, 1_000);
    const storm = await runStorm(rig, 100_000);
    assert.equal(storm.figures.registered, 1_000);
    const registrar = await rig.registrar.stats();
    assert.ok(registrar.registered >= 1_000, `registrar saw ${registrar.registered} authenticated REGISTERs`);
    assert.equal(registrar.rejected, 0, "no digest was refused");
  });
});
