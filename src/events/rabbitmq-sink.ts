import { readFileSync } from "node:fs";
import * as amqp from "amqplib";
import type { TlsSocketOptions } from "../config/config.js";
import type { Logger } from "../log.js";
import { Outbox } from "./outbox.js";
import type { OutboxSlot } from "./outbox.js";
import type { AmqpConnectionParams } from "./rabbitmq-socket.js";

/** One message for one subscription: the socket decides exchange, routing key and persistence. */
export interface RabbitmqMessage {
  readonly exchange: string;
  readonly routingKey: string;
  readonly persistent: boolean;
  readonly body: Buffer;
  /** for logs only */
  readonly event: string;
}

export interface RabbitmqSinkCounters {
  readonly connected: boolean;
  /** confirmed by the broker */
  readonly published: number;
  readonly dropped: number;
  /** unroutable, handed back by the broker (mandatory flag) */
  readonly returned: number;
  readonly reconnects: number;
  readonly queued: number;
  readonly inFlight: number;
}

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  /** 0..1: each delay is scaled by a random factor in [1 - jitter, 1 + jitter] */
  readonly jitter: number;
}

export interface RabbitmqSinkOptions {
  readonly connection: AmqpConnectionParams;
  /** printed socket, for logs (carries no password) */
  readonly label: string;
  readonly outboxSize: number;
  readonly log: Logger;
  readonly tls?: TlsSocketOptions;
  readonly backoff?: Partial<BackoffOptions>;
  readonly connectTimeoutMs?: number;
  /** publishes waiting for a confirm at one time */
  readonly maxInFlight?: number;
  /**
   * With no heartbeat (OpenSIPS's default) a path that dies without a TCP reset is never noticed; so when
   * the oldest unconfirmed publish waits longer than this, the connection is dropped and re-made.
   */
  readonly confirmTimeoutMs?: number;
  readonly random?: () => number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 10_000, factor: 2, jitter: 0.2 };
/** OpenSIPS event_rabbitmq negotiates this frame size */
const FRAME_MAX = 131072;
const DROP_LOG_EVERY_MS = 5_000;

/** the amqplib internals we use to publish with *no* properties at all, see publishBare() */
interface BarePublisher {
  sendMessage(fields: object, properties: object, content: Buffer): boolean;
  pushConfirmCallback(cb: (err: unknown) => void): void;
}

function hasBarePublish(ch: object): ch is BarePublisher {
  const c = ch as Partial<BarePublisher>;
  return typeof c.sendMessage === "function" && typeof c.pushConfirmCallback === "function";
}

/**
 * OpenSIPS publishes with no AMQP properties (only delivery_mode=2 for `persistent` sockets). amqplib's
 * publish() always adds an empty `headers` table, which consumers see as `{}` instead of none; so we build
 * the basic.publish ourselves on the same channel when amqplib exposes its internals, and fall back to
 * publish() otherwise. mandatory=true as OpenSIPS 3.6+ does; immediate is always false.
 */
function publishBare(ch: amqp.ConfirmChannel, msg: RabbitmqMessage, cb: (err: unknown) => void): boolean {
  if (hasBarePublish(ch)) {
    const fields = { exchange: msg.exchange, routingKey: msg.routingKey, mandatory: true, immediate: false, ticket: 0 };
    const properties = msg.persistent ? { deliveryMode: 2 } : {};
    const ok = ch.sendMessage(fields, properties, msg.body);
    ch.pushConfirmCallback(cb);
    return ok;
  }
  return ch.publish(
    msg.exchange,
    msg.routingKey,
    msg.body,
    msg.persistent ? { deliveryMode: 2, mandatory: true } : { mandatory: true },
    cb,
  );
}

/**
 * Publishes to one broker login (one AMQP connection, one confirm channel) from a bounded outbox.
 *
 * It connects lazily on the first message (as event_rabbitmq does), publishes in outbox order with
 * publisher confirms, and when the connection goes away reconnects with exponential backoff and jitter,
 * then re-publishes everything that was not confirmed (at-least-once: see Outbox). The engine only ever
 * calls enqueue(), which only appends to the outbox: it never blocks, never throws, never does I/O.
 */
export class RabbitmqSink {
  private readonly outbox: Outbox<RabbitmqMessage>;
  private readonly backoff: BackoffOptions;
  private readonly random: () => number;
  private readonly maxInFlight: number;
  private readonly log: Logger;
  private model: amqp.ChannelModel | undefined;
  private channel: amqp.ConfirmChannel | undefined;
  /** bumped on every connection loss: confirms from an older connection are ignored */
  private generation = 0;
  private blocked = false;
  private pumpScheduled = false;
  private running: Promise<void> | undefined;
  private closing = false;
  private wakeBackoff: (() => void) | undefined;
  private idleWaiters: (() => void)[] = [];
  private published = 0;
  private returned = 0;
  private reconnects = 0;
  private droppedWhileClosing = 0;
  private dropsSinceLog = 0;
  private lastDropLogMs = 0;
  private lastConfirmMs = 0;
  private watchdog: NodeJS.Timeout | undefined;

