import { readFileSync } from "node:fs";
import type { Config } from "./config/config.js";
import { systemClock } from "./clock.js";
import type { Clock } from "./clock.js";
import { startEvents } from "./events/events-service.js";
import type { Events } from "./events/events-service.js";
import type { Logger } from "./log.js";
import { createMiDispatcher } from "./mi/dispatch.js";
import type { MiDispatcher } from "./mi/dispatch.js";
import { startMiDatagram } from "./mi/datagram.js";
import { startMiFifo } from "./mi/fifo.js";
import { startMiHttp } from "./mi/http-server.js";
import type { MiHttpServer } from "./mi/http-server.js";
import { createShtagRegistry, startCluster } from "./cluster/cluster-service.js";
import { clustererCommands } from "./mi/commands/clusterer.js";
import { coreCommands } from "./mi/commands/core.js";
import { registrantCounters, registrantGauges, statisticsCommands } from "./mi/commands/statistics.js";
import { uacRegistrantCommands } from "./mi/commands/uac-registrant.js";
import { RegistrantService } from "./registrant/registrant-service.js";
import { SendPacer, sendPacerOptions } from "./sip/send-pacer.js";
import type { RegisterRequest, SipClient } from "./sip/sip-client.js";
import { SipStack } from "./sip/sip-stack.js";
import { Statistics } from "./statistics.js";
import { StatusReport } from "./status/status-report.js";
import { openStore } from "./store/open-store.js";
import type { RegistrantStore } from "./store/store.js";
import { dashboardRoutes } from "./dashboard/dashboard-routes.js";
import { limitHeapHeadroom } from "./heap-growth.js";
import { createMetrics } from "./metrics/metrics.js";
import { instrumentMiDispatcher } from "./metrics/mi-metrics.js";
import { metricsRoute } from "./metrics/metrics-route.js";
import { transactionMetrics } from "./metrics/sip-client-metrics.js";
import { StoreHealth } from "./metrics/store-health.js";
import { createStateLog } from "./state-log.js";
import { createSipTrace } from "./trace/sip-trace.js";
import { traceCommands } from "./trace/trace-commands.js";
import { traceOutcomes, wireTrace } from "./trace/wire-trace.js";

/** A running registrantd: what main.ts stops on a signal, and what tests drive in-process. */
export interface Daemon {
  readonly service: RegistrantService;
  readonly mi: MiDispatcher;
  readonly miHttp: MiHttpServer | undefined;
  readonly events: Events;
  readonly sip: SipStack;
  stop(opts?: { unregister?: boolean }): Promise<void>;
}

