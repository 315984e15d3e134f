import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import type { Clock } from "../clock.js";
import { systemClock } from "../clock.js";
import type { RecordView } from "../registrant/operations.js";
import { RegState } from "../registrant/state.js";
import type { RegStateName } from "../registrant/state.js";
import type { StateChange, TableChange } from "../registrant/state-change.js";
import { BoundedLabels } from "./bounded-labels.js";
import { LeanHistogram } from "./lean-histogram.js";
import { RegistrationTracker } from "./registration-tracker.js";

/** What the metrics read from SipStack.stats() (structurally a subset of SipStackStats). */
export interface SipStatsLike {
  readonly sent: number;
  readonly retransmissions: number;
  readonly timeouts: number;
  readonly transportErrors: number;
  readonly inFlight: number;
}

/** What the metrics read from the events side (structurally a subset of EventsCounters). */
export interface EventsCountersLike {
  readonly raised: number;
  readonly rabbitmq: readonly {
    readonly socket: string;
    readonly counters: { readonly connected: boolean; readonly published: number; readonly dropped: number };
  }[];
  readonly websocket?: { readonly clients: number; readonly sent: number; readonly slowConsumerCutoffs: number };
}

export interface MetricsSources {
  /** every record, walked once per scrape for the per-state gauge */
  readonly records: () => Iterable<RecordView>;
  readonly sip?: () => SipStatsLike;
  readonly events?: () => EventsCountersLike;
  /** the store's health as last seen (see StoreHealth) */
  readonly db?: () => { readonly kind: string; readonly up: boolean };
}

export interface MetricsOptions extends MetricsSources {
  readonly clock?: Clock;
  /** registrar label values kept apart; later registrars are summed up as `other` (default 100) */
  readonly maxRegistrars?: number;
  /** event sink label values kept apart (default 20) */
  readonly maxSinks?: number;
  /** the process/nodejs metrics of prom-client, which include event-loop lag (default on) */
  readonly processMetrics?: boolean;
}

/** How an MI request ended; `invalid_request`: not JSON-RPC at all, no command was looked up. */
export type MiResult = "ok" | "error" | "failed" | "notification" | "invalid_request";

