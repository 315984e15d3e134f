/**
 * Store load benchmark (not a test): 100,000 registrant rows read from MariaDB (and from db_text) and put through
 * the OpenSIPS row checks as the daemon's load does (each row checked as the store streams it). Prints the read
 * alone, read + checks, rows/s and the retained heap per RecordSpec.
 *
 *   node --expose-gc --import tsx test/bench/store-load.bench.ts [rows]
 *
 * Uses a throw-away database on the shared MariaDB (127.0.0.1:3306) and a temp directory; both are removed.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_CONFIG } from "../../src/config/defaults.js";
import { silentLogger } from "../../src/log.js";
import type { RecordSpec, RegistrantRow } from "../../src/registrant/record-spec.js";
import { rowChecker } from "../../src/registrant/row-check.js";
import type { RowCheckContext } from "../../src/registrant/row-check.js";
import { ROW_COLUMNS } from "../../src/store/columns.js";
import { encodeValue } from "../../src/store/dbtext-table.js";
import { openStore } from "../../src/store/open-store.js";
import type { RegistrantStore } from "../../src/store/store.js";
import { createTestDatabase } from "../support/mariadb.js";

const ROWS = Number(process.argv[2] ?? 100_000);
const RUNS = 3;
const gc = (globalThis as { gc?: () => void }).gc;

const ctx: RowCheckContext = {
  timerInterval: DEFAULT_CONFIG.timer_interval,
  defaultExpires: DEFAULT_CONFIG.default_expires,
  hasSocket: (s) => s === "udp:127.0.0.1:5060",
};

/** A realistic mix: most rows plain, some with every optional column, 1% refused by the checks. */
function row(i: number): Omit<RegistrantRow, "id"> {
  const full = i % 10 === 0;
  return {
    registrar: `sip:registrar${i % 50}.example.com`,
    proxy: full ? "sip:proxy.example.com;lr" : null,
    aor: `sip:user${i}@example.com`,
    third_party_registrant: full ? "sip:admin@example.com" : null,
    username: `user${i}`,
    password: `secret-${i}`,
    binding_URI: `sip:user${i}@192.0.2.${i % 250}:5060`,
    binding_params: full ? `;reg-id=1;+sip.instance="<urn:uuid:${i}>"` : null,
    expiry: i % 100 === 99 ? 30 : 3600,
    forced_socket: full ? "udp:127.0.0.1:5060" : null,
    cluster_shtag: full ? "vip/1" : null,
    state: i % 7 === 0 ? 1 : 0,
  };
}

function heapMb(): number {
  gc?.();
  return process.memoryUsage().heapUsed / 1e6;
}

/** The daemon's load: rows checked as the store streams them; only the specs outlive the call. */
async function loadSpecs(store: RegistrantStore): Promise<{ specs: RecordSpec[]; errors: number }> {
  const check = rowChecker(ctx);
  const specs: RecordSpec[] = [];
  let errors = 0;
  await store.scanAll((row) => {
    const r = check(row);
    if (r.ok) specs.push(r.spec);
    else errors++;
  });
  return { specs, errors };
}

async function measure(label: string, store: RegistrantStore): Promise<string[]> {
  const readMs: number[] = [];
  const loadMs: number[] = [];
  const loadCpuMs: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const t0 = performance.now();
    await store.scanAll(() => undefined);
    const t1 = performance.now();
    // this process's CPU: on a shared machine the wall time also counts the waits for a core (and the DB server's)
    const cpu0 = process.cpuUsage();
    await loadSpecs(store);
    const cpu = process.cpuUsage(cpu0);
    loadMs.push(performance.now() - t1);
    loadCpuMs.push((cpu.user + cpu.system) / 1000);
    readMs.push(t1 - t0);
  }
  // a turn of the event loop lets go of what the last read still held (db_text's file text)
  await new Promise((resolve) => setImmediate(resolve));
  const before = heapMb();
  const { specs, errors } = await loadSpecs(store);
  const after = heapMb();
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const read = median(readMs);
  const load = median(loadMs);
  const perRecord = gc ? `${Math.round(((after - before) * 1e6) / specs.length)} B` : "run with --expose-gc";
  return [
    label,
    `${specs.length + errors}`,
    `${read.toFixed(0)} ms`,
    `${load.toFixed(0)} ms (CPU ${median(loadCpuMs).toFixed(0)} ms)`,
    `${Math.round((specs.length + errors) / (load / 1000)).toLocaleString("en-US")}`,
    perRecord,
    `${specs.length} / ${errors}`,
  ];
}

async function main(): Promise<void> {
  const db = await createTestDatabase();
  const dir = await mkdtemp(join(tmpdir(), "registrantd-bench-"));
  const results: string[][] = [];
  try {
    const cols = ["id", ...ROW_COLUMNS];
    const sql = `INSERT INTO registrant (${cols.map((c) => `\`${c}\``).join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`;
    for (let start = 0; start < ROWS; start += 5_000) {
      const batch: unknown[][] = [];
      for (let i = start; i < Math.min(ROWS, start + 5_000); i++) {
        const r = row(i);
        batch.push([i + 1, ...ROW_COLUMNS.map((c) => r[c])]);
      }
      await db.pool.batch(sql, batch);
    }
    const mariadb = await openStore({ ...DEFAULT_CONFIG, db_url: db.url }, silentLogger);
    results.push(await measure("MariaDB", mariadb));
    await mariadb.close();

    const created = await openStore({ ...DEFAULT_CONFIG, data_dir: dir }, silentLogger);
    await created.close();
    const path = join(dir, "registrant");
    const lines: string[] = [(await readFile(path, "utf8")).trimEnd()];
    for (let i = 0; i < ROWS; i++) {
      const r = row(i);
      lines.push([String(i + 1), ...ROW_COLUMNS.map((c) => encodeValue(r[c]))].join(":"));
    }
    await writeFile(path, lines.join("\n") + "\n");
    const dbtext = await openStore({ ...DEFAULT_CONFIG, data_dir: dir }, silentLogger);
    results.push(await measure("db_text", dbtext));
    await dbtext.close();
  } finally {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  }
  const header = [
    "store",
    "rows",
    "scanAll, rows dropped (median of 3)",
    "scanAll + row checks (median of 3)",
    "rows/s (scan + checks)",
    "heap per RecordSpec",
    "loaded / skipped",
  ];
  console.log(`store load benchmark: ${ROWS} rows, Node ${process.version}`);
  console.log(`| ${header.join(" | ")} |`);
  console.log(`|${header.map(() => "---").join("|")}|`);
  for (const r of results) console.log(`| ${r.join(" | ")} |`);
}

await main();
