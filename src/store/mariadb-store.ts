import type { EventEmitter } from "node:events";
import * as mariadb from "mariadb";
import type { ColumnNames } from "../config/config.js";
import { ConfigError, StoreUnavailableError, StoreVersionError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Coords } from "../registrant/coords.js";
import type { RegistrantRow } from "../registrant/record-spec.js";
import {
  checkTableVersion,
  columnLabeler,
  columnRefs,
  ID_COLUMN,
  missingColumns,
  registrantRow,
  ROW_COLUMNS,
} from "./columns.js";
import type { ColumnPositions, ColumnRef, RowColumn } from "./columns.js";
import type { MysqlUrl } from "./db-url.js";
import type { RegistrantStore, RowVisitor } from "./store.js";

export interface MariadbStoreOptions {
  /** how long a query waits for a pooled connection before failing with StoreUnavailableError */
  readonly acquireTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
}

type Queryable = Pick<mariadb.Connection, "query">;

/** MySQL's ER_NO_SUCH_TABLE */
const ER_NO_SUCH_TABLE = 1146;
/** do not repeat the same pool error in the log more often than this */
const POOL_ERROR_LOG_INTERVAL_MS = 30_000;

/**
 * The OpenSIPS `registrant` table in MariaDB/MySQL. One small pool: a connection that dies with the server is
 * dropped and a new one is made on the next query, so the daemon rides out a database restart; while the server is
 * down every call fails with StoreUnavailableError.
 */
export class MariadbStore implements RegistrantStore {
  readonly kind = "mariadb";
  readonly #pool: mariadb.Pool;
  readonly #table: string;
  readonly #refs: readonly ColumnRef[];
  /** the configured name of a logical column */
  readonly #name: (column: RowColumn) => string;
  readonly #log: Logger;
  #hasId = true;
  /** the SELECT list is the id (when the table has one), then ROW_COLUMNS in order (columnRefs) */
  #positions: ColumnPositions = ROW_COLUMNS.map((_, k) => 1 + k);
  #lastPoolError = { message: "", atMs: 0 };

