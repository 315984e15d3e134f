import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";
import * as amqp from "amqplib";
import type { EventsConfig } from "../../src/config/config.js";
import { startEvents } from "../../src/events/events-service.js";
import type { Events } from "../../src/events/events-service.js";
import { silentLogger } from "../../src/log.js";
import { RegState } from "../../src/registrant/state.js";
import type { RegStateValue } from "../../src/registrant/state.js";
import type { Coords } from "../../src/registrant/coords.js";
import { GOLDEN_CASES } from "../support/golden-events.js";
import { QueueTap, RABBITMQ_HOST, RABBITMQ_PORT, RABBITMQ_URL, uniqueName } from "../support/rabbitmq.js";
import { until } from "../support/until.js";

const FIXTURES = new URL("../fixtures/rabbitmq/", import.meta.url);
const BROKER = `${RABBITMQ_HOST}:${RABBITMQ_PORT}`;

const goldenBody = (event: string) => readFileSync(new URL(`${event}.body`, FIXTURES), "utf8");
const goldenCapture = (file: string) =>
  JSON.parse(readFileSync(new URL(file, FIXTURES), "utf8")) as {
    exchange: string;
    routing_key: string;
    properties: Record<string, unknown>;
  };

/** amqplib's names for the AMQP basic properties the golden capture lists in pika's spelling */
const PROPERTY_NAMES: Record<string, string> = {
  content_type: "contentType",
  content_encoding: "contentEncoding",
  headers: "headers",
  delivery_mode: "deliveryMode",
  priority: "priority",
  correlation_id: "correlationId",
  reply_to: "replyTo",
  expiration: "expiration",
  message_id: "messageId",
  timestamp: "timestamp",
  type: "type",
  user_id: "userId",
  app_id: "appId",
  cluster_id: "clusterId",
};

function propertiesAsCaptured(m: amqp.ConsumeMessage): Record<string, unknown> {
  const props = m.properties as unknown as Record<string, unknown>;
  return Object.fromEntries(Object.entries(PROPERTY_NAMES).map(([golden, ours]) => [golden, props[ours] ?? null]));
}

function change(coords: Coords, to: RegStateValue, recordId = 1) {
  return { coords, recordId, from: RegState.NOT_REGISTERED_STATE, to, atMs: Date.now() };
}

function config(subscribe: EventsConfig["subscribe"]): EventsConfig {
  return {
    subscribe,
    outbox_size: 1000,
    extended_params: false,
    websocket: { enabled: false, ip: "127.0.0.1", port: 0, path: "/events" },
  };
}

