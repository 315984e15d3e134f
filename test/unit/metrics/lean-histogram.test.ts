import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Counter, Histogram, Registry } from "prom-client";
import { ManualClock } from "../../../src/clock.js";
import { LeanHistogram } from "../../../src/metrics/lean-histogram.js";
import { Metrics } from "../../../src/metrics/metrics.js";

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 32, 64];
const VALUES = [0, 1e-9, 0.005, 0.0051, 0.3, 0.3, 1, 31.9, 64, 100, 0.123456789];

describe("LeanHistogram", () => {
  it("exposes what prom-client's Histogram exposes for the same observations, text and JSON", async () => {
    const lean = new Registry();
    const reference = new Registry();
    const h = new LeanHistogram("x_seconds", "help text", BUCKETS, lean);
    const ref = new Histogram({ name: "x_seconds", help: "help text", buckets: BUCKETS, registers: [reference] });
    assert.equal(await lean.metrics(), await reference.metrics());
    for (const v of VALUES) {
      h.observe(v);
      ref.observe(v);
    }
    assert.equal(await lean.metrics(), await reference.metrics());
    assert.deepEqual(await lean.getMetricsAsJSON(), await reference.getMetricsAsJSON());
    assert.throws(() => h.observe(Number.NaN), TypeError);
    lean.resetMetrics();
    reference.resetMetrics();
    assert.equal(await lean.metrics(), await reference.metrics());
    h.observe(2);
    ref.observe(2);
    assert.equal(await lean.metrics(), await reference.metrics());
  });

  it("Metrics counts replies by code in first-seen order, as a prom-client Counter incremented per reply would", async () => {
    const metrics = new Metrics({ clock: new ManualClock(), records: () => [], processMetrics: false });
    const reference = new Registry();
    const replies = new Counter({
      name: "registrantd_register_replies_total",
      help: "Final replies to REGISTER transactions by SIP status code",
      labelNames: ["code"],
      registers: [reference],
    });
    for (const code of [401, 200, 401, 408, 200, 200]) {
      metrics.observeTransaction(0.01, code);
      replies.inc({ code: String(code) });
    }
    const family = (text: string) =>
      text
        .split("\n\n")
        .find((f) => f.includes("registrantd_register_replies_total"))
        ?.trim();
    assert.equal(family(await metrics.scrape()), family(await reference.metrics()));
  });
});
