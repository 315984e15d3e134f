import type { TlsSocketOptions } from "../config/config.js";
import type { Logger } from "../log.js";
import { isPublishedEvent } from "./catalog.js";
import type { PublishedEventName, RegistrantEvent } from "./catalog.js";
import { RabbitmqSink } from "./rabbitmq-sink.js";
import type { BackoffOptions, RabbitmqSinkCounters } from "./rabbitmq-sink.js";
import { connectionKey, isRabbitmqSocket, parseRabbitmqSocket } from "./rabbitmq-socket.js";
import type { RabbitmqTarget } from "./rabbitmq-socket.js";

/** One `subscribe_event` / `event_subscribe`: an event and where it goes. */
export interface Subscriber {
  readonly event: PublishedEventName;
  readonly target: RabbitmqTarget;
  /** the transport's own socket text, as `subscribers_list` prints it */
  readonly printed: string;
}

export type SubscribeResult = { ok: true; refreshed: boolean } | { ok: false; error: string };

export interface SubscriptionsOptions {
  readonly outboxSize: number;
  readonly log: Logger;
  /** the daemon's `tls` map: `tls_domain=NAME` picks NAME from it */
  readonly tls?: Readonly<Record<string, TlsSocketOptions>>;
  readonly backoff?: Partial<BackoffOptions>;
  readonly connectTimeoutMs?: number;
}

function sameTarget(a: RabbitmqTarget, b: RabbitmqTarget): boolean {
  return (
    connectionKey(a.connection) === connectionKey(b.connection) &&
    a.exchange === b.exchange &&
    a.routingKey === b.routingKey &&
    a.persistent === b.persistent
  );
}

/**
 * The EVI subscriber table. Only RabbitMQ sockets exist here (OpenSIPS's `rabbitmq:` form and amqp(s)://
 * URIs), and like event_rabbitmq they never expire, whatever `expire` MI passes. Subscribing the same
 * socket again refreshes instead of adding a duplicate. Subscribers sharing a broker login share one
 * connection and one bounded outbox, so every event for that broker stays in raise order.
 */
export class Subscriptions {
  /** per event, newest subscription first (OpenSIPS delivers and lists in that order) */
  private readonly byEvent = new Map<PublishedEventName, Subscriber[]>();
  private readonly sinks = new Map<string, RabbitmqSink>();
  private closed = false;

  constructor(private readonly opts: SubscriptionsOptions) {}

  subscribe(event: string, socket: string): SubscribeResult {
    if (this.closed) return { ok: false, error: "shutting down" };
    if (!isPublishedEvent(event)) return { ok: false, error: `unknown event '${event}'` };
    if (!isRabbitmqSocket(socket))
      return { ok: false, error: `unsupported transport in '${socket.split(":")[0] ?? ""}'` };
    const parsed = parseRabbitmqSocket(socket);
    if (!parsed.ok) return parsed;
    const target = parsed.target;
    if (target.connection.tlsDomain !== undefined && this.opts.tls?.[target.connection.tlsDomain] === undefined) {
      return { ok: false, error: `unknown tls_domain '${target.connection.tlsDomain}'` };
    }
    const list = this.byEvent.get(event) ?? [];
    if (list.some((s) => sameTarget(s.target, target))) return { ok: true, refreshed: true };
    list.unshift({ event, target, printed: target.printed });
    this.byEvent.set(event, list);
    this.sinkFor(target);
    return { ok: true, refreshed: false };
  }

  /** a subscriber of `event` whose socket is `socket`, given in any notation that parses to the same target */
  find(event: PublishedEventName, socket: string): Subscriber | undefined {
    const parsed = parseRabbitmqSocket(socket);
    return this.subscribers(event).find((s) =>
      parsed.ok ? sameTarget(s.target, parsed.target) : s.printed === socket,
    );
  }

  subscribers(event: PublishedEventName): readonly Subscriber[] {
    return this.byEvent.get(event) ?? [];
  }

  dispatch(ev: Pick<RegistrantEvent, "body"> & { readonly name: PublishedEventName }): void {
    const list = this.byEvent.get(ev.name);
    if (list === undefined) return;
    const body = Buffer.from(ev.body, "utf8");
    for (const s of list) {
      this.sinkFor(s.target).enqueue({
        exchange: s.target.exchange,
        routingKey: s.target.routingKey,
        persistent: s.target.persistent,
        body,
        event: ev.name,
      });
    }
  }

  /** per broker connection (labelled by the first socket printed for it) */
  counters(): { readonly socket: string; readonly counters: RabbitmqSinkCounters }[] {
    return [...this.sinks.entries()].map(([, sink]) => ({ socket: sink.label, counters: sink.counters() }));
  }

  async close(timeoutMs = 5_000): Promise<void> {
    this.closed = true;
    await Promise.all([...this.sinks.values()].map((s) => s.close(timeoutMs)));
  }

  private sinkFor(target: RabbitmqTarget): RabbitmqSink {
    const key = connectionKey(target.connection);
    let sink = this.sinks.get(key);
    if (sink === undefined) {
      const tlsDomain = target.connection.tlsDomain;
      const tls = tlsDomain === undefined ? undefined : this.opts.tls?.[tlsDomain];
      sink = new RabbitmqSink({
        connection: target.connection,
        label: target.printed,
        outboxSize: this.opts.outboxSize,
        log: this.opts.log,
        ...(tls === undefined ? {} : { tls }),
        ...(this.opts.backoff === undefined ? {} : { backoff: this.opts.backoff }),
        ...(this.opts.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: this.opts.connectTimeoutMs }),
      });
      this.sinks.set(key, sink);
    }
    return sink;
  }
}
