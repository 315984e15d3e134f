import { hostname } from "node:os";
import { readFile } from "node:fs/promises";
import * as mariadb from "mariadb";
import type { Config } from "../config/config.js";
import { ConfigError } from "../errors.js";
import type { Logger } from "../log.js";
import type { RegistrantService } from "../registrant/registrant-service.js";
import type { ShtagRef } from "../registrant/record-spec.js";
import { RegState } from "../registrant/state.js";
import { parseDbUrl } from "../store/db-url.js";
import type { MysqlUrl } from "../store/db-url.js";
import { LockElector } from "./lock-elector.js";
import { RuntimeStore, recordKey } from "./runtime-store.js";
import type { RuntimeRow } from "./runtime-store.js";
import { parseShtagDecl, parseShtagRef, shtagKey } from "./shtag.js";
import type { ShtagDecl } from "./shtag.js";
import { ShtagRegistry } from "./shtag-registry.js";
import type { ShtagChange, ShtagEntry } from "./shtag-registry.js";

const SCHEMA_URL = new URL("../../schemas/sql/registrantd-cluster.sql", import.meta.url);

/**
 * CSeq numbers skipped on a takeover: the last write-behind batch of a crashed node may miss a REGISTER and its
 * authenticated retry, and a registrar rejects a CSeq not above the binding's (RFC 3261 §10.3 step 7).
 */
const RESUME_CSEQ_GAP = 2;
/** a saved binding that lapses sooner than this is registered afresh instead */
const RESUME_MIN_LEFT_SEC = 2;

/** What the MI commands and the daemon use. */
export interface Cluster {
  readonly nodeId: string;
  /** the engine's gate (the registry's, with the election's lease) */
  isActive(ref: ShtagRef): boolean;
  list(): ShtagEntry[];
  clusterIds(): Set<number>;
  /** MI shtag_set_active; rejects when the lock server cannot be reached */
  setActive(ref: ShtagRef): Promise<void>;
  onChange(listener: (change: ShtagChange) => void): () => void;
  /** graceful: drains and releases every tag, flushes the runtime table */
  stop(): Promise<void>;
}

/** The `sharing_tag` list, checked (a bad entry is a ConfigError naming it). */
export function shtagDeclsFromConfig(config: Config): ShtagDecl[] {
  return config.sharing_tag.map((text, i) => {
    const d = parseShtagDecl(text);
    if (!d.ok) throw new ConfigError(`/sharing_tag/${i}: ${d.error}`);
    return d.value;
  });
}

/**
 * Step 1 of the wiring: the tag states, needed by the engine's gate before the engine exists. With election
 * `mariadb` every tag starts BACKUP, whatever the config says, until this node holds its lock.
 */
export function createShtagRegistry(config: Config): ShtagRegistry {
  const decls = shtagDeclsFromConfig(config);
  const elected = config.enable_clustering !== 0 && config.cluster.election === "mariadb";
  return new ShtagRegistry(elected ? decls.map((d) => ({ ...d, active: false })) : decls);
}

function lockUrl(config: Config): MysqlUrl {
  const text = config.cluster.lock_db_url !== "" ? config.cluster.lock_db_url : config.db_url;
  if (text === undefined || text === "") {
    throw new ConfigError("/cluster/lock_db_url: election mariadb needs a mysql:// lock_db_url or db_url");
  }
  const url = parseDbUrl(text);
  if (url.kind !== "mysql") throw new ConfigError("/cluster/lock_db_url: election mariadb needs a mysql:// URL");
  return url;
}

async function createTables(url: MysqlUrl): Promise<void> {
  const conn = await mariadb.createConnection({
    host: url.host,
    port: url.port,
    user: url.user,
    password: url.password,
    database: url.database,
    multipleStatements: true,
    connectTimeout: 5_000,
  });
  try {
    await conn.query(await readFile(SCHEMA_URL, "utf8"));
  } finally {
    await conn.end();
  }
}

export interface ClusterDeps {
  readonly service: RegistrantService;
  readonly registry: ShtagRegistry;
  readonly log: Logger;
}

/**
 * Step 2, once the engine runs: the election (mariadb) or nothing but MI (static). Returns undefined when
 * clustering is off. Call `stop()` before stopping the engine.
 */
