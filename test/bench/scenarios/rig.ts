/**
 * The bench rig: N registrant rows in a store (a throw-away MariaDB database or a db_text directory), the load
 * registrar, and registrantd (the probe process) configured against both. Every scenario runs on a rig; close()
 * removes everything it made, also after a failure.
 */
import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Config } from "../../../src/config/config.js";
import { DEFAULT_CONFIG } from "../../../src/config/defaults.js";
import { REGISTRANT_EVENTS } from "../../../src/events/catalog.js";
import { silentLogger } from "../../../src/log.js";
import type { RegistrantRow } from "../../../src/registrant/record-spec.js";
import { ROW_COLUMNS } from "../../../src/store/columns.js";
import { encodeValue } from "../../../src/store/dbtext-table.js";
import { openStore } from "../../../src/store/open-store.js";
import { createTestDatabase } from "../../support/mariadb.js";
import type { TestDatabase } from "../../support/mariadb.js";
import { freePort } from "../../support/ports.js";
import { RABBITMQ_HOST, RABBITMQ_PORT } from "../../support/rabbitmq.js";
import { LOAD_PASSWORD, startLoadRegistrar } from "../load-registrar.js";
import type { LoadRegistrar } from "../load-registrar.js";
import type { ProbeReady, ProbeStats } from "./registrantd-probe.js";

export type StoreKind = "mariadb" | "db_text";

export interface RigOptions {
  readonly n: number;
  readonly store: StoreKind;
  /** seconds asked in the Contact (the load registrar grants it) */
  readonly expiry?: number;
  /** RabbitMQ queue receiving every E_REGISTRANT_* event (publisher confirms), when set */
  readonly eventsQueue?: string;
  /** extra config keys over the bench defaults (pacing, tm, ...) */
  readonly config?: Readonly<Record<string, unknown>>;
  /** spread_tick off: each bucket's records go to the SIP layer in one synchronous burst */
  readonly burst?: boolean;
  /** file URL of a compiled daemon.js to run instead of src/daemon.ts under tsx */
  readonly daemonModule?: string;
  /** directory for a CPU profile (.cpuprofile) of registrantd during the storm */
  readonly cpuProfDir?: string;
  /** directory for an allocation profile (.heapprofile) of registrantd during the storm */
  readonly allocProfDir?: string;
}

/** registrantd as the bench sees it. */
export interface Probe {
  readonly ready: ProbeReady;
  readonly pid: number;
  stats(): Promise<ProbeStats>;
  /** stats with the time-to-registered percentiles (sorts every sample) */
  final(): Promise<ProbeStats>;
  /** stats 6 s later (finished transactions gone) after a full GC: the footprint of N registered records */
  settled(): Promise<ProbeStats>;
  /** 24 s after `settled`, with no forced GC: the memory once the process has been idle for 30 s */
  idle(): Promise<ProbeStats>;
  /** resets the event-loop histogram and the time-to-registered samples */
  mark(): Promise<ProbeStats>;
  /** the kernel's high-water mark of the process's RSS (VmHWM) since start or the last `resetPeakRss` */
  peakRssBytes(): Promise<number>;
  /** starts the high-water mark again from the current RSS (`clear_refs` 5, Linux 4.0+) */
  resetPeakRss(): Promise<void>;
}

export interface Rig {
  readonly n: number;
  readonly store: StoreKind;
  readonly registrar: LoadRegistrar;
  readonly probe: Probe;
  /** wall ms from forking registrantd to all N records loaded and MI answering */
  readonly startMs: number;
  /** the coordinates of record i, for MI `list` of one */
  coords(i: number): [aor: string, contact: string, registrar: string];
  close(): Promise<void>;
}

/** The bench's rows: user u<i> at perf.test, password `secret`, registering to the load registrar. */
function benchRow(i: number, registrarPort: number, sipPort: number, expiry: number): Omit<RegistrantRow, "id"> {
  return {
    registrar: `sip:127.0.0.1:${registrarPort}`,
    proxy: null,
    aor: `sip:u${i}@perf.test`,
    third_party_registrant: null,
    username: `u${i}`,
    password: LOAD_PASSWORD,
    binding_URI: `sip:u${i}@127.0.0.1:${sipPort}`,
    binding_params: null,
    expiry,
    forced_socket: null,
    cluster_shtag: null,
    state: 0,
  };
}

