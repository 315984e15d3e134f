import type { EventsConfig, TlsSocketOptions } from "../config/config.js";
import { ConfigError } from "../errors.js";
import type { Logger } from "../log.js";
import { eventCommands } from "../mi/commands/events.js";
import type { EventCommandOptions } from "../mi/commands/events.js";
import type { MiCommand } from "../mi/command.js";
import type { RecordView } from "../registrant/operations.js";
import type { StateChange } from "../registrant/state-change.js";
import type { Statistics } from "../statistics.js";
import { EventBus } from "./bus.js";
import { buildEvent, eventForState } from "./catalog.js";
import type { PublishedEventName, RegistrantEvent, RegistrantEventName } from "./catalog.js";
import type { BackoffOptions, RabbitmqSinkCounters } from "./rabbitmq-sink.js";
import { Subscriptions } from "./subscriptions.js";
import type { SubscribeResult } from "./subscriptions.js";
import { WebsocketSink } from "./websocket-sink.js";
import type { MiDispatch, WebsocketSinkCounters, WebsocketSinkOptions } from "./websocket-sink.js";

export interface EventsDeps {
  readonly log: Logger;
  /** current records, for the websocket snapshot */
  readonly snapshot: () => Iterable<RecordView>;
  /** MI over the websocket; called lazily, so it may close over a dispatcher built after startEvents */
  readonly dispatchMi?: MiDispatch;
  /** the daemon's `tls` map, for `tls_domain=` sockets */
  readonly tls?: Readonly<Record<string, TlsSocketOptions>>;
  readonly backoff?: Partial<BackoffOptions>;
  readonly connectTimeoutMs?: number;
  readonly websocket?: Pick<WebsocketSinkOptions, "maxBufferedBytes" | "pingIntervalMs" | "cutoffGraceMs">;
  /** registers the `events:*` statistics (see STATISTICS) */
  readonly stats?: Statistics;
}

/** `events:<name>` statistics; totals over every RabbitMQ connection, read live (non-incremental) */
export const STATISTICS = [
  "raised",
  "published",
  "dropped",
  "returned",
  "rabbitmq_reconnects",
  "queued",
  "in_flight",
  "ws_clients",
  "ws_sent",
  "ws_slow_consumer_cutoffs",
] as const;

export interface EventsCounters {
  /** events raised (one per state change that has an event) */
  readonly raised: number;
  readonly rabbitmq: readonly { readonly socket: string; readonly counters: RabbitmqSinkCounters }[];
  /** total over every RabbitMQ connection: events the outboxes had to drop */
  readonly dropped: number;
  readonly websocket?: WebsocketSinkCounters;
}

export interface Events {
  /** hand every engine StateChange here; never throws, never blocks */
  onStateChange(change: StateChange): void;
  /** raise another module's event (OTHER_EVENTS) to its EVI subscribers; params in OpenSIPS's order */
  raise(name: PublishedEventName, params: Readonly<Record<string, string | number>>): void;
  /** every raised event, for in-process observers (tests, metrics) */
  onEvent(listener: (ev: RegistrantEvent) => void): () => void;
  subscribe(event: string, socket: string): SubscribeResult;
  /** the EVI MI commands; `clusterer`: clustering is on, so the clusterer's event is published too */
  commands(opts?: EventCommandOptions): MiCommand[];
  counters(): EventsCounters;
  /** the websocket's bound port, when it is enabled */
  readonly websocketPort: number | undefined;
  /** drains outboxes for up to `timeoutMs`, then closes every connection */
  close(timeoutMs?: number): Promise<void>;
}

/**
 * Builds the events side: E_REGISTRANT_* from state changes, the config's `subscribe` list (as
 * `subscribe_event` lines in an OpenSIPS startup route), RabbitMQ sinks and the websocket endpoint.
 * A bad `subscribe` entry stops start-up with a ConfigError naming it.
 */
