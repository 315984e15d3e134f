import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { WebSocketServer } from "ws";
import type { WebSocket } from "ws";
import type { WebsocketConfig } from "../config/config.js";
import type { Logger } from "../log.js";
import type { RpcErrorBody } from "../mi/jsonrpc.js";
import { METHOD_NOT_FOUND, invalidParams } from "../mi/reply.js";
import type { RecordView } from "../registrant/operations.js";
import type { StateChange } from "../registrant/state-change.js";
import { stateName } from "../registrant/state.js";
import { REGISTRANT_EVENTS } from "./catalog.js";
import type { RegistrantEvent, RegistrantEventName } from "./catalog.js";

/** Runs one MI JSON-RPC request as mi_http would; undefined = a notification, nothing to answer. */
export type MiDispatch = (requestJson: string) => Promise<string | undefined>;

export interface WebsocketSinkOptions {
  readonly config: WebsocketConfig;
  readonly log: Logger;
  readonly snapshot: () => Iterable<RecordView>;
  readonly dispatchMi?: MiDispatch;
  /** bytes a client may leave unread before it is cut off */
  readonly maxBufferedBytes?: number;
  readonly pingIntervalMs?: number;
  /** how long a cut-off client gets to read its close frame before the socket is destroyed */
  readonly cutoffGraceMs?: number;
  readonly maxRequestBytes?: number;
}

export interface WebsocketSinkCounters {
  readonly clients: number;
  readonly sent: number;
  readonly slowConsumerCutoffs: number;
}

/** close codes (RFC 6455 §7.4.1) and the reason texts a client sees */
export const WS_CLOSE = {
  SLOW_CONSUMER: 1008,
  GOING_AWAY: 1001,
} as const;

interface Client {
  readonly ws: WebSocket;
  events: ReadonlySet<RegistrantEventName>;
  /** undefined = every AOR */
  aors: ReadonlySet<string> | undefined;
  /** `ws:state` notifications asked for (`"states": true`) */
  states: boolean;
  alive: boolean;
  cut: boolean;
}

type Rpc = { id?: unknown; method?: unknown; params?: unknown };

function matchEvents(patterns: readonly string[]): Set<RegistrantEventName> | string {
  const out = new Set<RegistrantEventName>();
  for (const p of patterns) {
    const re = new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
    const hits = REGISTRANT_EVENTS.filter((n) => re.test(n));
    if (hits.length === 0) return p;
    for (const h of hits) out.add(h);
  }
  return out;
}

function stringList(v: unknown): string[] | undefined {
  if (typeof v === "string") return [v];
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string")) return v;
  return undefined;
}

function stateParams(change: StateChange): Record<string, string | number> {
  const params: Record<string, string | number> = {
    aor: change.coords.aor,
    contact: change.coords.contact,
    registrar: change.coords.registrar,
    record_id: change.recordId,
    from: stateName(change.from),
    state: stateName(change.to),
    at_ms: change.atMs,
  };
  const cause = change.cause;
  if (cause?.status !== undefined) params["status"] = cause.status;
  if (cause?.reason !== undefined) params["reason"] = cause.reason;
  if (cause?.expiresSec !== undefined) params["expires"] = cause.expiresSec;
  if (cause?.destination !== undefined) params["destination"] = cause.destination;
  return params;
}

