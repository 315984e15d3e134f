import { createHash } from "node:crypto";
import * as mariadb from "mariadb";
import type { Logger } from "../log.js";
import type { MysqlUrl } from "../store/db-url.js";
import { planRound } from "./election-plan.js";

export interface LockElectorOptions {
  readonly url: MysqlUrl;
  readonly nodeId: string;
  /** tag keys (`name/cluster_id`) to elect */
  readonly tags: readonly string[];
  readonly preferred: ReadonlySet<string>;
  readonly heartbeatMs: number;
  readonly takeoverMs: number;
  readonly log: Logger;
  /** the lock is ours: make the tag active (resume first); runs before the next round */
  readonly activate: (tag: string) => Promise<void>;
  /**
   * The tag is no longer ours. `graceful`: we still hold the lock and release it once this resolves (stop
   * sending, flush the runtime table). Otherwise the lock is already lost: stop sending at once.
   */
  readonly deactivate: (tag: string, graceful: boolean, reason: string) => Promise<void>;
}

/** MariaDB lock names are limited to 64 characters: hash the database and the name. */
export function lockName(database: string, kind: "node" | "tag", name: string): string {
  return `rgd:${createHash("sha1").update(`${database}\0${kind}\0${name}`).digest("hex")}`;
}

/**
 * Sharing-tag election on MariaDB named locks (docs/clustering.md). Each node keeps ONE dedicated connection;
 * GET_LOCK ties a tag to it, so a node that dies or loses the connection loses its tags on the server at once.
 * On our side a tag counts as held only while the connection answered within the lease (half the takeover
 * time), and the server drops an idle lock connection after `wait_timeout` = takeover time: a node cut from
 * the database stops sending before anyone else can take its tags.
 */
export class LockElector {
  private conn: mariadb.Connection | undefined;
  private connectionId = 0;
  private readonly held = new Set<string>();
  private readonly tags: string[];
  private lastOkMono = Number.NEGATIVE_INFINITY;
  private roundTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private running = false;
  private round: Promise<void> = Promise.resolve();
  private settleRound = true;
  private kick: (() => void) | undefined;
  private readonly nodeLock: string;

  constructor(private readonly opts: LockElectorOptions) {
    this.tags = [...opts.tags];
    this.nodeLock = lockName(opts.url.database, "node", opts.nodeId);
  }

  get leaseMs(): number {
    return this.opts.takeoverMs / 2;
  }

  /** true while the lock connection answered recently enough for our locks to be certain */
  leaseValid(): boolean {
    return performance.now() - this.lastOkMono < this.leaseMs;
  }

  holds(tag: string): boolean {
    return this.held.has(tag) && this.leaseValid();
  }

  start(): void {
    this.running = true;
    this.watchdog = setInterval(() => this.checkLease(), Math.max(50, Math.floor(this.opts.heartbeatMs / 2)));
    this.watchdog.unref();
    this.schedule(0);
  }

  /** MI shtag_set_active: hand the tag to this node (the holder drains and releases it first) */
  async pin(tag: string): Promise<void> {
    if (!this.tags.includes(tag)) this.tags.push(tag);
    const conn = this.conn;
    if (conn === undefined) throw new Error("no connection to the lock server");
    await this.query(conn, "REPLACE INTO registrantd_shtag_pin (shtag, node_id, pinned_at) VALUES (?, ?, NOW(3))", [
      tag,
      this.opts.nodeId,
    ]);
    this.kick?.();
  }

