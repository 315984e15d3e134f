import assert from "node:assert/strict";
import { setImmediate as tick } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { startEvents } from "../../src/events/events-service.js";
import type { Events } from "../../src/events/events-service.js";
import { REGISTRANT_EVENTS } from "../../src/events/catalog.js";
import { silentLogger } from "../../src/log.js";
import { createMiDispatcher } from "../../src/mi/dispatch.js";
import type { RecordView } from "../../src/registrant/operations.js";
import { RegState } from "../../src/registrant/state.js";
import type { RegStateValue } from "../../src/registrant/state.js";
import { StatusReport } from "../../src/status/status-report.js";
import { until } from "../support/until.js";

const TOKEN = "s3cret-token";
const alice = { aor: "sip:alice@example.test", contact: "sip:alice@127.0.0.1:5080", registrar: "sip:127.0.0.1:5070" };
const bob = { aor: "sip:bob@example.test", contact: "sip:bob@127.0.0.1:5080", registrar: "sip:127.0.0.1:5070" };

function view(c: typeof alice, recordId: number, state: RegStateValue): RecordView {
  return { ...c, recordId, state, enabled: true, expiresSec: 60, lastRegisterSentSec: 0, registrationTimeoutSec: 0 };
}

type Msg = {
  jsonrpc: string;
  id?: unknown;
  method?: string;
  params?: Record<string, unknown>;
  result?: unknown;
  error?: unknown;
};

/** a real ws client that records every message it gets */
class Client {
  readonly got: Msg[] = [];
  pings = 0;
  closed: { code: number; reason: string } | undefined;
  private constructor(readonly ws: WebSocket) {
    ws.on("message", (d: Buffer) => this.got.push(JSON.parse(d.toString("utf8")) as Msg));
    ws.on("ping", () => this.pings++);
    ws.on("close", (code, reason) => (this.closed = { code, reason: reason.toString() }));
  }

  static async open(url: string, headers: Record<string, string> = {}): Promise<Client> {
    const ws = new WebSocket(url, { headers });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return new Client(ws);
  }

  send(body: object): void {
    this.ws.send(JSON.stringify(body));
  }

  async reply(id: number): Promise<Msg> {
    return until(`reply ${id}`, () => this.got.find((m) => m.id === id));
  }

  notifications(method?: string): Msg[] {
    return this.got.filter((m) => m.id === undefined && (method === undefined || m.method === method));
  }
}