export async function startCluster(config: Config, deps: ClusterDeps): Promise<Cluster | undefined> {
  if (config.enable_clustering === 0) return undefined;
  const log = deps.log.child({ mod: "cluster" });
  const nodeId = config.cluster.node_id !== "" ? config.cluster.node_id : `${hostname()}-${process.pid}`;
  const { registry, service } = deps;
  registry.onChange((c) =>
    log.info(
      { tag: c.tag, cluster: c.clusterId, state: c.active ? "active" : "backup", reason: c.reason, nodeId },
      "sharing tag state changed",
    ),
  );
  if (config.cluster.election === "static") return staticCluster(nodeId, registry, service);

  if (config.cluster.heartbeat_interval * 3 > config.cluster.takeover_timeout * 1000) {
    throw new ConfigError("/cluster/heartbeat_interval: must be at most a third of takeover_timeout");
  }
  const url = lockUrl(config);
  await createTables(url);
  const runtime = RuntimeStore.open(url, nodeId, log, config.cluster.runtime_flush_interval);
  const decls = shtagDeclsFromConfig(config);
  const ti = config.timer_interval;

  // write-behind: remember each tagged record's dialog while its tag is active here (never on a backup node)
  const known = new Map<string, { callId: string; until: number; refreshAt: number }>();
  const offState = service.onStateChange((change) => {
    const rec = service.recordFor(change.coords);
    if (rec === undefined || rec.id !== change.recordId) return;
    const tag = rec.spec.shtag;
    if (tag === undefined || tag.clusterId <= 0 || !cluster.isActive(tag)) return;
    const key = recordKey(rec);
    let until = 0;
    let refreshAt = 0;
    if (change.to === RegState.REGISTERED_STATE) {
      until = rec.lastRegisterSentSec + rec.expiresSec;
      refreshAt = rec.registrationTimeoutSec;
    } else {
      // a refresh in flight keeps the binding it refreshes; a new Call-ID has none yet
      const prev = known.get(key);
      if (prev !== undefined && prev.callId === rec.callId && change.to !== RegState.NOT_REGISTERED_STATE) {
        until = prev.until;
        refreshAt = prev.refreshAt;
      }
    }
    known.set(key, { callId: rec.callId, until, refreshAt });
    runtime.capture({
      recordKey: key,
      shtag: shtagKey(tag),
      coords: { aor: rec.aor, contact: rec.contact, registrar: rec.registrar },
      callId: rec.callId,
      fromTag: rec.fromTag,
      cseq: rec.cseq,
      expires: rec.expiresSec,
      lastSent: rec.lastRegisterSentSec,
      registeredUntil: until,
      refreshAt,
      destination: rec.destination === undefined ? undefined : `${rec.destination.address}:${rec.destination.port}`,
    });
  });

  /** continue every binding of the tag that is still valid, then open the gate (before any tick sees it) */
  const activate = async (key: string): Promise<void> => {
    const parsed = parseShtagRef(key);
    if (!parsed.ok) return;
    const ref = parsed.value;
    let saved: RuntimeRow[] = [];
    try {
      saved = await runtime.loadTag(key);
    } catch (err) {
      log.warn({ err, tag: key }, "runtime table unreadable: the tag's records register afresh");
    }
    // the lock may have gone while we read (connection lost): then the tag stays backup
    if (!elector.holds(key)) return;
    const now = Math.floor(Date.now() / 1000);
    let resumed = 0;
    // rows, not the table, are walked: records without a valid saved binding simply register afresh
    for (const row of saved) {
      if (row.callId === "" || row.registeredUntil - now < RESUME_MIN_LEFT_SEC) continue;
      // the row may be older than a re-tagging of its record
      const t = service.find(row.coords)?.shtag;
      if (t === undefined || t.tag !== ref.tag || t.clusterId !== ref.clusterId) continue;
      const ok = service.resume(row.coords, {
        callId: row.callId,
        fromTag: row.fromTag,
        cseq: row.cseq + RESUME_CSEQ_GAP,
        expiresSec: row.expires,
        lastRegisterSentSec: row.lastSent,
        registrationTimeoutSec: Math.min(row.refreshAt, row.registeredUntil - ti),
      });
      if (ok) resumed++;
    }
    registry.set(ref, true, "lock acquired");
    service.shtagChanged(ref, true);
    log.info({ tag: key, resumed }, "sharing tag taken");
  };

  const deactivate = async (key: string, graceful: boolean, reason: string): Promise<void> => {
    const parsed = parseShtagRef(key);
    if (!parsed.ok) return;
    // stop sending first (synchronously), then save what the next node continues from
    if (registry.set(parsed.value, false, reason)) service.shtagChanged(parsed.value, false);
    if (graceful) await runtime.flush();
  };

  const elector = new LockElector({
    url,
    nodeId,
    tags: decls.map(shtagKey),
    preferred: new Set(decls.filter((d) => d.active).map(shtagKey)),
    heartbeatMs: config.cluster.heartbeat_interval,
    takeoverMs: config.cluster.takeover_timeout * 1000,
    log,
    activate,
    deactivate,
  });

  let stopping: Promise<void> | undefined;
  const cluster: Cluster = {
    nodeId,
    isActive: (ref) => registry.isActive(ref),
    list: () => registry.list(),
    clusterIds: () => registry.clusterIds(),
    async setActive(ref) {
      registry.ensure(ref);
      await elector.pin(shtagKey(ref));
    },
    onChange: (l) => registry.onChange(l),
    stop() {
      stopping ??= (async () => {
        await elector.stop();
        offState();
        await runtime.close();
      })();
      return stopping;
    },
  };
  registry.setGuard(() => elector.leaseValid());
  elector.start();
  return cluster;
}

function staticCluster(nodeId: string, registry: ShtagRegistry, service: RegistrantService): Cluster {
  return {
    nodeId,
    isActive: (ref) => registry.isActive(ref),
    list: () => registry.list(),
    clusterIds: () => registry.clusterIds(),
    setActive(ref) {
      // no peers to tell: the other nodes are set by their own operator (docs/clustering.md)
      if (registry.set(ref, true, "MI command")) service.shtagChanged(ref, true);
      return Promise.resolve();
    },
    onChange: (l) => registry.onChange(l),
    stop: () => Promise.resolve(),
  };
}
