import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { planRound } from "../../../src/cluster/election-plan.js";

const TAGS = Array.from({ length: 12 }, (_, i) => `p${i}/1`);

/** In-memory lock server + nodes running planRound in turn, as the elector does (release, then GET_LOCK). */
class Sim {
  readonly owner = new Map<string, string>();
  readonly pins = new Map<string, string>();
  live: string[] = [];

  held(node: string): Set<string> {
    return new Set([...this.owner].filter(([, n]) => n === node).map(([t]) => t));
  }

  round(node: string): void {
    const plan = planRound({ me: node, tags: TAGS, liveNodes: this.live, held: this.held(node), pins: this.pins });
    for (const t of plan.release) this.owner.delete(t);
    let want = plan.want;
    for (const t of [...plan.mustHave, ...plan.candidates]) {
      const must = plan.mustHave.includes(t);
      if (!must && want <= 0) break;
      if (this.owner.has(t)) continue;
      this.owner.set(t, node);
      if (!must) want--;
    }
  }

  /** rounds of every live node until nothing moves (bounded) */
  settle(): number {
    for (let i = 1; i <= 20; i++) {
      const before = JSON.stringify([...this.owner].sort());
      for (const n of this.live) this.round(n);
      if (JSON.stringify([...this.owner].sort()) === before) return i;
    }
    throw new Error("did not settle in 20 rounds");
  }

  kill(node: string): void {
    this.live = this.live.filter((n) => n !== node);
    for (const t of this.held(node)) this.owner.delete(t);
  }

  counts(): number[] {
    return this.live.map((n) => this.held(n).size).sort((a, b) => a - b);
  }
}

describe("election plan (fair share over named locks)", () => {
  it("a single node takes every tag", () => {
    const plan = planRound({ me: "a", tags: TAGS, liveNodes: ["a"], held: new Set(), pins: new Map() });
    assert.equal(plan.share, 12);
    assert.equal(plan.want, 12);
    assert.deepEqual([...plan.candidates].sort(), [...TAGS].sort());
    assert.deepEqual(plan.release, []);
  });

  it("a node over its share releases the tags it ranks lowest, the same ones every round", () => {
    const view = { me: "a", tags: TAGS, liveNodes: ["a", "b", "c"], held: new Set(TAGS), pins: new Map() };
    const plan = planRound(view);
    assert.equal(plan.share, 4);
    assert.equal(plan.release.length, 8);
    assert.deepEqual(planRound(view).release, plan.release);
    assert.equal(plan.want, 0);
  });

  it("share is ceil(tags / live nodes); with no tags nothing is wanted", () => {
    assert.equal(
      planRound({ me: "a", tags: TAGS, liveNodes: ["a", "b", "c", "d", "e"], held: new Set(), pins: new Map() }).share,
      3,
    );
    assert.equal(planRound({ me: "a", tags: [], liveNodes: ["a"], held: new Set(), pins: new Map() }).want, 0);
  });

  it("converges to 6/6, 4/4/4 on a join, 6/6 after a death, every tag owned once", () => {
    const sim = new Sim();
    sim.live = ["a"];
    sim.settle();
    assert.deepEqual(sim.counts(), [12]);
    sim.live = ["a", "b"];
    sim.settle();
    assert.deepEqual(sim.counts(), [6, 6]);
    sim.live = ["a", "b", "c"];
    sim.settle();
    assert.deepEqual(sim.counts(), [4, 4, 4]);
    sim.kill("b");
    sim.settle();
    assert.deepEqual(sim.counts(), [6, 6]);
    assert.equal(sim.owner.size, 12);
  });

  it("ten nodes over 12 tags: nobody holds more than 2, all tags owned", () => {
    const sim = new Sim();
    sim.live = Array.from({ length: 10 }, (_, i) => `n${i}`);
    sim.settle();
    assert.equal(sim.owner.size, 12);
    assert.ok(sim.counts().every((c) => c <= 2));
  });

  it("a pin moves a tag to its node and keeps it there; a pin to a dead node is ignored", () => {
    const sim = new Sim();
    sim.live = ["a", "b"];
    sim.settle();
    const fromA = [...sim.held("a")][0];
    assert.ok(fromA !== undefined);
    sim.pins.set(fromA, "b");
    sim.settle();
    assert.equal(sim.owner.get(fromA), "b");
    assert.equal(sim.owner.size, 12);
    sim.kill("b");
    sim.settle();
    assert.equal(sim.owner.get(fromA), "a");
  });

  it("preferred tags are tried first", () => {
    const plan = planRound({
      me: "a",
      tags: TAGS,
      liveNodes: ["a", "b"],
      held: new Set(),
      pins: new Map(),
      preferred: new Set(["p7/1", "p3/1"]),
    });
    assert.deepEqual([...plan.candidates.slice(0, 2)].sort(), ["p3/1", "p7/1"]);
  });
});
