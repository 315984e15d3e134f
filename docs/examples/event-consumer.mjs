#!/usr/bin/env node
// A RabbitMQ consumer of E_REGISTRANT_* events, written the way one is written for OpenSIPS's event_rabbitmq:
// bind a queue, parse each body as a JSON-RPC 2.0 notification, act on `method` and `params`. It works
// unchanged against registrantd. Prints one JSON line per event: {"event":..., "aor":..., "contact":...,
// "registrar":...}.
//
//   node docs/examples/event-consumer.mjs --url amqp://guest:guest@127.0.0.1:5672 --queue opensips_registrant
//   node docs/examples/event-consumer.mjs --queue q --exchange amq.topic --binding-key 'opensips.registrant.#'
//   (--count N exits after N events)
import * as amqp from "amqplib";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";

/** body bytes → {event, aor, contact, registrar} or an Error; throws nothing */
export function parseEvent(body) {
  let msg;
  try {
    msg = JSON.parse(body.toString("utf8"));
  } catch {
    return new Error("not JSON");
  }
  if (msg === null || typeof msg !== "object" || msg.jsonrpc !== "2.0") return new Error("not JSON-RPC 2.0");
  if ("id" in msg) return new Error("a request, not a notification");
  if (typeof msg.method !== "string" || !msg.method.startsWith("E_REGISTRANT_"))
    return new Error("not a registrant event");
  const p = msg.params;
  if (p === null || typeof p !== "object" || Array.isArray(p)) return new Error("params must be named");
  for (const k of ["aor", "contact", "registrar"]) if (typeof p[k] !== "string") return new Error(`missing ${k}`);
  return { event: msg.method, aor: p.aor, contact: p.contact, registrar: p.registrar };
}

async function main() {
  const { values } = parseArgs({
    options: {
      url: { type: "string", default: "amqp://guest:guest@127.0.0.1:5672" },
      queue: { type: "string", default: "opensips_registrant" },
      exchange: { type: "string" },
      "binding-key": { type: "string", default: "#" },
      count: { type: "string" },
    },
  });
  const limit = values.count === undefined ? Infinity : Number(values.count);
  const conn = await amqp.connect(values.url);
  const ch = await conn.createChannel();
  await ch.assertQueue(values.queue, { durable: false, arguments: { "x-expires": 600_000 } });
  if (values.exchange) await ch.bindQueue(values.queue, values.exchange, values["binding-key"]);
  let seen = 0;
  const done = new Promise((resolve) => {
    void ch.consume(values.queue, (m) => {
      if (m === null) return resolve();
      ch.ack(m);
      const ev = parseEvent(m.content);
      process.stdout.write(JSON.stringify(ev instanceof Error ? { error: ev.message } : ev) + "\n");
      if (++seen >= limit) resolve();
    });
  });
  process.stderr.write("ready\n");
  await done;
  await conn.close();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
