import type { Config } from "./config.js";

/**
 * The built-in configuration: what `registrantd` runs on with no `--config`. OpenSIPS's modparam defaults
 * (reference §1.5, §2; tm §6.4; httpd/mi_http/mi_fifo), the embedded db_text store under ./data and loopback-only
 * interfaces. schemas/config.schema.json carries the same values as `default`s (a unit test keeps them equal).
 */
export const DEFAULT_CONFIG: Config = {
  data_dir: "./data",
  table_name: "registrant",
  registrar_column: "registrar",
  proxy_column: "proxy",
  aor_column: "aor",
  third_party_registrant_column: "third_party_registrant",
  username_column: "username",
  password_column: "password",
  binding_URI_column: "binding_URI",
  binding_params_column: "binding_params",
  expiry_column: "expiry",
  forced_socket_column: "forced_socket",
  cluster_shtag_column: "cluster_shtag",
  state_column: "state",
  hash_size: 1,
  timer_interval: 100,
  failure_retry_interval: 0,
  reregister_expiry_percentage: 100,
  default_expires: 3600,
  enable_clustering: 0,
  honour_retry_after: 1,
  failure_backoff: 1,
  spread_tick: 1,
  unregister_on_shutdown: 0,
  shutdown_unregister_timeout: 5,
  force_register_immediate: 1,
  stale_nonce_retry: 1,
  unique_binding_max_removals: 1,
  listen: ["udp:127.0.0.1:5060"],
  tls: {},
  user_agent: "registrantd",
  tm: { fr_timeout: 30, t1: 500, t2: 4000 },
  mi_http: { enabled: true, ip: "127.0.0.1", port: 8888, root: "mi" },
  mi_fifo: { enabled: false, fifo_name: "/tmp/opensips_fifo", reply_dir: "/tmp/" },
  mi_datagram: { enabled: false, socket_name: "udp:127.0.0.1:8080" },
  events: {
    subscribe: [],
    outbox_size: 10000,
    extended_params: false,
    websocket: { enabled: true, ip: "127.0.0.1", port: 8889, path: "/events" },
  },
  log_level: "info",
};