describe("events to the real RabbitMQ", () => {
  let main: QueueTap;
  let topic: QueueTap;
  let persistent: QueueTap;
  let viaUri: QueueTap;
  let events: Events;
  const topicExchange = uniqueName("rd_topic");

  before(async () => {
    main = await QueueTap.open({ prefix: "rd_events" });
    topic = await QueueTap.open({
      prefix: "rd_events_topic",
      exchange: { name: topicExchange, type: "topic", bindingKey: "opensips.registrant.*" },
    });
    persistent = await QueueTap.open({ prefix: "rd_events_persistent" });
    viaUri = await QueueTap.open({ prefix: "rd_events_uri" });
    const subscribe = GOLDEN_CASES.map((c) => ({
      event: c.event,
      socket: `rabbitmq:guest:guest@${BROKER}/${main.queue}`,
    }));
    subscribe.push(
      {
        event: "E_REGISTRANT_REGISTERED",
        socket: `rabbitmq:guest:guest@${BROKER}/exchange=${topicExchange}?opensips.registrant.registered`,
      },
      { event: "E_REGISTRANT_REGISTERED", socket: `rabbitmq:${BROKER}/persistent?${persistent.queue}` },
      { event: "E_REGISTRANT_REGISTERED", socket: `amqp://guest:guest@${BROKER}/%2F?routing_key=${viaUri.queue}` },
    );
    events = await startEvents(config(subscribe), { log: silentLogger, snapshot: () => [] });
  });

  after(async () => {
    await events?.close(2_000);
    await Promise.all([main, topic, persistent, viaUri].map((t) => t?.close()));
  });

  it("each of the nine events arrives exactly as OpenSIPS 4.0.1 published it", async () => {
    for (const [i, c] of GOLDEN_CASES.entries()) {
      events.onStateChange(change(c.coords, c.state));
      // OpenSIPS raises nothing for NOT_REGISTERED: this must not show up between the others
      if (i === 4) events.onStateChange(change(c.coords, RegState.NOT_REGISTERED_STATE));
    }
    await until("nine events consumed", () => main.messages.length >= GOLDEN_CASES.length);
    await until(
      "topic, persistent and URI copies",
      () => topic.messages.length && persistent.messages.length && viaUri.messages.length,
    );

    assert.equal(main.messages.length, GOLDEN_CASES.length);
    for (const [i, c] of GOLDEN_CASES.entries()) {
      const m = main.messages[i]!;
      const golden = goldenCapture(`${c.event}.json`);
      assert.equal(m.content.toString("utf8"), goldenBody(c.event), c.event);
      assert.equal(m.fields.exchange, golden.exchange);
      assert.equal(m.fields.routingKey, main.queue);
      assert.deepEqual(propertiesAsCaptured(m), golden.properties, `${c.event}: no AMQP properties at all`);
    }
  });

  it("honours a topic exchange and its routing key", () => {
    const golden = goldenCapture("E_REGISTRANT_REGISTERED.via-amq.topic.json");
    assert.equal(topic.messages.length, 1);
    const m = topic.messages[0]!;
    assert.equal(m.fields.exchange, topicExchange);
    assert.equal(m.fields.routingKey, golden.routing_key);
    assert.equal(m.content.toString("utf8"), goldenBody("E_REGISTRANT_REGISTERED"));
    assert.deepEqual(propertiesAsCaptured(m), golden.properties);
  });

  it("persistent sets delivery_mode 2 and nothing else; amqp:// URIs deliver the same body", () => {
    const m = persistent.messages[0]!;
    assert.deepEqual(propertiesAsCaptured(m), {
      ...goldenCapture("E_REGISTRANT_REGISTERED.json").properties,
      delivery_mode: 2,
    });
    assert.equal(m.content.toString("utf8"), goldenBody("E_REGISTRANT_REGISTERED"));
    assert.equal(viaUri.messages[0]!.content.toString("utf8"), goldenBody("E_REGISTRANT_REGISTERED"));
    const published = events.counters().rabbitmq.reduce((n, c) => n + c.counters.published, 0);
    assert.equal(published, GOLDEN_CASES.length + 3);
    assert.equal(events.counters().dropped, 0);
  });

  it("a consumer written for OpenSIPS parses OpenSIPS's bodies and ours with the same code", async () => {
    const queue = uniqueName("rd_events_consumer");
    for (const c of GOLDEN_CASES)
      assert.deepEqual(events.subscribe(c.event, `rabbitmq:${BROKER}/${queue}`), { ok: true, refreshed: false });

    const consumer: ChildProcessWithoutNullStreams = spawn(
      process.execPath,
      [
        "docs/examples/event-consumer.mjs",
        "--url",
        RABBITMQ_URL,
        "--queue",
        queue,
        "--count",
        String(2 * GOLDEN_CASES.length),
      ],
      { cwd: new URL("../../", import.meta.url).pathname },
    );
    const admin = await amqp.connect(RABBITMQ_URL);
    try {
      let ready = false;
      consumer.stderr.on("data", (d: Buffer) => {
        if (d.toString().includes("ready")) ready = true;
      });
      const lines: unknown[] = [];
      createInterface({ input: consumer.stdout }).on("line", (l) => lines.push(JSON.parse(l)));
      await until("consumer bound its queue", () => ready);

      const ch = await admin.createChannel();
      // first what OpenSIPS published (the captured bytes), then what registrantd publishes
      for (const c of GOLDEN_CASES) ch.sendToQueue(queue, Buffer.from(goldenBody(c.event)));
      await until("golden bodies parsed", () => lines.length >= GOLDEN_CASES.length);
      for (const c of GOLDEN_CASES) events.onStateChange(change(c.coords, c.state));
      await until("our bodies parsed", () => lines.length >= 2 * GOLDEN_CASES.length);

      const fromOpensips = lines.slice(0, GOLDEN_CASES.length);
      const fromUs = lines.slice(GOLDEN_CASES.length);
      assert.deepEqual(fromUs, fromOpensips);
      for (const [i, c] of GOLDEN_CASES.entries()) assert.deepEqual(fromUs[i], { event: c.event, ...c.coords });
      await ch.deleteQueue(queue);
    } finally {
      consumer.kill();
      await admin.close().catch(() => undefined);
    }
  });
});