  /** Graceful stop: every tag drains and is released, then the connection closes (our membership with it). */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.roundTimer);
    clearInterval(this.watchdog);
    this.kick?.();
    await this.round;
    const conn = this.conn;
    for (const tag of [...this.held]) {
      this.held.delete(tag);
      await this.opts.deactivate(tag, conn !== undefined, "node shutting down");
      if (conn !== undefined) await this.query(conn, "DO RELEASE_LOCK(?)", [this.lock(tag)]).catch(() => undefined);
    }
    this.conn = undefined;
    await conn?.end().catch(() => conn.destroy());
  }

  private lock(tag: string): string {
    return lockName(this.opts.url.database, "tag", tag);
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.roundTimer = setTimeout(() => {
      this.kick = undefined;
      this.round = this.runRound().finally(() => this.schedule(this.opts.heartbeatMs));
    }, ms);
    this.kick = () => {
      clearTimeout(this.roundTimer);
      this.kick = undefined;
      this.round = this.round.then(() => this.runRound()).finally(() => this.schedule(this.opts.heartbeatMs));
    };
  }

  private checkLease(): void {
    if (this.conn !== undefined && !this.leaseValid()) {
      this.opts.log.warn({ leaseMs: this.leaseMs }, "lock server did not answer within the lease: dropping tags");
      this.lose("lock server unreachable");
    }
  }

  /** The connection is gone or not trusted any more: every tag goes backup now, without waiting for anything. */
  private lose(reason: string): void {
    const conn = this.conn;
    this.conn = undefined;
    this.settleRound = true;
    conn?.destroy();
    for (const tag of [...this.held]) {
      this.held.delete(tag);
      void this.opts.deactivate(tag, false, reason);
    }
  }

  private async query<T>(conn: mariadb.Connection, sql: string, values?: unknown[]): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`lock query timed out after ${this.leaseMs} ms`)), this.leaseMs);
    });
    try {
      const result = await Promise.race([conn.query<T>(sql, values), timeout]);
      if (conn === this.conn) this.lastOkMono = performance.now();
      return result;
    } finally {
      clearTimeout(timer);
    }
  }

  private async connect(): Promise<mariadb.Connection | undefined> {
    const { url, log, nodeId } = this.opts;
    let conn: mariadb.Connection;
    try {
      conn = await mariadb.createConnection({
        host: url.host,
        port: url.port,
        user: url.user,
        password: url.password,
        database: url.database,
        connectTimeout: Math.max(1000, this.leaseMs),
      });
    } catch (err) {
      log.debug({ err }, "lock server connection failed");
      return undefined;
    }
    const onGone = (why: string) => () => {
      if (this.conn !== conn) return;
      log.warn({ why }, "lock connection lost: dropping every sharing tag");
      this.lose("lock connection lost");
    };
    // the server just answered: a fresh lease, so the watchdog does not cut the set-up short
    this.lastOkMono = performance.now();
    conn.on("error", onGone("error"));
    conn.on("end", onGone("end"));
    this.conn = conn;
    try {
      // the server frees the locks of a connection silent for this long (a node cut off by the network)
      await this.query(conn, `SET SESSION wait_timeout = ${Math.ceil(this.opts.takeoverMs / 1000)}`);
      const rows = await this.query<{ id: bigint | number; got: bigint | number | null }[]>(
        conn,
        "SELECT CONNECTION_ID() AS id, GET_LOCK(?, 0) AS got",
        [this.nodeLock],
      );
      this.connectionId = Number(rows[0]?.id ?? 0);
      if (Number(rows[0]?.got ?? 0) !== 1) {
        log.error({ nodeId }, "another live node uses this node_id; not taking part in the election");
        this.lose("duplicate node_id");
        return undefined;
      }
      await this.query(
        conn,
        "INSERT INTO registrantd_node (node_id, lock_name, seen_at) VALUES (?, ?, NOW(3)) " +
          "ON DUPLICATE KEY UPDATE lock_name = VALUES(lock_name), seen_at = NOW(3)",
        [nodeId, this.nodeLock],
      );
      log.info({ nodeId, connectionId: this.connectionId }, "joined the cluster (lock connection up)");
      return conn;
    } catch (err) {
      log.warn({ err }, "lock connection set-up failed");
      if (this.conn === conn) this.lose("lock connection lost");
      return undefined;
    }
  }

  private async runRound(): Promise<void> {
    if (!this.running) return;
    const conn = this.conn ?? (await this.connect());
    if (conn === undefined || !this.running) return;
    try {
      const live = await this.query<{ node_id: string }[]>(
        conn,
        "SELECT node_id FROM registrantd_node WHERE IS_USED_LOCK(lock_name) IS NOT NULL",
      );
      const pins = await this.query<{ shtag: string; node_id: string }[]>(
        conn,
        "SELECT shtag, node_id FROM registrantd_shtag_pin",
      );
      // a lock we think we hold but the server gives to nobody or someone else: lost (should not happen)
      const mine = [...this.held];
      if (mine.length > 0) {
        const r = await this.query<Record<string, bigint | number | null>[]>(
          conn,
          `SELECT ${mine.map((_, i) => `IS_USED_LOCK(?) AS o${i}`).join(", ")}`,
          mine.map((tag) => this.lock(tag)),
        );
        for (const [i, tag] of mine.entries()) {
          if (Number(r[0]?.[`o${i}`] ?? 0) === this.connectionId) continue;
          this.held.delete(tag);
          await this.opts.deactivate(tag, false, "lock lost");
        }
      }
      for (const p of pins) if (!this.tags.includes(p.shtag)) this.tags.push(p.shtag);
      if (this.settleRound) {
        // right after (re)connecting, give the other nodes one heartbeat to show up before taking a share
        this.settleRound = false;
        return;
      }
      const plan = planRound({
        me: this.opts.nodeId,
        tags: this.tags,
        liveNodes: live.map((r) => r.node_id),
        held: this.held,
        pins: new Map(pins.map((p) => [p.shtag, p.node_id])),
        preferred: this.opts.preferred,
      });
      for (const tag of plan.release) {
        if (!this.running || this.conn !== conn) return;
        this.held.delete(tag);
        await this.opts.deactivate(tag, true, "handed over (rebalancing)");
        await this.query(conn, "DO RELEASE_LOCK(?)", [this.lock(tag)]);
      }
      let wanted = plan.want;
      for (const tag of [...plan.mustHave, ...plan.candidates]) {
        const must = plan.mustHave.includes(tag);
        if (!must && wanted <= 0) break;
        if (!this.running || this.conn !== conn) return;
        const r = await this.query<{ got: bigint | number | null }[]>(conn, "SELECT GET_LOCK(?, 0) AS got", [
          this.lock(tag),
        ]);
        if (Number(r[0]?.got ?? 0) !== 1) continue;
        this.held.add(tag);
        if (!must) wanted--;
        await this.opts.activate(tag);
      }
    } catch (err) {
      this.opts.log.warn({ err }, "election round failed: dropping every sharing tag");
      if (this.conn === conn) this.lose("lock connection lost");
    }
  }
}