async function seedMariadb(db: TestDatabase, rows: (i: number) => Omit<RegistrantRow, "id">, n: number) {
  const cols = ["id", ...ROW_COLUMNS];
  const sql = `INSERT INTO registrant (${cols.map((c) => `\`${c}\``).join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`;
  for (let start = 0; start < n; start += 5_000) {
    const batch: unknown[][] = [];
    for (let i = start; i < Math.min(n, start + 5_000); i++) {
      const r = rows(i);
      batch.push([i + 1, ...ROW_COLUMNS.map((c) => r[c])]);
    }
    await db.pool.batch(sql, batch);
  }
}

async function seedDbtext(dir: string, rows: (i: number) => Omit<RegistrantRow, "id">, n: number): Promise<void> {
  const created = await openStore({ ...DEFAULT_CONFIG, data_dir: dir }, silentLogger);
  await created.close();
  const path = join(dir, "registrant");
  const lines: string[] = [(await readFile(path, "utf8")).trimEnd()];
  for (let i = 0; i < n; i++) {
    const r = rows(i);
    lines.push([String(i + 1), ...ROW_COLUMNS.map((c) => encodeValue(r[c]))].join(":"));
  }
  await writeFile(path, lines.join("\n") + "\n");
}

/** VmHWM of `/proc/<pid>/status`, in bytes. */
async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "latin1");
  const kb = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(kb) * 1024;
}

function ask<T>(child: ChildProcess, message: string, pick: (m: Record<string, unknown>) => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Record<string, unknown>): void => {
      const v = pick(m);
      if (v === undefined) return;
      cleanup();
      resolve(v);
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`registrantd probe exited (${code}) while waiting for ${message}`));
    };
    const cleanup = (): void => {
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    child.on("message", onMessage);
    child.once("exit", onExit);
    if (message !== "" && !child.send(message)) onExit(child.exitCode);
  });
}

/**
 * The timer: TI = 2 s over 2 buckets, so every record is due at the first firing of its bucket (1 s and 2 s
 * after start) and the whole table goes out at once: a storm. SIP on one UDP loopback socket.
 */
function benchConfig(opts: RigOptions, ports: { sip: number; mi: number }, storeKeys: Partial<Config>): Config {
  return {
    ...DEFAULT_CONFIG,
    ...storeKeys,
    hash_size: 1,
    timer_interval: 10,
    spread_tick: opts.burst === true ? 0 : 1,
    listen: [`udp:127.0.0.1:${ports.sip}`],
    user_agent: "registrantd-bench",
    mi_http: { enabled: true, ip: "127.0.0.1", port: ports.mi, root: "mi" },
    events: {
      ...DEFAULT_CONFIG.events,
      subscribe:
        opts.eventsQueue === undefined
          ? []
          : REGISTRANT_EVENTS.map((event) => ({
              event,
              socket: `rabbitmq:${RABBITMQ_HOST}:${RABBITMQ_PORT}/${opts.eventsQueue}`,
            })),
      outbox_size: Math.max(10_000, opts.n * 4),
      websocket: { ...DEFAULT_CONFIG.events.websocket, enabled: false },
    },
    ...opts.config,
  };
}

export async function startRig(opts: RigOptions): Promise<Rig> {
  const cleanups: (() => Promise<void> | void)[] = [];
  const close = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  };
  try {
    const expiry = opts.expiry ?? 3600;
    const registrar = await startLoadRegistrar();
    cleanups.push(() => registrar.stop());
    const ports = { sip: await freePort(), mi: await freePort() };
    const rows = (i: number) => benchRow(i, registrar.port, ports.sip, expiry);
    const dir = await mkdtemp(join(tmpdir(), "registrantd-bench-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    let storeKeys: Partial<Config>;
    if (opts.store === "mariadb") {
      const db = await createTestDatabase();
      cleanups.push(() => db.drop());
      await seedMariadb(db, rows, opts.n);
      storeKeys = { db_url: db.url };
    } else {
      const data = join(dir, "data");
      await seedDbtext(data, rows, opts.n);
      storeKeys = { data_dir: data };
    }
    const configPath = join(dir, "config.json");
    await writeFile(configPath, JSON.stringify(benchConfig(opts, ports, storeKeys)));

    // BENCH_NODE_ARGS: extra V8/Node flags for registrantd's process, to try a flag against the same storm
    const extra = (process.env["BENCH_NODE_ARGS"] ?? "").split(" ").filter((a) => a !== "");
    const execArgv = ["--import", "tsx", "--max-old-space-size=8192", "--expose-gc", ...extra];
    const t0 = performance.now();
    const child = fork(fileURLToPath(new URL("./registrantd-probe.ts", import.meta.url)), [configPath], {
      execArgv,
      env: {
        ...process.env,
        ...(opts.cpuProfDir !== undefined && { REGISTRANTD_BENCH_PROFILE: opts.cpuProfDir }),
        ...(opts.allocProfDir !== undefined && { REGISTRANTD_BENCH_ALLOC_PROFILE: opts.allocProfDir }),
        ...(opts.daemonModule !== undefined && { REGISTRANTD_BENCH_DAEMON: opts.daemonModule }),
      },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    cleanups.push(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // a graceful stop lets --cpu-prof write its profile; SIGKILL if it hangs
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.send("stop");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    });
    const ready = await ask(child, "", (m) => (m["ready"] === true ? (m as unknown as ProbeReady) : undefined));
    const startMs = performance.now() - t0;
    const statsOf = (m: Record<string, unknown>) => m["stats"] as ProbeStats | undefined;
    return {
      n: opts.n,
      store: opts.store,
      registrar,
      startMs,
      probe: {
        ready,
        pid: child.pid!,
        stats: () => ask(child, "stats", statsOf),
        final: () => ask(child, "final", statsOf),
        settled: () => ask(child, "settled", statsOf),
        idle: () => ask(child, "idle", statsOf),
        mark: () => ask(child, "mark", statsOf),
        peakRssBytes: () => peakRss(child.pid!),
        resetPeakRss: () => writeFile(`/proc/${child.pid!}/clear_refs`, "5"),
      },
      coords: (i) => {
        const r = rows(i);
        return [r.aor!, r.binding_URI!, r.registrar!];
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