function tokenOk(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Live events for browsers and scripts, which OpenSIPS cannot do (reference mi-and-events §10). A client
 * connects to ws://ip:port/path (token as `?token=` or `Authorization: Bearer`), sends `ws:subscribe`
 * with event names or patterns (`E_REGISTRANT_*`) and optionally AORs, gets the current state of every
 * matching registrant (`ws:snapshot`), then the same JSON-RPC notifications RabbitMQ consumers get. Any
 * other JSON-RPC request is an MI command, answered as mi_http answers it. See docs/events.md.
 *
 * A client that does not read is cut off (close 1008 with the reason) once it leaves `maxBufferedBytes`
 * unread, rather than the daemon buffering for it without bound.
 */
export class WebsocketSink {
  private readonly clients = new Set<Client>();
  private readonly log: Logger;
  private readonly maxBuffered: number;
  private readonly grace: number;
  private readonly pingTimer: NodeJS.Timeout;
  private sent = 0;
  private cutoffs = 0;

  private constructor(
    private readonly wss: WebSocketServer,
    private readonly opts: WebsocketSinkOptions,
  ) {
    this.log = opts.log.child({ mod: "events.websocket" });
    this.maxBuffered = opts.maxBufferedBytes ?? 1024 * 1024;
    this.grace = opts.cutoffGraceMs ?? 10_000;
    wss.on("connection", (ws, req) => this.accept(ws, req));
    this.pingTimer = setInterval(() => this.ping(), opts.pingIntervalMs ?? 30_000);
    this.pingTimer.unref();
  }

  static async start(opts: WebsocketSinkOptions): Promise<WebsocketSink> {
    const { ip, port, path, token } = opts.config;
    const wss = new WebSocketServer({
      host: ip,
      port,
      path,
      maxPayload: opts.maxRequestBytes ?? 64 * 1024,
      verifyClient: (info: { req: IncomingMessage }) => {
        if (token === undefined) return true;
        const auth = info.req.headers.authorization;
        const bearer = auth?.startsWith("Bearer ") ? auth.slice(7) : undefined;
        const query = new URL(info.req.url ?? "/", "http://x").searchParams.get("token") ?? undefined;
        return tokenOk(token, bearer) || tokenOk(token, query);
      },
    });
    await new Promise<void>((resolve, reject) => {
      wss.once("listening", resolve);
      wss.once("error", reject);
    });
    return new WebsocketSink(wss, opts);
  }

  get port(): number {
    const a = this.wss.address();
    return typeof a === "object" && a !== null ? a.port : 0;
  }

  counters(): WebsocketSinkCounters {
    return { clients: this.clients.size, sent: this.sent, slowConsumerCutoffs: this.cutoffs };
  }

  /** whether a client would get `name` from some AOR (the AOR filter is applied when it is dispatched) */
  wants(name: RegistrantEventName): boolean {
    for (const c of this.clients) if (!c.cut && c.events.has(name)) return true;
    return false;
  }

  dispatch(ev: RegistrantEvent): void {
    for (const c of this.clients) {
      if (c.cut || !c.events.has(ev.name)) continue;
      if (c.aors !== undefined && !c.aors.has(ev.coords.aor)) continue;
      this.send(c, ev.body);
    }
  }

  /**
   * `ws:state` to the clients that subscribed with `"states": true`: every state change, NOT_REGISTERED included
   * (OpenSIPS raises no event for it, so a dashboard could not see an unREGISTER finish), with the SIP cause.
   */
  dispatchState(change: StateChange): void {
    let body: string | undefined;
    for (const c of this.clients) {
      if (c.cut || !c.states) continue;
      if (c.aors !== undefined && !c.aors.has(change.coords.aor)) continue;
      body ??= JSON.stringify({ jsonrpc: "2.0", method: "ws:state", params: stateParams(change) });
      this.send(c, body);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.pingTimer);
    for (const c of this.clients) c.ws.close(WS_CLOSE.GOING_AWAY, "registrantd shutting down");
    const done = new Promise<void>((resolve) => this.wss.close(() => resolve()));
    const t = setTimeout(() => {
      for (const c of this.clients) c.ws.terminate();
    }, 2_000);
    await done;
    clearTimeout(t);
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const client: Client = { ws, events: new Set(), aors: undefined, states: false, alive: true, cut: false };
    this.clients.add(client);
    this.log.debug({ remote: req.socket.remoteAddress }, "websocket client connected");
    ws.on("pong", () => {
      client.alive = true;
    });
    ws.on("message", (data, isBinary) => {
      if (isBinary) return;
      const text = Array.isArray(data)
        ? Buffer.concat(data).toString("utf8")
        : Buffer.from(data as ArrayBuffer).toString("utf8");
      this.onRequest(client, text).catch((err: unknown) => this.log.warn({ err }, "websocket request failed"));
    });
    ws.on("close", () => this.clients.delete(client));
    ws.on("error", (err) => this.log.debug({ err: err.message }, "websocket client error"));
  }

  private async onRequest(client: Client, text: string): Promise<void> {
    let rpc: Rpc | undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) rpc = parsed;
    } catch {
      rpc = undefined;
    }
    if (rpc !== undefined && typeof rpc.method === "string" && rpc.method.startsWith("ws:")) {
      this.onOwnMethod(client, rpc.method, rpc.params, rpc.id);
      return;
    }
    if (this.opts.dispatchMi === undefined) {
      this.reply(client, rpc?.id ?? null, undefined, METHOD_NOT_FOUND);
      return;
    }
    const answer = await this.opts.dispatchMi(text);
    if (answer !== undefined) this.send(client, answer);
  }

  private onOwnMethod(client: Client, method: string, params: unknown, id: unknown): void {
    const p = (typeof params === "object" && params !== null ? params : {}) as Record<string, unknown>;
    switch (method) {
      case "ws:subscribe": {
        const patterns = stringList(p["events"]);
        if (patterns === undefined)
          return this.invalid(client, id, "'events' must be a name, a pattern or a list of them");
        const events = matchEvents(patterns);
        if (typeof events === "string") return this.invalid(client, id, `no event matches '${events}'`);
        let aors: Set<string> | undefined;
        if (p["aor"] !== undefined) {
          const list = stringList(p["aor"]);
          if (list === undefined) return this.invalid(client, id, "'aor' must be a string or a list of strings");
          aors = new Set(list);
        }
        client.events = events;
        client.aors = aors;
        client.states = p["states"] === true;
        this.reply(client, id, { events: [...events] });
        // same tick as the subscription: no event can slip in between snapshot and live stream
        if (p["snapshot"] !== false) this.sendSnapshot(client);
        return;
      }
      case "ws:unsubscribe":
        client.events = new Set();
        client.aors = undefined;
        client.states = false;
        this.reply(client, id, "OK");
        return;
      default:
        this.reply(client, id, undefined, METHOD_NOT_FOUND);
    }
  }

  private sendSnapshot(client: Client): void {
    const registrants = [];
    for (const r of this.opts.snapshot()) {
      if (client.aors !== undefined && !client.aors.has(r.aor)) continue;
      registrants.push({
        aor: r.aor,
        contact: r.contact,
        registrar: r.registrar,
        state: stateName(r.state),
        enabled: r.enabled,
        record_id: r.recordId,
      });
    }
    this.send(client, JSON.stringify({ jsonrpc: "2.0", method: "ws:snapshot", params: { registrants } }));
  }

  private invalid(client: Client, id: unknown, data: string): void {
    this.reply(client, id, undefined, invalidParams(data));
  }

  private reply(client: Client, id: unknown, result: unknown, error?: RpcErrorBody): void {
    if (id === undefined) return;
    const body = error === undefined ? { jsonrpc: "2.0", result, id } : { jsonrpc: "2.0", error, id };
    this.send(client, JSON.stringify(body));
  }

  private send(client: Client, text: string): void {
    if (client.cut || client.ws.readyState !== client.ws.OPEN) return;
    if (client.ws.bufferedAmount + Buffer.byteLength(text) > this.maxBuffered) {
      this.cutOff(client);
      return;
    }
    client.ws.send(text);
    this.sent++;
  }

  private cutOff(client: Client): void {
    client.cut = true;
    this.cutoffs++;
    const pending = client.ws.bufferedAmount;
    this.log.warn({ pendingBytes: pending, limit: this.maxBuffered }, "websocket client too slow: cut off");
    client.ws.close(WS_CLOSE.SLOW_CONSUMER, `slow consumer: more than ${this.maxBuffered} bytes unread`);
    setTimeout(() => client.ws.terminate(), this.grace).unref();
  }

  private ping(): void {
    for (const c of this.clients) {
      if (!c.alive) {
        this.log.debug("websocket client missed a pong: terminated");
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }
}
