import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { EventEmitter } from "node:events";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as mariadb from "mariadb";
import { createServer } from "node:net";
import { until } from "./until.js";

/** The shared test server (never stopped by tests). */
const SHARED_HOST = process.env["REGISTRANTD_TEST_DB_HOST"] ?? "127.0.0.1";
const SHARED_PORT = Number(process.env["REGISTRANTD_TEST_DB_PORT"] ?? 3306);
const SCHEMA_FILE = fileURLToPath(new URL("../../schemas/sql/mysql-registrant.sql", import.meta.url));

export interface TestDatabase {
  /** `registrantd_t_<pid>_<rand>` */
  readonly name: string;
  /** db_url for registrantd: `mysql://root:@host:port/<name>` */
  readonly url: string;
  readonly pool: mariadb.Pool;
  query<T = unknown>(sql: string, values?: unknown[]): Promise<T>;
  /** INSERT one row into `table` (default `registrant`); returns the AUTO_INCREMENT id */
  insert(row: Readonly<Record<string, unknown>>, table?: string): Promise<number>;
  /** drops the database and closes the pool; safe to call twice */
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  readonly host?: string;
  readonly port?: number;
  /** load schemas/sql/mysql-registrant.sql (default true) */
  readonly schema?: boolean;
}

/** A fresh database on the shared MariaDB (or on `port`), with OpenSIPS's registrant schema loaded. */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const host = options.host ?? SHARED_HOST;
  const port = options.port ?? SHARED_PORT;
  const name = `registrantd_t_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = await mariadb.createConnection({ host, port, user: "root", password: "", multipleStatements: true });
  try {
    await admin.query(`CREATE DATABASE \`${name}\``);
    if (options.schema ?? true) {
      await admin.query(`USE \`${name}\``);
      await admin.query(await readFile(SCHEMA_FILE, "utf8"));
    }
  } finally {
    await admin.end();
  }
  const pool = mariadb.createPool({
    host,
    port,
    user: "root",
    password: "",
    database: name,
    connectionLimit: 2,
    minimumIdle: 0,
  });
  // failed background reconnects (an outage test killing the server) are 'error' events: never let them crash
  (pool as unknown as EventEmitter).on("error", () => undefined);
  let dropped = false;
  return {
    name,
    url: `mysql://root:@${host}:${port}/${name}`,
    pool,
    query: <T>(sql: string, values?: unknown[]) => pool.query<T>(sql, values),
    async insert(row, table = "registrant") {
      const cols = Object.keys(row);
      const sql = `INSERT INTO \`${table}\` (${cols.map((c) => `\`${c}\``).join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`;
      const res = await pool.query<mariadb.UpsertResult>(
        sql,
        cols.map((c) => row[c]),
      );
      return Number(res.insertId);
    },
    async drop() {
      if (dropped) return;
      dropped = true;
      try {
        await pool.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await pool.end();
      }
    },
  };
}

export interface PrivateMariadb {
  readonly port: number;
  /** server URL without a database: `mysql://root:@127.0.0.1:<port>` */
  readonly url: string;
  /** the pid of the running mariadbd, or undefined while it is down */
  readonly pid: number | undefined;
  /** graceful shutdown (SIGTERM), waits for the exit */
  stop(): Promise<void>;
  /** SIGKILL, waits for the exit: a crash as the daemon would see it */
  kill(): Promise<void>;
  /** starts it again on the same port and datadir and waits until it answers */
  start(): Promise<void>;
  /** stop (if running) and delete the datadir */
  destroy(): Promise<void>;
}

const READY_TIMEOUT_MS = 90_000;

/**
 * A free TCP port below the kernel's ephemeral range (32768-60999 on Linux). While our server is down for an outage
 * test, its port is free; a port picked by `listen(0)` elsewhere (freePort, any client socket) can then never be
 * this one, so the restart cannot find it taken.
 */
async function portOutsideEphemeralRange(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once("error", () => resolve(false));
      srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error("no free port in 20000-29999 after 200 attempts");
}

/**
 * A mariadbd of our own (own datadir from mariadb-install-db, own port, own socket) for outage tests: it can be
 * killed and restarted without touching the shared server.
 */
