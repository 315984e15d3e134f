import { systemClock } from "../../src/clock.js";
import { dashboardRoutes } from "../../src/dashboard/dashboard-routes.js";
import { startEvents } from "../../src/events/events-service.js";
import type { Events } from "../../src/events/events-service.js";
import { silentLogger } from "../../src/log.js";
import type { Logger } from "../../src/log.js";
import { Metrics } from "../../src/metrics/metrics.js";
import { instrumentMiDispatcher } from "../../src/metrics/mi-metrics.js";
import { metricsRoute } from "../../src/metrics/metrics-route.js";
import { instrumentSipClient } from "../../src/metrics/sip-client-metrics.js";
import { StoreHealth } from "../../src/metrics/store-health.js";
import { statusReportCommands } from "../../src/mi/commands/status-report.js";
import { uacRegistrantCommands } from "../../src/mi/commands/uac-registrant.js";
import { createMiDispatcher } from "../../src/mi/dispatch.js";
import type { MiDispatcher } from "../../src/mi/dispatch.js";
import { startMiHttp } from "../../src/mi/http-server.js";
import type { MiHttpServer } from "../../src/mi/http-server.js";
import { defaultEngineOptions } from "../../src/registrant/engine-options.js";
import type { EngineOptions } from "../../src/registrant/engine-options.js";
import type { RegistrantRow } from "../../src/registrant/record-spec.js";
import { RegistrantService } from "../../src/registrant/registrant-service.js";
import { wireReaders } from "../../src/registrant/response.js";
import { checkRow } from "../../src/registrant/row-check.js";
import { SipStack } from "../../src/sip/sip-stack.js";
import type { SipClient } from "../../src/sip/sip-client.js";
import { createStateLog } from "../../src/state-log.js";
import { Statistics } from "../../src/statistics.js";
import { StatusReport } from "../../src/status/status-report.js";
import type { RegistrantStore } from "../../src/store/store.js";
import { createSipTrace } from "../../src/trace/sip-trace.js";
import type { SipTrace } from "../../src/trace/sip-trace.js";
import { traceCommands } from "../../src/trace/trace-commands.js";
import { traceSipClient, wireTrace } from "../../src/trace/wire-trace.js";
import { MemoryStore } from "./memory-store.js";

export interface OperatorStackConfig {
  readonly rows: RegistrantRow[];
  /** a SipClient to use (a FakeSipClient), or a real SipStack on udp:127.0.0.1:0 when undefined */
  readonly sip?: SipClient;
  readonly store?: RegistrantStore;
  readonly options?: Partial<EngineOptions>;
  readonly timerFMs?: number;
  readonly log?: Logger;
  readonly miAuth?: { readonly username: string; readonly password: string };
  /** RabbitMQ subscriptions (`subscribe_event` lines) */
  readonly subscribe?: readonly { readonly event: string; readonly socket: string }[];
  readonly traceAll?: boolean;
}

/**
 * registrantd's operator side assembled from the real modules, the way daemon.ts wires them: engine,
 * Status/Report, events (websocket + RabbitMQ), MI over HTTP and the websocket, SIP trace, metrics, the state
 * log, and /metrics + /dashboard on the MI HTTP server. Only the SIP client (fake or real stack) and the store
 * are chosen by the test.
 */
export class OperatorStack {
  private constructor(
    readonly service: RegistrantService,
    readonly metrics: Metrics,
    readonly trace: SipTrace,
    readonly events: Events,
    readonly mi: MiHttpServer,
    readonly dispatcher: MiDispatcher,
    readonly stack: SipStack | undefined,
  ) {}