describe("websocket events endpoint", () => {
  let events: Events;
  let base: string;
  const clients: Client[] = [];
  const records = [view(alice, 1, RegState.REGISTERED_STATE), view(bob, 2, RegState.REGISTERING_STATE)];
  const raise = (c: typeof alice, to: RegStateValue) =>
    events.onStateChange({ coords: c, recordId: 1, from: RegState.NOT_REGISTERED_STATE, to, atMs: Date.now() });

  before(async () => {
    const sr = new StatusReport();
    // the dispatcher needs events.commands(), and events needs the dispatcher: close over a holder
    const mi: { dispatcher?: ReturnType<typeof createMiDispatcher> } = {};
    events = await startEvents(
      {
        subscribe: [],
        outbox_size: 100,
        extended_params: false,
        websocket: { enabled: true, ip: "127.0.0.1", port: 0, path: "/events", token: TOKEN },
      },
      {
        log: silentLogger,
        snapshot: () => records,
        dispatchMi: async (text) => {
          const out = await mi.dispatcher!.handle(text, "websocket");
          return out.kind === "reply" || out.kind === "parse-error" ? out.text : undefined;
        },
        websocket: { maxBufferedBytes: 64 * 1024, pingIntervalMs: 5_000, cutoffGraceMs: 60_000 },
      },
    );
    mi.dispatcher = createMiDispatcher({ log: silentLogger, commands: [...events.commands(), ...sr.commands()] });
    base = `ws://127.0.0.1:${events.websocketPort}/events`;
  });

  after(async () => {
    for (const c of clients) c.ws.terminate();
    await events?.close(1_000);
  });

  it("refuses a client without the token", async () => {
    await assert.rejects(Client.open(base), /401/);
    await assert.rejects(Client.open(`${base}?token=wrong`), /401/);
  });

  it("builds no event for a client that has not subscribed, and sends the first one raised after it does", async () => {
    const c = await Client.open(`${base}?token=${TOKEN}`);
    let reads = 0;
    const change = {
      get coords() {
        reads++;
        return bob;
      },
      recordId: 2,
      from: RegState.NOT_REGISTERED_STATE,
      to: RegState.REGISTERED_STATE,
      atMs: Date.now(),
    };
    events.onStateChange(change);
    assert.equal(reads, 0);
    c.send({
      jsonrpc: "2.0",
      method: "ws:subscribe",
      params: { events: "E_REGISTRANT_REGISTERED", snapshot: false },
      id: 1,
    });
    await c.reply(1);
    events.onStateChange(change);
    await until("bob's event", () => c.notifications().length === 1);
    assert.deepEqual(c.notifications()[0], { jsonrpc: "2.0", method: "E_REGISTRANT_REGISTERED", params: bob });
    c.ws.terminate();
  });

  it("subscribes by pattern filtered by AOR: reply, snapshot, then only that AOR's events", async () => {
    const c = await Client.open(`${base}?token=${TOKEN}`);
    clients.push(c);
    c.send({ jsonrpc: "2.0", method: "ws:subscribe", params: { events: "E_REGISTRANT_*", aor: alice.aor }, id: 1 });
    assert.deepEqual((await c.reply(1)).result, { events: [...REGISTRANT_EVENTS] });
    const snap = await until("snapshot", () => c.notifications("ws:snapshot")[0]);
    assert.deepEqual(snap.params, {
      registrants: [{ ...alice, state: "REGISTERED_STATE", enabled: true, record_id: 1 }],
    });

    raise(bob, RegState.REGISTERED_STATE);
    raise(alice, RegState.UNREGISTERING_STATE);
    raise(bob, RegState.UNREGISTERING_STATE);
    raise(alice, RegState.AUTHENTICATING_UNREGISTER_STATE);
    await until("alice's two events", () => c.notifications().length === 3);
    const live = c.notifications().slice(1);
    assert.deepEqual(
      live.map((m) => m.method),
      ["E_REGISTRANT_UNREGISTERING", "E_REGISTRANT_AUTHENTICATING_UNREGISTER"],
    );
    // the same JSON-RPC notification as on RabbitMQ
    assert.deepEqual(live[0], {
      jsonrpc: "2.0",
      method: "E_REGISTRANT_UNREGISTERING",
      params: alice,
    });
  });

  it("subscribes by name with a bearer token and no AOR filter", async () => {
    const c = await Client.open(base, { authorization: `Bearer ${TOKEN}` });
    clients.push(c);
    c.send({
      jsonrpc: "2.0",
      method: "ws:subscribe",
      params: { events: ["E_REGISTRANT_REGISTERED"], snapshot: false },
      id: 2,
    });
    await c.reply(2);
    raise(alice, RegState.REGISTERING_STATE);
    raise(bob, RegState.REGISTERED_STATE);
    await until("bob registered", () => c.notifications().length === 1);
    assert.deepEqual(c.notifications()[0]!.params, bob);
    c.send({ jsonrpc: "2.0", method: "ws:subscribe", params: { events: "E_NOPE*" }, id: 3 });
    assert.deepEqual((await c.reply(3)).error, {
      code: -32602,
      message: "Invalid params",
      data: "no event matches 'E_NOPE*'",
    });
  });

  it("answers MI commands sent over the same connection as mi_http does", async () => {
    const c = clients[0]!;
    c.send({ jsonrpc: "2.0", method: "events_list", id: 7 });
    const r = (await c.reply(7)) as { result: { Events: { name: string }[] } };
    assert.deepEqual(
      r.result.Events.map((e) => e.name),
      [...REGISTRANT_EVENTS],
    );
    c.send({ jsonrpc: "2.0", method: "sr_list_identifiers", params: { group: "uac_registrant" }, id: 8 });
    assert.deepEqual((await c.reply(8)).result, { Group: "uac_registrant", Identifiers: [] });
    c.send({ jsonrpc: "2.0", method: "no_such_command", id: 9 });
    assert.deepEqual((await c.reply(9)).error, { code: -32601, message: "Method not found" });
  });

  it("keeps connections alive with pings", async () => {
    await until("a ping", () => clients[0]!.pings > 0);
  });

  it("cuts off a client that stops reading, with a clear close reason, and keeps serving the others", async () => {
    const slow = await Client.open(`${base}?token=${TOKEN}`);
    clients.push(slow);
    slow.send({ jsonrpc: "2.0", method: "ws:subscribe", params: { events: "E_REGISTRANT_*", snapshot: false }, id: 1 });
    await slow.reply(1);
    // ws's own pause(): the client stops reading its socket (and ws does not resume it behind our back)
    slow.ws.pause();

    const flood = {
      aor: "sip:flood@example.test",
      contact: "sip:flood@127.0.0.1:5080",
      registrar: "sip:127.0.0.1:5070",
    };
    for (let n = 0; n < 400_000 && events.counters().websocket!.slowConsumerCutoffs === 0; n++) {
      raise(flood, RegState.REGISTERING_STATE);
      if (n % 100 === 99) await tick();
    }
    assert.equal(events.counters().websocket!.slowConsumerCutoffs, 1);
    slow.ws.resume();
    await until("close frame read", () => slow.closed, 30_000);
    assert.equal(slow.closed!.code, 1008);
    assert.match(slow.closed!.reason, /^slow consumer: more than 65536 bytes unread$/);

    // the AOR-filtered client saw none of the flood and is still served
    const first = clients[0]!;
    const before = first.notifications().length;
    raise(alice, RegState.REGISTERED_STATE);
    await until("alice after the flood", () => first.notifications().length === before + 1);
    assert.equal(first.closed, undefined);
  });
});
