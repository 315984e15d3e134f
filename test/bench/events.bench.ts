/**
 * Events benchmark (not a test): what raising an event costs the engine, and how fast RabbitMQ publishing with
 * publisher confirms drains the outbox. Prints the onStateChange() cost (p50/p99 µs, the engine's side) and
 * confirmed events/s to the shared RabbitMQ (127.0.0.1:5672, a throw-away queue).
 *
 *   node --import tsx test/bench/events.bench.ts [events]
 */
import { performance } from "node:perf_hooks";
import { REGISTRANT_EVENTS } from "../../src/events/catalog.js";
import { startEvents } from "../../src/events/events-service.js";
import { silentLogger } from "../../src/log.js";
import { RegState } from "../../src/registrant/state.js";
import { QueueTap, RABBITMQ_HOST, RABBITMQ_PORT } from "../support/rabbitmq.js";
import { until } from "../support/until.js";

const EVENTS = Number(process.argv[2] ?? 100_000);

const tap = await QueueTap.open({ prefix: "rd_bench_events" });
const events = await startEvents(
  {
    subscribe: REGISTRANT_EVENTS.map((event) => ({
      event,
      socket: `rabbitmq:${RABBITMQ_HOST}:${RABBITMQ_PORT}/${tap.queue}`,
    })),
    outbox_size: EVENTS + 1,
    extended_params: false,
    websocket: { enabled: false, ip: "127.0.0.1", port: 0, path: "/events" },
  },
  { log: silentLogger, snapshot: () => [] },
);
try {
  const costs = new Float64Array(EVENTS);
  const start = performance.now();
  for (let i = 0; i < EVENTS; i++) {
    const t0 = performance.now();
    events.onStateChange({
      coords: {
        aor: `sip:user${i % 1000}@example.com`,
        contact: `sip:user${i % 1000}@192.0.2.1:5060`,
        registrar: "sip:example.com",
      },
      recordId: i % 1000,
      from: RegState.REGISTERING_STATE,
      to: RegState.REGISTERED_STATE,
      atMs: Date.now(),
    });
    costs[i] = performance.now() - t0;
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
  }
  await until("all confirmed", () => events.counters().rabbitmq[0]!.counters.published === EVENTS, 600_000, 50);
  const elapsed = performance.now() - start;
  await until("all consumed", () => tap.messages.length === EVENTS, 600_000, 50);
  costs.sort();
  const us = (q: number) => (costs[Math.floor(q * (EVENTS - 1))]! * 1000).toFixed(1);
  console.log(`onStateChange: p50 ${us(0.5)} µs, p99 ${us(0.99)} µs`);
  console.log(
    `${EVENTS} events confirmed in ${(elapsed / 1000).toFixed(2)} s: ${Math.round(EVENTS / (elapsed / 1000))} events/s`,
  );
} finally {
  await events.close(5_000);
  await tap.close();
}