/** Seconds: a REGISTER round trip on a LAN is ms, a Timer F expiry 32 s, a 401 loop over a WAN a few s. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 32, 64];

const STATE_NAMES = Object.keys(RegState) as RegStateName[];

/**
 * The Prometheus registry of one registrantd (prom-client, its own Registry: nothing global). Gauges and
 * the counters owned by other modules are read when scraped; StateChanges, SIP replies and MI requests are
 * counted as they happen through the hooks below. Label sets are bounded: states and result words are fixed
 * lists, SIP codes are 100-699, MI commands are the registered ones, registrars and sinks are capped.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly clock: Clock;
  private readonly tracker: RegistrationTracker;
  private readonly sinks: BoundedLabels;
  /** replies by status code (index), first seen first: read into their prom-client Counter when scraped */
  private readonly replyCounts = new Float64Array(700);
  private readonly replyCodes: number[] = [];
  private readonly registerDuration: LeanHistogram;
  private readonly miRequests: Counter<"command" | "result">;

  constructor(sources: MetricsOptions) {
    this.clock = sources.clock ?? systemClock;
    this.sinks = new BoundedLabels(sources.maxSinks ?? 20, "rabbitmq:other");
    const registry = this.registry;
    // observed per registration and per transaction: the lean histogram keeps that allocation-free
    const registrationLatency = new LeanHistogram(
      "registrantd_registration_latency_seconds",
      "Time from a REGISTER leaving a settled state to REGISTERED, digest and 423 rounds included",
      LATENCY_BUCKETS,
      registry,
    );
    this.tracker = new RegistrationTracker(sources.maxRegistrars ?? 100, (s) => registrationLatency.observe(s));

    new Gauge({
      name: "registrantd_registrants",
      help: "Registrants in memory by state (OpenSIPS state names)",
      labelNames: ["state"],
      registers: [registry],
      collect() {
        const counts = new Array<number>(STATE_NAMES.length).fill(0);
        for (const r of sources.records()) counts[r.state] = (counts[r.state] ?? 0) + 1;
        this.reset();
        STATE_NAMES.forEach((name, i) => this.set({ state: name }, counts[i] ?? 0));
      },
    });
    new Gauge({
      name: "registrantd_registrants_disabled",
      help: "Registrants in memory that are disabled",
      registers: [registry],
      collect() {
        let n = 0;
        for (const r of sources.records()) if (!r.enabled) n++;
        this.set(n);
      },
    });

    const sip = sources.sip;
    if (sip !== undefined) {
      const fromStats = (name: string, help: string, read: (s: SipStatsLike) => number): void => {
        new Counter({
          name,
          help,
          registers: [registry],
          collect() {
            this.reset();
            this.inc(read(sip()));
          },
        });
      };
      fromStats("registrantd_register_sent_total", "REGISTER requests sent (first transmissions)", (s) => s.sent);
      fromStats(
        "registrantd_register_retransmissions_total",
        "REGISTER retransmissions (RFC 3261 Timer E)",
        (s) => s.retransmissions,
      );
      fromStats("registrantd_register_timeouts_total", "REGISTER transactions ended by Timer F", (s) => s.timeouts);
      fromStats(
        "registrantd_register_transport_errors_total",
        "REGISTER transactions ended by a transport error",
        (s) => s.transportErrors,
      );
      new Gauge({
        name: "registrantd_transactions_in_flight",
        help: "REGISTER client transactions waiting for a final outcome",
        registers: [registry],
        collect() {
          this.set(sip().inFlight);
        },
      });
    }
    const replyCounts = this.replyCounts;
    const replyCodes = this.replyCodes;
    new Counter({
      name: "registrantd_register_replies_total",
      help: "Final replies to REGISTER transactions by SIP status code",
      labelNames: ["code"],
      registers: [registry],
      collect() {
        this.reset();
        for (const code of replyCodes) this.inc({ code: String(code) }, replyCounts[code]);
      },
    });
    this.registerDuration = new LeanHistogram(
      "registrantd_register_duration_seconds",
      "One REGISTER transaction, sent to final outcome (reply, timeout or transport error)",
      LATENCY_BUCKETS,
      registry,
    );

    const tracker = this.tracker;
    const clock = this.clock;
    new Gauge({
      name: "registrantd_registrar_seconds_since_last_success",
      help: "Seconds since a registration last succeeded, per registrar (capped label set; later ones are `other`)",
      labelNames: ["registrar"],
      registers: [registry],
      collect() {
        this.reset();
        const now = clock.nowMs();
        for (const [registrar, at] of tracker.lastSuccess()) this.set({ registrar }, Math.max(0, now - at) / 1000);
      },
    });

    const events = sources.events;
    if (events !== undefined) {
      const sinks = this.sinks;
      new Counter({
        name: "registrantd_events_raised_total",
        help: "E_REGISTRANT_* events raised",
        registers: [registry],
        collect() {
          this.reset();
          this.inc(events().raised);
        },
      });
      const perSink = (
        name: string,
        help: string,
        read: (c: { published: number; dropped: number }) => number,
        websocket?: (w: NonNullable<EventsCountersLike["websocket"]>) => number,
      ): void => {
        new Counter({
          name,
          help,
          labelNames: ["sink"],
          registers: [registry],
          collect() {
            this.reset();
            const c = events();
            for (const r of c.rabbitmq) this.inc({ sink: sinks.label(r.socket) }, read(r.counters));
            if (websocket !== undefined && c.websocket !== undefined)
              this.inc({ sink: "websocket" }, websocket(c.websocket));
          },
        });
      };
      perSink(
        "registrantd_events_published_total",
        "Events delivered per sink: confirmed by the broker, or messages written to websocket clients",
        (c) => c.published,
        (w) => w.sent,
      );
      perSink("registrantd_events_dropped_total", "Events a full outbox had to drop, per sink", (c) => c.dropped);
      new Gauge({
        name: "registrantd_broker_up",
        help: "1 while the connection to the broker of a RabbitMQ subscription is up",
        labelNames: ["sink"],
        registers: [registry],
        collect() {
          this.reset();
          for (const r of events().rabbitmq) this.set({ sink: sinks.label(r.socket) }, r.counters.connected ? 1 : 0);
        },
      });
      new Gauge({
        name: "registrantd_websocket_clients",
        help: "Clients connected to the events websocket",
        registers: [registry],
        collect() {
          this.set(events().websocket?.clients ?? 0);
        },
      });
      new Counter({
        name: "registrantd_websocket_slow_consumer_cutoffs_total",
        help: "Websocket clients cut off for not reading",
        registers: [registry],
        collect() {
          this.reset();
          this.inc(events().websocket?.slowConsumerCutoffs ?? 0);
        },
      });
    }

    const db = sources.db;
    if (db !== undefined) {
      new Gauge({
        name: "registrantd_db_up",
        help: "1 while the registrant store answers",
        labelNames: ["kind"],
        registers: [registry],
        collect() {
          const h = db();
          this.reset();
          this.set({ kind: h.kind }, h.up ? 1 : 0);
        },
      });
    }

    this.miRequests = new Counter({
      name: "registrantd_mi_requests_total",
      help: "MI requests by command and result (ok, error, or the JSON-RPC failure before a command was found)",
      labelNames: ["command", "result"],
      registers: [registry],
    });

    // nodejs_eventloop_lag_seconds (+ _p50/_p90/_p99/_max from monitorEventLoopDelay), heap, fds, cpu
    if (sources.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  }

  /** Hang on the engine's state changes. */
  readonly onStateChange = (change: StateChange): void => {
    this.tracker.onStateChange(change);
  };

  readonly onTableChange = (change: TableChange): void => {
    this.tracker.onTableChange(change);
  };

  /** One REGISTER transaction finished: `code` for a final reply, undefined for a timeout or transport error. */
  observeTransaction(seconds: number, code: number | undefined): void {
    this.registerDuration.observe(seconds);
    if (code !== undefined && Number.isInteger(code) && code >= 100 && code <= 699) {
      if (this.replyCounts[code] === 0) this.replyCodes.push(code);
      this.replyCounts[code]!++;
    }
  }

  observeMiRequest(command: string, result: MiResult): void {
    this.miRequests.inc({ command, result });
  }

  /** The text exposition (`text/plain; version=0.0.4`). */
  async scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** forgets every metric (the daemon is stopping) */
  close(): void {
    this.registry.clear();
  }
}

export function createMetrics(options: MetricsOptions): Metrics {
  return new Metrics(options);
}