export async function startPrivateMariadb(): Promise<PrivateMariadb> {
  const base = await mkdtemp(join(tmpdir(), "registrantd-mariadb-"));
  const datadir = join(base, "data");
  // our own tmpdir: concurrent bootstraps in the shared /tmp collide on their temp-table file names
  const tmp = join(base, "tmp");
  await mkdir(tmp, { recursive: true });
  const install = spawnSync(
    "mariadb-install-db",
    [
      "--no-defaults",
      `--datadir=${datadir}`,
      `--tmpdir=${tmp}`,
      "--auth-root-authentication-method=normal",
      "--skip-test-db",
      "--skip-name-resolve",
      "--user=root",
    ],
    { encoding: "utf8", timeout: 120_000 },
  );
  if (install.status !== 0) {
    await rm(base, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed (${install.status}): ${install.stderr}`);
  }
  const port = await portOutsideEphemeralRange();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const killOnExit = (): void => {
    child?.kill("SIGKILL");
  };
  process.on("exit", killOnExit);

  const launch = async (): Promise<void> => {
    if (child) throw new Error("private mariadbd already running");
    const proc = spawn(
      "mariadbd",
      [
        "--no-defaults",
        `--datadir=${datadir}`,
        `--tmpdir=${tmp}`,
        `--port=${port}`,
        "--bind-address=127.0.0.1",
        `--socket=${join(base, "mariadbd.sock")}`,
        `--pid-file=${join(base, "mariadbd.pid")}`,
        "--user=root",
        "--skip-name-resolve",
        "--innodb-buffer-pool-size=16M",
        `--log-error=${join(base, "error.log")}`,
      ],
      { stdio: "ignore" },
    );
    child = proc;
    exited = new Promise((resolve) => proc.once("exit", () => resolve()));
    void exited.then(() => {
      if (child === proc) child = undefined;
    });
    await until(
      `private mariadbd on port ${port} to accept queries`,
      async () => {
        if (child !== proc) throw new Error(`private mariadbd exited early; see ${join(base, "error.log")}`);
        try {
          const conn = await mariadb.createConnection({ host: "127.0.0.1", port, user: "root", connectTimeout: 1000 });
          await conn.query("SELECT 1");
          await conn.end();
          return true;
        } catch {
          return false;
        }
      },
      READY_TIMEOUT_MS,
      200,
    );
  };

  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (!proc) return;
    proc.kill(sig);
    // a graceful shutdown that hangs must not hang the test run
    const escalate = setTimeout(() => proc.kill("SIGKILL"), 30_000);
    await exited;
    clearTimeout(escalate);
  };

  await launch();
  return {
    port,
    url: `mysql://root:@127.0.0.1:${port}`,
    get pid() {
      return child?.pid;
    },
    stop: () => signal("SIGTERM"),
    kill: () => signal("SIGKILL"),
    start: launch,
    async destroy() {
      await signal("SIGTERM");
      process.off("exit", killOnExit);
      await rm(base, { recursive: true, force: true });
    },
  };
}

/**
 * Runs `query` while another connection holds `LOCK TABLES <table> WRITE`, and resolves once the server shows the
 * query's SELECT waiting on that lock: the caller can then kill the server knowing the query is in flight. The
 * returned promise settles with the query's value or its error (never rejects); `release()` drops the locker.
 */
export async function whileTableLocked<T>(
  server: PrivateMariadb,
  database: string,
  query: () => Promise<T>,
  table = "registrant",
): Promise<{ readonly outcome: Promise<unknown>; release(): void }> {
  const locker = await mariadb.createConnection({ host: "127.0.0.1", port: server.port, user: "root", database });
  locker.on("error", () => undefined);
  await locker.query(`LOCK TABLES ${table} WRITE`);
  const outcome = query().then(
    (value) => value,
    (err: unknown) => err,
  );
  await until(
    `a SELECT on ${table} to wait on the table lock`,
    async () => {
      const rows = await locker.query<{ n: bigint | number }[]>(
        `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT %${table}%' AND STATE LIKE '%lock%'`,
      );
      return Number(rows[0]?.n ?? 0) > 0;
    },
    60_000,
    50,
  );
  return { outcome, release: () => locker.destroy() };
}
