#!/usr/bin/env node
// A RabbitMQ consumer of registrantd's extended E_REGISTRANT_* events (`events.extended_params: true`): besides
// aor/contact/registrar they carry the SIP answer behind the change — `status`, `reason`, `expires`,
// `destination` — and `record_id`. It prints one JSON line per event and marks the ones an operator must look at
// (wrong credentials, registrar errors, timeouts) with "alert": true and a sentence saying why. The same code
// reads OpenSIPS's plain bodies too: the extra fields are then simply absent.
//
//   node docs/examples/registrant-alerts.mjs --url amqp://guest:guest@127.0.0.1:5672 --queue registrant_alerts
//   (--count N exits after N events; the queue is declared, so point a `subscribe_event` socket at it:
//    rabbitmq:guest:guest@127.0.0.1:5672/registrant_alerts)
import * as amqp from "amqplib";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";

const ALERTS = {
  E_REGISTRANT_WRONG_CREDENTIALS: "the registrar refuses the credentials",
  E_REGISTRANT_REGISTRAR_ERROR: "the registrar answered with an error",
  E_REGISTRANT_REGISTER_TIMEOUT: "the registrar did not answer",
  E_REGISTRANT_INTERNAL_ERROR: "the REGISTER could not be sent or the answer not used",
};

/** body bytes → an event object, or an Error; throws nothing */
export function parseExtendedEvent(body) {
  let msg;
  try {
    msg = JSON.parse(body.toString("utf8"));
  } catch {
    return new Error("not JSON");
  }
  if (msg === null || typeof msg !== "object" || msg.jsonrpc !== "2.0" || typeof msg.method !== "string")
    return new Error("not a JSON-RPC 2.0 notification");
  if (!msg.method.startsWith("E_REGISTRANT_")) return new Error("not a registrant event");
  const p = msg.params ?? {};
  for (const k of ["aor", "contact", "registrar"]) if (typeof p[k] !== "string") return new Error(`missing ${k}`);
  const ev = { event: msg.method, aor: p.aor, contact: p.contact, registrar: p.registrar };
  if (typeof p.status === "number") ev.status = p.status;
  if (typeof p.reason === "string") ev.reason = p.reason;
  if (typeof p.expires === "number") ev.expires = p.expires;
  if (typeof p.destination === "string") ev.destination = p.destination;
  if (typeof p.record_id === "number") ev.recordId = p.record_id;
  const why = ALERTS[msg.method];
  ev.alert = why !== undefined;
  if (why !== undefined) {
    const sip = ev.status === undefined ? "" : ` (${ev.status}${ev.reason ? ` ${ev.reason}` : ""})`;
    ev.message = `${ev.aor} at ${ev.registrar}: ${why}${sip}`;
  }
  return ev;
}

async function main() {
  const { values } = parseArgs({
    options: {
      url: { type: "string", default: "amqp://guest:guest@127.0.0.1:5672" },
      queue: { type: "string", default: "registrant_alerts" },
      count: { type: "string" },
    },
  });
  const limit = values.count === undefined ? Infinity : Number(values.count);
  const conn = await amqp.connect(values.url);
  const ch = await conn.createChannel();
  await ch.assertQueue(values.queue, { durable: false, arguments: { "x-expires": 600_000 } });
  let seen = 0;
  const done = new Promise((resolve) => {
    void ch.consume(values.queue, (m) => {
      if (m === null) return resolve();
      ch.ack(m);
      const ev = parseExtendedEvent(m.content);
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