  readonly label: string;

  constructor(private readonly opts: RabbitmqSinkOptions) {
    this.label = opts.label;
    this.log = opts.log.child({ mod: "events.rabbitmq", socket: opts.label });
    this.backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
    this.random = opts.random ?? Math.random;
    this.maxInFlight = opts.maxInFlight ?? 1000;
    this.outbox = new Outbox(opts.outboxSize, (m) => this.onDrop(m));
  }

  enqueue(msg: RabbitmqMessage): void {
    if (this.closing) {
      this.droppedWhileClosing++;
      this.onDrop(msg);
      return;
    }
    this.outbox.push(msg);
    this.running ??= this.run();
    // publishing happens off the engine's call stack, batched per turn of the event loop
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      setImmediate(() => {
        this.pumpScheduled = false;
        this.pump();
      });
    }
  }

  counters(): RabbitmqSinkCounters {
    return {
      connected: this.channel !== undefined,
      published: this.published,
      dropped: this.outbox.dropped + this.droppedWhileClosing,
      returned: this.returned,
      reconnects: this.reconnects,
      queued: this.outbox.queued,
      inFlight: this.outbox.inFlight,
    };
  }

  /**
   * Stops reconnecting, gives what is queued up to `timeoutMs` to be confirmed while connected, then closes
   * the connection. Never waits longer than about `timeoutMs` plus one close handshake bounded the same way.
   */
  async close(timeoutMs = 5_000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.wakeBackoff?.();
    if (this.channel !== undefined && this.outbox.size > 0) {
      await Promise.race([new Promise<void>((resolve) => this.idleWaiters.push(resolve)), delay(timeoutMs)]);
    }
    const left = this.outbox.size;
    if (left > 0) this.log.warn({ unconfirmed: left }, "closing with unconfirmed events");
    const model = this.model;
    this.generation++;
    clearInterval(this.watchdog);
    this.channel = undefined;
    if (model !== undefined) await Promise.race([model.close().catch(() => undefined), delay(timeoutMs)]);
    await this.running;
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.closing) {
      let model: amqp.ChannelModel;
      try {
        model = await this.connect();
      } catch (err) {
        attempt++;
        const waitMs = this.delayFor(attempt);
        this.log.warn({ err: errText(err), attempt, retryInMs: Math.round(waitMs) }, "cannot connect to RabbitMQ");
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, waitMs);
          this.wakeBackoff = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wakeBackoff = undefined;
        continue;
      }
      if (this.closing) {
        await model.close().catch(() => undefined);
        break;
      }
      if (attempt > 0 || this.reconnects > 0) this.log.info({ attempt }, "connected to RabbitMQ again");
      attempt = 0;
      await this.serve(model);
      if (!this.closing) this.reconnects++;
    }
  }

  private async connect(): Promise<amqp.ChannelModel> {
    const c = this.opts.connection;
    const socketOptions: Record<string, unknown> = { timeout: this.opts.connectTimeoutMs ?? 5_000 };
    if (c.protocol === "amqps") {
      const tls = this.opts.tls;
      if (tls?.ca !== undefined) socketOptions["ca"] = [readFileSync(tls.ca)];
      if (tls?.cert !== undefined) socketOptions["cert"] = readFileSync(tls.cert);
      if (tls?.key !== undefined) socketOptions["key"] = readFileSync(tls.key);
      socketOptions["rejectUnauthorized"] = tls?.verify ?? true;
      socketOptions["servername"] = tls?.servername ?? c.hostname;
    }
    const model = await amqp.connect(
      {
        protocol: c.protocol,
        hostname: c.hostname,
        port: c.port,
        username: c.username,
        password: c.password,
        vhost: c.vhost,
        heartbeat: c.heartbeat,
        frameMax: FRAME_MAX,
      },
      socketOptions,
    );
    try {
      const ch = await model.createConfirmChannel();
      this.model = model;
      this.channel = ch;
      return model;
    } catch (err) {
      await model.close().catch(() => undefined);
      throw err;
    }
  }

  /** resolves when this connection is gone */
  private serve(model: amqp.ChannelModel): Promise<void> {
    const gen = this.generation;
    const ch = this.channel!;
    return new Promise<void>((resolve) => {
      model.on("error", (err: Error) => this.log.warn({ err: errText(err) }, "RabbitMQ connection error"));
      // a broker under a resource alarm blocks publishers on purpose: confirms stall, the link is fine
      let brokerBlocked = false;
      model.on("blocked", (reason: string) => {
        brokerBlocked = true;
        this.log.warn({ reason }, "RabbitMQ blocked publishing");
      });
      model.on("unblocked", () => {
        brokerBlocked = false;
        this.lastConfirmMs = Date.now();
        this.log.info("RabbitMQ unblocked publishing");
      });
      ch.on("error", (err: Error) => this.log.warn({ err: errText(err) }, "RabbitMQ channel error"));
      ch.on("return", (msg: amqp.Message) => {
        this.returned++;
        this.log.warn(
          { exchange: msg.fields.exchange, routingKey: msg.fields.routingKey },
          "event unroutable: no queue bound for this exchange/routing key",
        );
      });
      ch.on("drain", () => {
        this.blocked = false;
        this.pump();
      });
      ch.on("close", () => this.lose(gen, model));
      model.on("close", () => {
        this.lose(gen, model);
        resolve();
      });
      this.blocked = false;
      this.lastConfirmMs = Date.now();
      const limit = this.opts.confirmTimeoutMs ?? 30_000;
      this.watchdog = setInterval(
        () => {
          if (!brokerBlocked && this.outbox.inFlight > 0 && Date.now() - this.lastConfirmMs > limit) {
            this.log.warn({ waitedMs: Date.now() - this.lastConfirmMs }, "no publisher confirm in time; reconnecting");
            this.lose(gen, model);
          }
        },
        Math.max(100, limit / 4),
      );
      this.watchdog.unref();
      this.pump();
    });
  }

  private lose(gen: number, model: amqp.ChannelModel): void {
    if (gen !== this.generation) return;
    this.generation++;
    clearInterval(this.watchdog);
    this.channel = undefined;
    this.model = undefined;
    this.outbox.rewind();
    if (!this.closing) this.log.warn({ unconfirmed: this.outbox.size }, "RabbitMQ connection lost; will re-publish");
    model.close().catch(() => undefined);
  }

  private pump(): void {
    const ch = this.channel;
    if (ch === undefined) return;
    const gen = this.generation;
    // the confirm clock starts when the pipeline starts from empty
    if (this.outbox.inFlight === 0) this.lastConfirmMs = Date.now();
    while (!this.blocked && this.outbox.inFlight < this.maxInFlight) {
      const slot = this.outbox.take();
      if (slot === undefined) break;
      let ok: boolean;
      try {
        ok = publishBare(ch, slot.item, (err) => this.onConfirm(gen, slot, err));
      } catch (err) {
        this.log.warn({ err: errText(err) }, "publish failed");
        if (this.model !== undefined) this.lose(gen, this.model);
        return;
      }
      if (!ok) this.blocked = true;
    }
    this.checkIdle();
  }

  private onConfirm(gen: number, slot: OutboxSlot<RabbitmqMessage>, err: unknown): void {
    if (gen !== this.generation) return;
    if (err !== null && err !== undefined) {
      // a nack: the broker could not take it; start over on a fresh connection, which re-publishes it
      this.log.warn({ err: errText(err), event: slot.item.event }, "event nacked by RabbitMQ");
      if (this.model !== undefined) this.lose(gen, this.model);
      return;
    }
    this.published++;
    this.lastConfirmMs = Date.now();
    this.outbox.confirm(slot);
    this.pump();
  }

  private checkIdle(): void {
    if (this.outbox.size > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private onDrop(msg: RabbitmqMessage): void {
    this.dropsSinceLog++;
    const now = Date.now();
    if (now - this.lastDropLogMs >= DROP_LOG_EVERY_MS) {
      this.log.warn(
        {
          dropped: this.dropsSinceLog,
          droppedTotal: this.outbox.dropped + this.droppedWhileClosing,
          event: msg.event,
          outboxSize: this.opts.outboxSize,
        },
        "event outbox full: events dropped",
      );
      this.lastDropLogMs = now;
      this.dropsSinceLog = 0;
    }
  }

  private delayFor(attempt: number): number {
    return backoffDelay(attempt, this.backoff, this.random());
  }
}

/** attempt 1, 2, 3…: initial × factor^(attempt-1), capped at max, scaled by a uniform factor in 1 ± jitter */
export function backoffDelay(attempt: number, b: BackoffOptions, random01: number): number {
  const base = Math.min(b.maxMs, b.initialMs * b.factor ** (attempt - 1));
  return base * (1 - b.jitter + 2 * b.jitter * random01);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
