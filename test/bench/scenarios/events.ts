/**
 * Scenario 5, events: every E_REGISTRANT_* raised during a storm published to RabbitMQ with publisher confirms
 * (registrantd's rabbitmq sink). The bench owns a throw-away queue, capped so the broker never holds a storm's
 * worth of messages (overflow drops the oldest; publishes are still confirmed).
 */
import { setTimeout as sleep } from "node:timers/promises";
import * as amqp from "amqplib";
import { RABBITMQ_URL, uniqueName } from "../../support/rabbitmq.js";
import type { Rig } from "./rig.js";
import type { StormResult } from "./storm.js";

export interface EventsQueue {
  readonly name: string;
  close(): Promise<void>;
}

export async function openEventsQueue(): Promise<EventsQueue> {
  const conn = await amqp.connect(RABBITMQ_URL);
  const ch = await conn.createChannel();
  const name = uniqueName("rd_bench_storm");
  await ch.assertQueue(name, {
    durable: false,
    arguments: { "x-expires": 600_000, "x-max-length": 10_000, "x-overflow": "drop-head" },
  });
  return {
    name,
    close: async () => {
      await ch.deleteQueue(name).catch(() => undefined);
      await conn.close().catch(() => undefined);
    },
  };
}

export interface EventsFigures {
  readonly raised: number;
  readonly published: number;
  readonly dropped: number;
  readonly wallS: number;
  readonly eventsPerS: number;
}

/** After a storm: waits until every raised event is confirmed (or dropped) and rates the publishing. */
export async function eventsDuringStorm(rig: Rig, storm: StormResult, timeoutMs = 300_000): Promise<EventsFigures> {
  const start = storm.after.firstSendAtMs ?? Date.now();
  const deadline = Date.now() + timeoutMs;
  let s = await rig.probe.stats();
  while (s.eventsPublished + s.eventsDropped < s.eventsRaised && Date.now() < deadline) {
    await sleep(100);
    s = await rig.probe.stats();
  }
  const wallS = (Date.now() - start) / 1000;
  const published = s.eventsPublished - storm.before.eventsPublished;
  return {
    raised: s.eventsRaised - storm.before.eventsRaised,
    published,
    dropped: s.eventsDropped - storm.before.eventsDropped,
    wallS,
    eventsPerS: published / wallS,
  };
}