  static async start(config: OperatorStackConfig): Promise<OperatorStack> {
    const log = config.log ?? silentLogger;
    const clock = systemClock;
    const trace = createSipTrace({ clock, enabled: config.traceAll ?? false });
    const stack =
      config.sip === undefined
        ? await SipStack.start({
            listen: ["udp:127.0.0.1:0"],
            log,
            timers: { timerF: config.timerFMs ?? 4_000 },
            onWire: wireTrace(trace),
          })
        : undefined;
    const health = new StoreHealth(config.store ?? new MemoryStore(config.rows), 30_000, clock);
    const options: EngineOptions = {
      ...defaultEngineOptions,
      // OpenSIPS's smallest timer_interval; 8 buckets: one every 1.25 s
      timerIntervalSec: 10,
      hashSize: 3,
      userAgent: "registrantd-test",
      ...config.options,
    };
    const rowCheck = {
      timerInterval: options.timerIntervalSec,
      defaultExpires: 3600,
      hasSocket: (s: string) => stack?.hasSocket(s) ?? false,
    };
    const late: { events?: Events } = {};
    // the metrics read their sources lazily, so they can be built before the parts they read
    const metrics = new Metrics({
      clock,
      records: () => service.list(),
      ...(stack === undefined ? {} : { sip: () => stack.stats() }),
      events: () => late.events!.counters(),
      db: health.read,
    });
    const sip = instrumentSipClient(traceSipClient(stack ?? config.sip!, trace), metrics, clock);
    const service = new RegistrantService({
      store: health.store,
      sip,
      clock,
      log,
      options,
      specFromRow: (r) => {
        const checked = checkRow(r, rowCheck);
        return checked.ok ? checked.spec : checked.error;
      },
      readers: wireReaders,
    });
    const sr = new StatusReport(clock);
    const stats = new Statistics();
    const dispatcher = instrumentMiDispatcher(
      createMiDispatcher({
        log,
        stats,
        commands: [
          ...uacRegistrantCommands(service, { rowCheck }),
          ...statusReportCommands(sr),
          ...traceCommands({ trace, exists: (c) => service.find(c) !== undefined }),
        ],
      }),
      metrics,
    );
    const ev = await startEvents(
      {
        subscribe: config.subscribe ?? [],
        outbox_size: 10_000,
        extended_params: true,
        websocket: { enabled: true, ip: "127.0.0.1", port: 0, path: "/events" },
      },
      {
        log,
        snapshot: () => service.list(),
        dispatchMi: async (text) => {
          const outcome = await dispatcher.handle(text, "websocket");
          return outcome.kind === "reply" || outcome.kind === "parse-error" ? outcome.text : undefined;
        },
        // a 10,000-record snapshot is ~2 MB: far above the 1 MiB default for a slow consumer
        websocket: { maxBufferedBytes: 64 * 1024 * 1024 },
      },
    );
    late.events = ev;
    dispatcher.register(ev.commands());
    service.onTableChange((c) => sr.onTableChange(c));
    service.onTableChange(trace.onTableChange);
    service.onTableChange(metrics.onTableChange);
    service.onStateChange((c) => sr.onStateChange(c));
    service.onStateChange((c) => ev.onStateChange(c));
    service.onStateChange(metrics.onStateChange);
    service.onStateChange(createStateLog(log));

    const mi = await startMiHttp(
      { enabled: true, ip: "127.0.0.1", port: 0, root: "mi", ...(config.miAuth ? { auth: config.miAuth } : {}) },
      dispatcher,
      log,
    );
    const auth = config.miAuth ? { auth: config.miAuth } : {};
    mi.route("/metrics", metricsRoute(metrics, { log, ...auth }));
    for (const r of dashboardRoutes({
      ...auth,
      websocket: { ip: "127.0.0.1", port: ev.websocketPort!, path: "/events" },
    })) {
      mi.route(r.path, r.handler);
    }
    await service.start();
    return new OperatorStack(service, metrics, trace, ev, mi, dispatcher, stack);
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.mi.address().port}`;
  }

  async stop(): Promise<void> {
    await this.service.stop();
    await this.events.close(1_000);
    await this.mi.close();
    await this.stack?.close();
    this.metrics.close();
  }
}
