/**
 * The daemon's configuration, as validated by schemas/config.schema.json. Keys use OpenSIPS's modparam names so
 * an operator can carry values over unchanged. Each interface adds its own object.
 */
export interface ColumnNames {
  readonly registrar_column: string;
  readonly proxy_column: string;
  readonly aor_column: string;
  readonly third_party_registrant_column: string;
  readonly username_column: string;
  readonly password_column: string;
  readonly binding_URI_column: string;
  readonly binding_params_column: string;
  readonly expiry_column: string;
  readonly forced_socket_column: string;
  readonly cluster_shtag_column: string;
  readonly state_column: string;
}

export interface TmConfig {
  /** seconds: Timer F (OpenSIPS tm `fr_timeout`) */
  readonly fr_timeout: number;
  /** ms */
  readonly t1: number;
  /** ms */
  readonly t2: number;
}

export interface TlsSocketOptions {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly verify: boolean;
  readonly servername?: string;
}

export interface MiHttpConfig {
  readonly enabled: boolean;
  readonly ip: string;
  readonly port: number;
  readonly root: string;
  readonly auth?: { readonly username: string; readonly password: string };
}

export interface MiFifoConfig {
  readonly enabled: boolean;
  readonly fifo_name: string;
  readonly reply_dir: string;
}

export interface MiDatagramConfig {
  readonly enabled: boolean;
  /** OpenSIPS socket form, UDP only: `udp:127.0.0.1:8080` (Node has no UNIX datagram sockets) */
  readonly socket_name: string;
}

export interface WebsocketConfig {
  readonly enabled: boolean;
  readonly ip: string;
  readonly port: number;
  readonly path: string;
  readonly token?: string;
}

export interface EventsConfig {
  /** `subscribe_event` lines: event name → OpenSIPS socket strings (`rabbitmq:...`, `amqp://...`) */
  readonly subscribe: readonly { readonly event: string; readonly socket: string }[];
  readonly outbox_size: number;
  /** add status/reason/expires/destination/record id to the params (off = byte-identical to OpenSIPS) */
  readonly extended_params: boolean;
  readonly websocket: WebsocketConfig;
}

/** Clustering (docs/clustering.md): how sharing tags are elected when `enable_clustering` is 1. */
export interface ClusterConfig {
  /** this node's name in the membership table and in logs; "" = `<hostname>-<pid>` */
  readonly node_id: string;
  /** `mariadb`: tags are elected with MariaDB named locks; `static`: the `sharing_tag` states, changed only by MI */
  readonly election: "mariadb" | "static";
  /** MariaDB holding the locks and registrantd's cluster tables; "" = `db_url` */
  readonly lock_db_url: string;
  /** seconds within which a dead node's tags are active elsewhere (target < 10) */
  readonly takeover_timeout: number;
  /** ms between two election rounds (lock checks, rebalancing) */
  readonly heartbeat_interval: number;
  /** ms between two write-behind batches of the runtime table */
  readonly runtime_flush_interval: number;
}

export interface Config extends ColumnNames {
  readonly db_url?: string;
  /** embedded db_text directory used when db_url is unset */
  readonly data_dir: string;
  readonly table_name: string;
  readonly hash_size: number;
  readonly timer_interval: number;
  readonly failure_retry_interval: number;
  readonly reregister_expiry_percentage: number;
  readonly default_expires: number;
  readonly enable_clustering: number;
  /** OpenSIPS clusterer `sharing_tag` modparams: `name/cluster_id=active|backup` */
  readonly sharing_tag: readonly string[];
  readonly cluster: ClusterConfig;
  /**
   * Improvements over OpenSIPS (reference §11), modparam-style 0/1 switches; 0 = OpenSIPS's behaviour
   * (docs/compatibility.md). Read by registrant/engine-options.ts.
   */
  readonly honour_retry_after: number;
  readonly failure_backoff: number;
  readonly spread_tick: number;
  /** unREGISTER every registered record on a graceful stop (OpenSIPS sends nothing) */
  readonly unregister_on_shutdown: number;
  /** seconds a graceful stop waits for those unREGISTERs */
  readonly shutdown_unregister_timeout: number;
  readonly force_register_immediate: number;
  readonly stale_nonce_retry: number;
  /** `Contact: *` removals in a row before unique-binding enforcement gives up; 0 = unlimited */
  readonly unique_binding_max_removals: number;
  /** send pacing (sip/send-pacer.ts): client transactions in flight at once; 0 = no cap */
  readonly max_transactions_in_flight: number;
  /** REGISTERs started per second, all registrars together; 0 = no limit */
  readonly max_register_rate: number;
  /** REGISTERs started per second towards one registrar (or outbound proxy); 0 = no limit */
  readonly max_register_rate_per_registrar: number;
  /** garbage the JavaScript heap may gather over its live data before a full collection (src/heap-growth.ts) */
  readonly heap_headroom_mb: number;
  readonly listen: readonly string[];
  readonly tls: Readonly<Record<string, TlsSocketOptions>>;
  readonly user_agent: string;
  readonly tm: TmConfig;
  readonly mi_http: MiHttpConfig;
  readonly mi_fifo: MiFifoConfig;
  readonly mi_datagram: MiDatagramConfig;
  readonly events: EventsConfig;
  readonly log_level: string;
}
