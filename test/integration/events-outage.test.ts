import assert from "node:assert/strict";
import { setImmediate as tick, setTimeout as sleep } from "node:timers/promises";
import { after, describe, it } from "node:test";
import { pino } from "pino";
import type { EventsConfig } from "../../src/config/config.js";
import { startEvents } from "../../src/events/events-service.js";
import type { Events } from "../../src/events/events-service.js";
import { silentLogger } from "../../src/log.js";
import type { Logger } from "../../src/log.js";
import { RegState } from "../../src/registrant/state.js";
import type { RegStateValue } from "../../src/registrant/state.js";
import { REGISTRANT_EVENTS } from "../../src/events/catalog.js";
import { Statistics } from "../../src/statistics.js";
import { QueueTap, RABBITMQ_HOST, RABBITMQ_PORT } from "../support/rabbitmq.js";
import { TcpProxy } from "../support/tcp-proxy.js";
import { until } from "../support/until.js";

const OUTAGE_MS = 30_000;
const REGISTRANTS = 1000;
const LIFE: readonly [RegStateValue, string][] = [
  [RegState.REGISTERING_STATE, "E_REGISTRANT_REGISTERING"],
  [RegState.AUTHENTICATING_STATE, "E_REGISTRANT_AUTHENTICATING"],
  [RegState.REGISTERED_STATE, "E_REGISTRANT_REGISTERED"],
];

function coords(i: number) {
  return { aor: `sip:user${i}@example.test`, contact: `sip:user${i}@127.0.0.1:5080`, registrar: "sip:127.0.0.1:5070" };
}

function config(socket: string, outboxSize: number): EventsConfig {
  return {
    subscribe: REGISTRANT_EVENTS.map((event) => ({ event, socket })),
    outbox_size: outboxSize,
    extended_params: false,
    websocket: { enabled: false, ip: "127.0.0.1", port: 0, path: "/events" },
  };
}

async function start(
  proxy: TcpProxy,
  queue: string,
  outboxSize: number,
  log: Logger,
  stats?: Statistics,
): Promise<Events> {
  return startEvents(config(`rabbitmq:guest:guest@127.0.0.1:${proxy.port}/${queue}`, outboxSize), {
    log,
    ...(stats === undefined ? {} : { stats }),
    snapshot: () => [],
    backoff: { initialMs: 100, maxMs: 2_000 },
    connectTimeoutMs: 2_000,
  });
}

type Seen = { aor: string; method: string };
const parse = (body: Buffer): Seen => {
  const m = JSON.parse(body.toString("utf8")) as { method: string; params: { aor: string } };
  return { aor: m.params.aor, method: m.method };
};
const key = (s: Seen) => `${s.aor} ${s.method}`;

describe("RabbitMQ outage", () => {
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it("loses nothing while the broker is unreachable for 30 s and 1,000 registrants change state", async () => {
    const tap = await QueueTap.open({ prefix: "rd_outage" });
    cleanup.push(() => tap.close());
    const proxy = await TcpProxy.start(RABBITMQ_HOST, RABBITMQ_PORT);
    cleanup.push(() => proxy.close());
    const events = await start(proxy, tap.queue, 20_000, silentLogger);
    cleanup.push(() => events.close(2_000));

    const raised: Seen[] = [];
    const raise = (i: number, step: number) => {
      const [to, method] = LIFE[step]!;
      events.onStateChange({
        coords: coords(i),
        recordId: i,
        from: RegState.NOT_REGISTERED_STATE,
        to,
        atMs: Date.now(),
      });
      raised.push({ aor: coords(i).aor, method });
    };

    // connected and idle first
    raise(REGISTRANTS, 0);
    await until("warm-up event consumed", () => tap.messages.length === 1);

    // a burst goes out and the link dies under it: these are in flight, unconfirmed
    for (let i = 0; i < 100; i++) raise(i, 0);
    await tick();
    const inFlightAtCut = events.counters().rabbitmq[0]!.counters.inFlight;
    assert.ok(inFlightAtCut > 0, "the burst is on the wire, unconfirmed, when the link dies");
    const cutAt = Date.now();
    proxy.cut();

    // the 1,000 registrants go through REGISTERING, AUTHENTICATING, REGISTERED during the outage
    for (let batch = 0; batch < 10; batch++) {
      for (let i = batch * 100; i < (batch + 1) * 100; i++)
        for (let step = i < 100 ? 1 : 0; step < LIFE.length; step++) raise(i, step);
      await sleep(1_000);
    }
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - cutAt)));
    assert.ok(events.counters().rabbitmq[0]!.counters.queued > 0, "events wait in the outbox during the outage");
    proxy.restore();

    const distinct = () => new Set(tap.messages.map((m) => key(parse(m.content)))).size;
    await until("every event consumed after the broker came back", () => distinct() === raised.length, 60_000, 100);
    await until(
      "outbox empty",
      () =>
        events.counters().rabbitmq[0]!.counters.queued === 0 && events.counters().rabbitmq[0]!.counters.inFlight === 0,
    );

    const consumed = tap.messages.map((m) => parse(m.content));
    // first occurrences come in exactly the order the engine raised them (so per registrant too)
    const firstSeen: Seen[] = [];
    const keys = new Set<string>();
    for (const s of consumed) {
      if (keys.has(key(s))) continue;
      keys.add(key(s));
      firstSeen.push(s);
    }
    assert.deepEqual(firstSeen, raised);
    // at-least-once: the only duplicates are re-publishes of what was unconfirmed when the link died
    const duplicates = consumed.length - firstSeen.length;
    assert.ok(duplicates <= inFlightAtCut, `${duplicates} duplicates, ${inFlightAtCut} were in flight at the cut`);
    const c = events.counters();
    assert.equal(c.dropped, 0);
    assert.ok(c.rabbitmq[0]!.counters.reconnects >= 1);
  });

  it("counts and logs what an overflowing outbox drops, and delivers the newest events", async () => {
    const tap = await QueueTap.open({ prefix: "rd_overflow" });
    cleanup.push(() => tap.close());
    const proxy = await TcpProxy.start(RABBITMQ_HOST, RABBITMQ_PORT);
    cleanup.push(() => proxy.close());
    proxy.cut();
    const lines: { msg?: string; dropped?: number; droppedTotal?: number }[] = [];
    const log = pino({ level: "warn" }, { write: (s: string) => lines.push(JSON.parse(s) as (typeof lines)[number]) });
    const stats = new Statistics();
    const events = await start(proxy, tap.queue, 50, log, stats);
    cleanup.push(() => events.close(2_000));

    for (let i = 0; i < 200; i++) {
      events.onStateChange({
        coords: coords(i),
        recordId: i,
        from: 0,
        to: RegState.REGISTERED_STATE,
        atMs: Date.now(),
      });
    }
    assert.equal(events.counters().dropped, 150);
    const warn = lines.find((l) => l.msg === "event outbox full: events dropped");
    assert.ok(warn, "the drop is logged");
    assert.deepEqual(
      stats.read(["events:raised", "events:dropped", "events:queued"]),
      new Map([
        ["events:raised", 200],
        ["events:dropped", 150],
        ["events:queued", 50],
      ]),
    );

    proxy.restore();
    await until("the 50 kept events consumed", () => tap.messages.length === 50, 30_000);
    assert.deepEqual(
      tap.messages.map((m) => parse(m.content).aor),
      Array.from({ length: 50 }, (_, k) => coords(150 + k).aor),
    );
  });
});