export async function startEvents(config: EventsConfig, deps: EventsDeps): Promise<Events> {
  const log = deps.log.child({ mod: "events" });
  const bus = new EventBus<RegistrantEvent>(log);
  const subs = new Subscriptions({
    outboxSize: config.outbox_size,
    log,
    ...(deps.tls === undefined ? {} : { tls: deps.tls }),
    ...(deps.backoff === undefined ? {} : { backoff: deps.backoff }),
    ...(deps.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: deps.connectTimeoutMs }),
  });
  config.subscribe.forEach((s, i) => {
    const r = subs.subscribe(s.event, s.socket);
    if (!r.ok) throw new ConfigError(`/events/subscribe/${i}: ${r.error}`);
  });
  bus.on((ev) => subs.dispatch(ev));

  let ws: WebsocketSink | undefined;
  if (config.websocket.enabled) {
    ws = await WebsocketSink.start({
      config: config.websocket,
      log,
      snapshot: deps.snapshot,
      ...(deps.dispatchMi === undefined ? {} : { dispatchMi: deps.dispatchMi }),
      ...deps.websocket,
    });
    const sink = ws;
    bus.on((ev) => sink.dispatch(ev));
  }

  let raised = 0;
  deps.stats?.gauges("events", STATISTICS, () => {
    const sum = (pick: (c: RabbitmqSinkCounters) => number) =>
      subs.counters().reduce((n, s) => n + pick(s.counters), 0);
    const w = ws?.counters();
    return {
      raised,
      published: sum((c) => c.published),
      dropped: sum((c) => c.dropped),
      returned: sum((c) => c.returned),
      rabbitmq_reconnects: sum((c) => c.reconnects),
      queued: sum((c) => c.queued),
      in_flight: sum((c) => c.inFlight),
      ws_clients: w?.clients ?? 0,
      ws_sent: w?.sent ?? 0,
      ws_slow_consumer_cutoffs: w?.slowConsumerCutoffs ?? 0,
    };
  });
  // in-process observers (onEvent): while there is none, an event is built only for a subscribed socket or client
  let observers = 0;
  /**
   * Whether anyone would get an event now. OpenSIPS raises an event only when it has subscribers; a storm makes
   * three state changes per registration, so building bodies nobody reads was several percent of its CPU.
   * Asked in the same turn as the delivery, so no subscriber present at the change can miss it.
   */
  const wanted = (name: RegistrantEventName): boolean =>
    observers > 0 || subs.subscribers(name).length > 0 || (ws?.wants(name) ?? false);
  return {
    onStateChange(change) {
      ws?.dispatchState(change);
      const name = eventForState(change.to);
      if (name === undefined) return;
      raised++;
      if (!wanted(name)) return;
      let ev: RegistrantEvent | undefined;
      try {
        ev = buildEvent(change, config.extended_params);
      } catch (err) {
        log.error({ err }, "cannot build event");
        return;
      }
      if (ev !== undefined) bus.emit(ev);
    },
    raise(name, params) {
      raised++;
      if (subs.subscribers(name).length === 0) return;
      subs.dispatch({ name, body: JSON.stringify({ jsonrpc: "2.0", method: name, params }) });
    },
    onEvent(listener) {
      const off = bus.on(listener);
      observers++;
      let on = true;
      return () => {
        if (!on) return;
        on = false;
        observers--;
        off();
      };
    },
    subscribe: (event, socket) => subs.subscribe(event, socket),
    commands: (opts) => eventCommands(subs, opts),
    counters() {
      const rabbitmq = subs.counters();
      const dropped = rabbitmq.reduce((n, c) => n + c.counters.dropped, 0);
      return { raised, rabbitmq, dropped, ...(ws === undefined ? {} : { websocket: ws.counters() }) };
    },
    websocketPort: ws?.port,
    async close(timeoutMs = 5_000) {
      await Promise.all([subs.close(timeoutMs), ws?.close()]);
    },
  };
}
