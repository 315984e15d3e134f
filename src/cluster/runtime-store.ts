import { createHash } from "node:crypto";
import type { EventEmitter } from "node:events";
import * as mariadb from "mariadb";
import type { Logger } from "../log.js";
import type { Coords } from "../registrant/coords.js";
import type { MysqlUrl } from "../store/db-url.js";

/** One row of `registrantd_runtime`: enough to refresh the same binding from another node. */
export interface RuntimeRow {
  readonly recordKey: string;
  readonly shtag: string;
  /** the record's full key, so a takeover finds it without walking the table */
  readonly coords: Coords;
  readonly callId: string;
  readonly fromTag: string;
  readonly cseq: number;
  readonly expires: number;
  readonly lastSent: number;
  /** Unix s until which the registrar keeps the binding; 0 = none */
  readonly registeredUntil: number;
  /** the engine's refresh deadline (registration_timeout) */
  readonly refreshAt: number;
  readonly destination: string | undefined;
}

/** SHA1 over the record's full key (aor, binding_URI, registrar), the runtime table's primary key. */
export function recordKey(c: Coords): string {
  return createHash("sha1").update(`${c.aor}\n${c.contact}\n${c.registrar}`).digest("hex");
}

interface DbRow {
  readonly record_key: string;
  readonly shtag: string;
  readonly aor: string;
  readonly binding_URI: string;
  readonly registrar: string;
  readonly call_id: string;
  readonly from_tag: string;
  readonly cseq: number | bigint;
  readonly expires: number | bigint;
  readonly last_sent: number | bigint;
  readonly registered_until: number | bigint;
  readonly refresh_at: number | bigint;
  readonly destination: string | null;
}

const BATCH_ROWS = 500;
const COLUMNS = [
  "record_key",
  "shtag",
  "aor",
  "binding_URI",
  "registrar",
  "call_id",
  "from_tag",
  "cseq",
  "expires",
  "last_sent",
  "registered_until",
  "refresh_at",
  "destination",
  "node_id",
  "updated_at",
] as const;

/**
 * The runtime table, written behind: `capture` only remembers the newest row per record (a Map set, nothing on the
 * engine's call stack waits for the database); a timer writes the batch every `flushIntervalMs`, and `flush()`
 * writes it now (graceful handover). A failed batch is kept and retried unless newer rows replaced it.
 */
export class RuntimeStore {
  private pending = new Map<string, RuntimeRow>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private lastErrorLogMs = 0;

  private constructor(
    private readonly pool: mariadb.Pool,
    private readonly nodeId: string,
    private readonly log: Logger,
    private readonly flushIntervalMs: number,
  ) {}

  static open(url: MysqlUrl, nodeId: string, log: Logger, flushIntervalMs: number): RuntimeStore {
    const pool = mariadb.createPool({
      host: url.host,
      port: url.port,
      user: url.user,
      password: url.password,
      database: url.database,
      connectionLimit: 2,
      minimumIdle: 0,
      acquireTimeout: 5_000,
      connectTimeout: 3_000,
    });
    (pool as unknown as EventEmitter).on("error", () => undefined);
    const store = new RuntimeStore(pool, nodeId, log, flushIntervalMs);
    store.arm();
    return store;
  }

  capture(row: RuntimeRow): void {
    this.pending.set(row.recordKey, row);
  }

  get backlog(): number {
    return this.pending.size;
  }

  /** writes everything captured so far; concurrent calls queue behind each other */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writePending());
    return this.flushing;
  }

  /** rows saved for one sharing tag */
  async loadTag(shtag: string): Promise<RuntimeRow[]> {
    const rows = await this.pool.query<DbRow[]>(
      "SELECT record_key, shtag, aor, binding_URI, registrar, call_id, from_tag, cseq, expires, last_sent, registered_until, refresh_at, " +
        "destination FROM registrantd_runtime WHERE shtag = ?",
      [shtag],
    );
    const out: RuntimeRow[] = [];
    for (const r of rows) {
      const row: RuntimeRow = {
        recordKey: r.record_key,
        shtag: r.shtag,
        coords: { aor: r.aor, contact: r.binding_URI, registrar: r.registrar },
        callId: r.call_id,
        fromTag: r.from_tag,
        cseq: Number(r.cseq),
        expires: Number(r.expires),
        lastSent: Number(r.last_sent),
        registeredUntil: Number(r.registered_until),
        refreshAt: Number(r.refresh_at),
        destination: r.destination ?? undefined,
      };
      out.push(row);
    }
    return out;
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }

  private arm(): void {
    this.timer = setTimeout(() => {
      void this.flush().finally(() => {
        if (this.timer !== undefined) this.arm();
      });
    }, this.flushIntervalMs);
    this.timer.unref();
  }

  private async writePending(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const rows = [...batch.values()];
    try {
      for (let i = 0; i < rows.length; i += BATCH_ROWS) {
        const chunk = rows.slice(i, i + BATCH_ROWS);
        const values: unknown[] = [];
        for (const r of chunk) {
          values.push(
            r.recordKey,
            r.shtag,
            r.coords.aor,
            r.coords.contact,
            r.coords.registrar,
            r.callId,
            r.fromTag,
            r.cseq,
            r.expires,
            r.lastSent,
          );
          values.push(r.registeredUntil, r.refreshAt, r.destination ?? null, this.nodeId);
        }
        const tuple = `(${COLUMNS.slice(0, -1)
          .map(() => "?")
          .join(", ")}, NOW(3))`;
        await this.pool.query(
          `INSERT INTO registrantd_runtime (${COLUMNS.join(", ")}) VALUES ${chunk.map(() => tuple).join(", ")} ` +
            `ON DUPLICATE KEY UPDATE ${COLUMNS.slice(1)
              .map((c) => `${c} = VALUES(${c})`)
              .join(", ")}`,
          values,
        );
      }
    } catch (err) {
      // keep what no newer capture replaced; the next batch retries it
      for (const r of rows) if (!this.pending.has(r.recordKey)) this.pending.set(r.recordKey, r);
      const now = Date.now();
      if (now - this.lastErrorLogMs > 10_000) {
        this.lastErrorLogMs = now;
        this.log.warn({ err, backlog: this.pending.size }, "runtime table write failed; will retry");
      }
    }
  }
}