  private constructor(pool: mariadb.Pool, table: string, columns: ColumnNames, log: Logger) {
    this.#pool = pool;
    this.#table = table;
    this.#refs = columnRefs(columns);
    this.#name = columnLabeler(columns);
    this.#log = log;
    // The pool reports failed background connects as 'error' events; unheard, Node would crash the process.
    (pool as unknown as EventEmitter).on("error", (err: Error) => this.#onPoolError(err));
  }

  /**
   * Checks the server with one plain connection first (so a refused login or an unknown database is reported at
   * once and precisely), then the `version` row for `table` (= 3) and that every configured column exists.
   */
  static async open(
    url: MysqlUrl,
    table: string,
    columns: ColumnNames,
    log: Logger,
    options: MariadbStoreOptions = {},
  ): Promise<MariadbStore> {
    const target = `${url.host}:${url.port}/${url.database}`;
    const connection = {
      host: url.host,
      port: url.port,
      user: url.user,
      password: url.password,
      database: url.database,
      connectTimeout: options.connectTimeoutMs ?? 5_000,
      bigIntAsNumber: false,
      checkDuplicate: false,
    };
    let conn: mariadb.Connection;
    try {
      conn = await mariadb.createConnection(connection);
    } catch (err) {
      throw unavailable(`cannot connect to ${target}`, err);
    }
    conn.on("error", () => undefined);
    const pool = mariadb.createPool({
      ...connection,
      connectionLimit: 2,
      minimumIdle: 0,
      idleTimeout: 60,
      acquireTimeout: options.acquireTimeoutMs ?? 10_000,
    });
    const store = new MariadbStore(pool, table, columns, log.child({ mod: "store.mariadb" }));
    try {
      await store.#checkVersion(conn);
      await store.#checkColumns(conn);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    } finally {
      await conn.end().catch(() => undefined);
    }
    store.#log.info({ db: target, table }, "registrant table opened");
    return store;
  }

  async scanAll(visit: RowVisitor): Promise<number> {
    const count = await this.#stream(`SELECT ${this.#selectList()} FROM ${ident(this.#table)}`, visit);
    // OpenSIPS logs `loading [<n>] records from db` per fetched batch; one line for the whole table here.
    this.#log.info(`loading [${count}] records from db`);
    return count;
  }

  async loadOne(coords: Coords): Promise<RegistrantRow[]> {
    return this.#select(`SELECT ${this.#selectList()} FROM ${ident(this.#table)} WHERE ${this.#keyWhere()}`, [
      coords.aor,
      coords.contact,
      coords.registrar,
    ]);
  }

  async writeState(coords: Coords, state: 0 | 1): Promise<void> {
    // OpenSIPS's reg_update_db_state: UPDATE <table> SET state=<0|1> WHERE aor=? AND binding_URI=? AND registrar=?
    const sql = `UPDATE ${ident(this.#table)} SET ${ident(this.#name("state"))}=? WHERE ${this.#keyWhere()}`;
    let result: mariadb.UpsertResult;
    try {
      result = await this.#pool.query<mariadb.UpsertResult>(sql, [state, coords.aor, coords.contact, coords.registrar]);
    } catch (err) {
      throw unavailable("failed to update registrant state in database", err);
    }
    if (result.affectedRows === 0) {
      this.#log.debug({ ...coords, state }, "state update matched no row (or the value was already set)");
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }

  async #checkVersion(conn: Queryable): Promise<void> {
    let rows: unknown[][];
    try {
      rows = await conn.query<unknown[][]>(
        { sql: "SELECT table_version FROM version WHERE table_name=?", rowsAsArray: true },
        [this.#table],
      );
    } catch (err) {
      if (isSqlError(err) && err.errno === ER_NO_SUCH_TABLE) {
        throw new StoreVersionError(
          "table 'version' not found: load schemas/sql/mysql-registrant.sql (or OpenSIPS's standard-create.sql)",
          { cause: err },
        );
      }
      throw unavailable("cannot read the 'version' table", err);
    }
    checkTableVersion(
      this.#table,
      rows.map((r) => r[0]),
    );
  }

  async #checkColumns(conn: Queryable): Promise<void> {
    let rows: unknown[][];
    try {
      rows = await conn.query<unknown[][]>(
        {
          sql: "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=DATABASE() AND TABLE_NAME=?",
          rowsAsArray: true,
        },
        [this.#table],
      );
    } catch (err) {
      throw unavailable(`cannot read the columns of table '${this.#table}'`, err);
    }
    const present = rows.map((r) => text(r[0]) ?? "");
    if (present.length === 0) {
      throw new StoreVersionError(`table '${this.#table}' has a 'version' row but does not exist`);
    }
    const missing = missingColumns(this.#refs, present);
    if (missing.length > 0) {
      throw new ConfigError(`table '${this.#table}' has no column ${missing.join(", ")}`);
    }
    this.#hasId = present.some((c) => c.toLowerCase() === ID_COLUMN);
    this.#positions = ROW_COLUMNS.map((_, k) => (this.#hasId ? 1 : 0) + k);
  }

  async #select(sql: string, values: readonly string[]): Promise<RegistrantRow[]> {
    let raw: unknown[][];
    try {
      raw = await this.#pool.query<unknown[][]>({ sql, rowsAsArray: true }, values);
    } catch (err) {
      throw unavailable(`cannot read table '${this.#table}'`, err);
    }
    return raw.map((r, i) => this.#toRow(r, i));
  }

  /**
   * A full read as a stream: each row is decoded and handed over while the next ones arrive, so neither the
   * driver's row arrays nor our rows pile up (1,000,000 of them weigh hundreds of MB).
   */
  async #stream(sql: string, visit: RowVisitor): Promise<number> {
    let conn: mariadb.PoolConnection;
    try {
      conn = await this.#pool.getConnection();
    } catch (err) {
      throw unavailable(`cannot read table '${this.#table}'`, err);
    }
    // the driver keeps its last command (and so these listeners) on the pooled connection: the visitor, which
    // holds everything loaded so far, is let go once the read ends
    let sink: RowVisitor | undefined = visit;
    try {
      return await new Promise<number>((resolve, reject) => {
        let count = 0;
        const rows = conn.queryStream({ sql, rowsAsArray: true });
        const stop = (err: unknown): void => {
          if (sink === undefined) return;
          sink = undefined;
          reject(err instanceof Error ? err : new Error(String(err)));
          // the rest of the result is read and dropped, so the connection goes back to the pool clean
          (rows as unknown as { close(): void }).close();
        };
        rows.on("data", (r: unknown[]) => {
          try {
            sink?.(this.#toRow(r, count++));
          } catch (err) {
            stop(err);
          }
        });
        rows.on("error", (err: unknown) => stop(unavailable(`cannot read table '${this.#table}'`, err)));
        rows.on("end", () => {
          if (sink !== undefined) resolve(count);
        });
      });
    } finally {
      sink = undefined;
      await conn.release().catch(() => undefined);
    }
  }

  /** `i`: the row's position in the result, its name when the table has no id column */
  #toRow(r: readonly unknown[], i: number): RegistrantRow {
    const id = this.#hasId ? (text(r[0]) ?? `#${i + 1}`) : `#${i + 1}`;
    return registrantRow(id, r, this.#positions, text, numeric);
  }

  #selectList(): string {
    const cols = this.#refs.map((r) => ident(r.name));
    return (this.#hasId ? [ident(ID_COLUMN), ...cols] : cols).join(", ");
  }

  #keyWhere(): string {
    return `${ident(this.#name("aor"))}=? AND ${ident(this.#name("binding_URI"))}=? AND ${ident(this.#name("registrar"))}=?`;
  }

  #onPoolError(err: Error): void {
    const now = Date.now();
    const message = err.message;
    if (message === this.#lastPoolError.message && now - this.#lastPoolError.atMs < POOL_ERROR_LOG_INTERVAL_MS) return;
    this.#lastPoolError = { message, atMs: now };
    // the pool's own message is generic; the first failed connect is the useful part
    const cause = err.cause instanceof Error ? err.cause.message : undefined;
    this.#log.warn(
      { err: { message, cause, code: (err as Partial<mariadb.SqlError>).code } },
      "database connection failed",
    );
  }
}

/** A backtick-quoted MySQL identifier. */
function ident(name: string): string {
  return "`" + name.replaceAll("`", "``") + "`";
}

function text(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "string") return v;
  if (Buffer.isBuffer(v)) return v.toString("utf8");
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  return v instanceof Date ? v.toISOString() : JSON.stringify(v);
}

function numeric(v: unknown): number | string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : String(v);
  return text(v);
}

function isSqlError(err: unknown): err is mariadb.SqlError {
  return err instanceof Error && "errno" in err;
}

function unavailable(what: string, err: unknown): StoreUnavailableError {
  const reason = err instanceof Error ? err.message : String(err);
  // a pool timeout says little by itself; its cause is the failed connect (ECONNREFUSED, access denied...)
  const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : "";
  return new StoreUnavailableError(`${what}: ${reason}${cause}`, { cause: err });
}