/** What a test (or an embedding program) puts in place of what startDaemon would build from the config. */
export interface DaemonOverrides {
  readonly clock?: Clock;
  /** the store, instead of the one `db_url` names; the caller keeps it and closes it */
  readonly store?: RegistrantStore;
  /**
   * the SIP client the engine's requests reach, under the send pacer (whose outcomes the trace and the metrics
   * observe), instead of the SIP stack (which still binds `listen`, so forced sockets resolve)
   */
  readonly sip?: SipClient;
  /** start with every record traced, as after MI `registrantd:trace on` */
  readonly traceAll?: boolean;
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/**
 * Builds and starts the object graph, in dependency order: store → SIP stack → engine → Status/Report and events
 * (state-change listeners) → MI dispatcher and its transports. Anything that fails to start closes what was
 * already started, so a failed start leaves no socket or connection behind.
 */
export async function startDaemon(config: Config, log: Logger, overrides: DaemonOverrides = {}): Promise<Daemon> {
  const clock = overrides.clock ?? systemClock;
  const startedAtMs = clock.nowMs();
  const closers: (() => Promise<void>)[] = [];
  // before the table is loaded: the load itself promotes garbage (docs/performance.md, "Memory")
  const stopHeapLimit = limitHeapHeadroom(config.heap_headroom_mb);
  closers.push(() => Promise.resolve(stopHeapLimit()));
  const closeAll = async (): Promise<void> => {
    for (const close of closers.splice(0).reverse()) {
      await close().catch((err: unknown) => log.warn({ err }, "error while closing"));
    }
  };

  try {
    let opened = overrides.store;
    if (opened === undefined) {
      const own = await openStore(config, log);
      closers.push(() => own.close());
      opened = own;
    }
    // the store as the engine sees it, watched for /metrics' DB health
    const health = new StoreHealth(opened, 30_000, clock);
    const store = health.store;

    // per-registrant SIP trace (off until switched on over MI): fed from the wire and from local outcomes
    const trace = createSipTrace({ clock, enabled: overrides.traceAll ?? false });
    const sip = await SipStack.start({
      ...SipStack.optionsFromConfig(config, log),
      clock,
      onWire: wireTrace(trace),
    });
    closers.push(() => sip.close());

    // the metrics read their sources when scraped, so they can be built before the events they read
    const late: { events?: Events } = {};
    const metrics = createMetrics({
      clock,
      records: () => service.list(),
      sip: () => sip.stats(),
      events: () => late.events?.counters() ?? { raised: 0, rabbitmq: [], dropped: 0 },
      db: health.read,
    });
    closers.push(() => Promise.resolve(metrics.close()));
    // send pacing (docs/performance.md): outermost, so a storm waits in its queue before any transaction starts;
    // the trace and the metrics see each outcome in the pacer's reaction instead of wrapping the client
    const client = overrides.sip;
    const inner =
      client === undefined
        ? sip
        : { send: (r: RegisterRequest) => client.send(r), hasSocket: (s: string) => sip.hasSocket(s) };
    const paced = new SendPacer(inner, sendPacerOptions(config), clock);
    paced.observe(traceOutcomes(trace));
    paced.observe(transactionMetrics(metrics));
    closers.push(() => Promise.resolve(paced.close()));

    // clustering (docs/clustering.md): the tag states exist before the engine, whose gate reads them
    const shtags = createShtagRegistry(config);
    const service = RegistrantService.fromConfig(config, {
      store,
      sip: paced,
      log,
      clock,
      isActive: (tag) => shtags.isActive(tag),
    });
    const stats = new Statistics();
    const sr = new StatusReport(clock);
    service.onTableChange((c) => sr.onTableChange(c));
    service.onStateChange((c) => sr.onStateChange(c));
    service.onTableChange(trace.onTableChange);
    service.onTableChange(metrics.onTableChange);
    service.onStateChange(metrics.onStateChange);
    service.onStateChange(createStateLog(log));

    const mi = instrumentMiDispatcher(createMiDispatcher({ log, stats }), metrics);
    const started = await startEvents(config.events, {
      log,
      stats,
      tls: config.tls,
      snapshot: () => service.list(),
      dispatchMi: async (text) => {
        const outcome = await mi.handle(text, "websocket");
        return outcome.kind === "reply" || outcome.kind === "parse-error" ? outcome.text : undefined;
      },
      // the dashboard's first snapshot of 10,000 records is ~2 MB: far above a chatty client's backlog
      websocket: { maxBufferedBytes: 64 * 1024 * 1024 },
    });
    late.events = started;
    closers.push(() => started.close());
    service.onStateChange((c) => started.onStateChange(c));

    registrantGauges(stats, service);
    service.onStateChange(registrantCounters(stats));
    mi.register(
      uacRegistrantCommands(service, {
        rowCheck: {
          timerInterval: config.timer_interval,
          defaultExpires: config.default_expires,
          hasSocket: (spec) => sip.hasSocket(spec),
        },
      }),
    );
    mi.register(
      coreCommands({
        registry: mi.registry,
        clock,
        startedAtMs,
        version: packageVersion(),
        processes: () => ["registrantd main", "SIP timer", "MI"],
        setLogLevel: (level) => {
          log.level = level;
        },
        initialLogLevel: log.levelVal,
      }),
    );
    mi.register(statisticsCommands(stats));
    mi.register(sr.commands());
    mi.register(started.commands({ clusterer: config.enable_clustering === 1 }));
    mi.register(traceCommands({ trace, exists: (c) => service.find(c) !== undefined }));

    // the table is loaded before MI answers, so the first `list` already shows every record
    await service.start();
    let serviceStopped = false;
    const stopService = async (unregister: boolean): Promise<void> => {
      if (serviceStopped) return;
      serviceStopped = true;
      await service.stop(unregister ? { unregister: true } : {});
    };
    closers.push(() => stopService(false));

    // clustering: the election starts once the table is loaded; on stop, tags drain before the engine stops
    const cluster = await startCluster(config, { service, registry: shtags, log });
    if (cluster !== undefined) {
      closers.push(() => cluster.stop());
      mi.register(clustererCommands(cluster));
      cluster.onChange((c) =>
        started.raise("E_CLUSTERER_SHARING_TAG_CHANGED", {
          name: c.tag,
          cluster: c.clusterId,
          state: c.active ? "active" : "backup",
          reason: c.reason,
        }),
      );
    }

    let miHttp: MiHttpServer | undefined;
    if (config.mi_http.enabled) {
      miHttp = await startMiHttp(config.mi_http, mi, log);
      const http = miHttp;
      closers.push(() => http.close());
      // /metrics and /dashboard share the MI listener and its optional Basic auth
      const auth = config.mi_http.auth !== undefined ? { auth: config.mi_http.auth } : {};
      http.route("/metrics", metricsRoute(metrics, { log, ...auth }));
      const ws = config.events.websocket;
      const wsPort = started.websocketPort;
      const websocket =
        wsPort !== undefined
          ? {
              websocket: { ip: ws.ip, port: wsPort, path: ws.path, ...(ws.token !== undefined && { token: ws.token }) },
            }
          : {};
      for (const r of dashboardRoutes({ ...auth, ...websocket })) http.route(r.path, r.handler);
    }
    if (config.mi_fifo.enabled) {
      const fifo = await startMiFifo(config.mi_fifo, mi, log);
      closers.push(() => fifo.close());
    }
    if (config.mi_datagram.enabled) {
      const dgram = await startMiDatagram(config.mi_datagram, mi, log);
      closers.push(() => dgram.close());
    }
    sr.setCoreStatus("running");
    log.info({ listen: config.listen, store: store.kind }, "registrantd started");

    let stopped = false;
    return {
      service,
      mi,
      miHttp,
      events: started,
      sip,
      stop: async (opts = {}) => {
        if (stopped) return;
        stopped = true;
        sr.setCoreStatus("shutting down");
        // a clustered node hands its sharing tags over (stop sending, save the dialogs, release) first
        await cluster?.stop();
        // unREGISTERs need the SIP stack and the events they raise need the sinks: stop the engine first
        await stopService(opts.unregister === true);
        await closeAll();
        log.info("registrantd stopped");
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
