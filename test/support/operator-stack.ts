import type { Config } from "../../src/config/config.js";
import { DEFAULT_CONFIG } from "../../src/config/defaults.js";
import { startDaemon } from "../../src/daemon.js";
import type { Daemon } from "../../src/daemon.js";
import { silentLogger } from "../../src/log.js";
import type { Logger } from "../../src/log.js";
import type { RegistrantRow } from "../../src/registrant/record-spec.js";
import type { RegistrantService } from "../../src/registrant/registrant-service.js";
import type { SipClient } from "../../src/sip/sip-client.js";
import type { RegistrantStore } from "../../src/store/store.js";
import { MemoryStore } from "./memory-store.js";

export interface OperatorStackConfig {
  /** the table, in an in-memory store, when `store` is not given */
  readonly rows: RegistrantRow[];
  /** what the engine's requests reach (a FakeSipClient); the real SIP stack on udp:127.0.0.1:<free> otherwise */
  readonly sip?: SipClient;
  /** the caller keeps and closes it */
  readonly store?: RegistrantStore;
  /** configuration keys over the test defaults below (docs/configuration.md) */
  readonly config?: Partial<Config>;
  readonly log?: Logger;
  /** RabbitMQ subscriptions (`events.subscribe`) */
  readonly subscribe?: Config["events"]["subscribe"];
  readonly traceAll?: boolean;
}

/**
 * registrantd as the bin runs it (`startDaemon`), on loopback with free ports: MI over HTTP with /metrics and
 * /dashboard, the events websocket, SIP on udp:127.0.0.1. Only the store and the SIP client can be the test's own.
 */
export class OperatorStack {
  private constructor(private readonly daemon: Daemon) {}

  static async start(opts: OperatorStackConfig): Promise<OperatorStack> {
    const config: Config = {
      ...DEFAULT_CONFIG,
      // OpenSIPS's smallest timer_interval; 8 buckets: one every 1.25 s
      timer_interval: 10,
      hash_size: 3,
      user_agent: "registrantd-test",
      listen: ["udp:127.0.0.1:0"],
      mi_http: { ...DEFAULT_CONFIG.mi_http, port: 0 },
      events: {
        ...DEFAULT_CONFIG.events,
        subscribe: opts.subscribe ?? [],
        // the dashboard's event stream shows the SIP cause
        extended_params: true,
        websocket: { ...DEFAULT_CONFIG.events.websocket, port: 0 },
      },
      ...opts.config,
    };
    const daemon = await startDaemon(config, opts.log ?? silentLogger, {
      store: opts.store ?? new MemoryStore(opts.rows),
      ...(opts.sip !== undefined && { sip: opts.sip }),
      ...(opts.traceAll !== undefined && { traceAll: opts.traceAll }),
    });
    return new OperatorStack(daemon);
  }

  get service(): RegistrantService {
    return this.daemon.service;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.daemon.miHttp!.address().port}`;
  }

  stop(): Promise<void> {
    return this.daemon.stop();
  }
}
