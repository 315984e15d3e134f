/**
 * `npm run bench`: every scenario of docs/performance.md in one run, a table on stdout and every figure in
 * bench-results/<timestamp>.json. Measurements only, never pass/fail.
 *
 *   npm run bench -- [--n 10000,100000] [--expiry 60] [--burst] [--profile DIR] [--alloc-profile DIR]
 *                    [--no-components] [--no-floor]
 *                    [--cold-only] [--quick [--steady]] [--tsx] [--dist .bench-dist-NAME] [--out FILE]
 *
 * Per N: rig A = MariaDB store, no events: cold start, storm (CPU, lag, time-to-registered), MI list of the whole
 * table, steady state over one expiry window. Rig B = db_text store, every event to RabbitMQ with confirms: cold
 * start, storm with MI `list` of one record every 100 ms, events/s. Then the floor program against a fresh load
 * registrar. Components: the older focused benches (engine ticks, store load, MI, events, SIP transactions),
 * each run as its own process and its output kept verbatim. `--cold-only`: cold start from MariaDB only (for sizes
 * such as 1,000,000 where a storm takes too long on a small machine). `--quick`: rig A's cold start, storm and
 * settled memory only, no floor and no components (to compare one change quickly); with `--steady`, then the steady
 * state too (a million records refreshing, with the peak RSS over the window).
 *
 * registrantd runs compiled, as the bin does: the sources are built with tsconfig.build.json into .bench-dist/
 * (git-ignored) first. `--tsx` runs src/ under tsx instead (esbuild's keepNames adds a few % of CPU).
 */
import { execFile } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs, promisify } from "node:util";
import { buildFloor, runFloor } from "./floor.js";
import type { FloorFigures } from "./floor.js";
import { startLoadRegistrar } from "./load-registrar.js";
import { summarizeAllocations } from "./alloc-summary.js";
import type { AllocLine } from "./alloc-summary.js";
import { summarize } from "./profile-summary.js";
import type { ProfileLine } from "./profile-summary.js";
import { coldStart } from "./scenarios/cold-start.js";
import type { ColdStartFigures } from "./scenarios/cold-start.js";
import { eventsDuringStorm, openEventsQueue } from "./scenarios/events.js";
import type { EventsFigures } from "./scenarios/events.js";
import { listAll, listOneDuring } from "./scenarios/mi.js";
import type { LatencyFigures, ListAllFigures } from "./scenarios/mi.js";
import { startRig } from "./scenarios/rig.js";
import { steadyState } from "./scenarios/steady-state.js";
import type { SteadyFigures } from "./scenarios/steady-state.js";
import { runStorm, settledMemory } from "./scenarios/storm.js";
import type { SettledFigures, StormFigures } from "./scenarios/storm.js";

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "10000,100000" },
    expiry: { type: "string", default: "60" },
    burst: { type: "boolean", default: false },
    profile: { type: "string" },
    "alloc-profile": { type: "string" },
    "no-components": { type: "boolean", default: false },
    "no-floor": { type: "boolean", default: false },
    "cold-only": { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
    steady: { type: "boolean", default: false },
    tsx: { type: "boolean", default: false },
    dist: { type: "string", default: ".bench-dist" },
    "floor-window": { type: "string", default: "1000" },
    out: { type: "string" },
  },
});
const SIZES = values.n.split(",").map((s) => Number(s.replace(/_/g, "")));
const EXPIRY = Number(values.expiry);

interface SizeResult {
  n: number;
  coldStart: ColdStartFigures[];
  storm?: StormFigures;
  settled?: SettledFigures;
  stormWithEvents?: StormFigures;
  listAll?: ListAllFigures;
  listOneDuringStorm?: LatencyFigures;
  steady?: SteadyFigures;
  events?: EventsFigures;
  floor?: FloorFigures;
  errors: string[];
}

const log = (msg: string): void =>
  void process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

async function attempt<T>(what: string, errors: string[], fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    const msg = `${what}: ${err instanceof Error ? err.message : String(err)}`;
    log(`FAILED ${msg}`);
    errors.push(msg);
    return undefined;
  }
}

async function runSize(n: number): Promise<SizeResult> {
  const res: SizeResult = { n, coldStart: [], errors: [] };
  const profileDir = values.profile === undefined ? undefined : resolve(values.profile);
  if (profileDir !== undefined) await mkdir(profileDir, { recursive: true });
  const allocDir = values["alloc-profile"] === undefined ? undefined : resolve(values["alloc-profile"]);
  if (allocDir !== undefined) await mkdir(allocDir, { recursive: true });
  log(`N=${n}: rig A (MariaDB, storm, list, steady state)`);
  await attempt("rig A", res.errors, async () => {
    const rig = await startRig({
      n,
      store: "mariadb",
      expiry: EXPIRY,
      burst: values.burst,
      ...(daemonModule !== undefined && { daemonModule }),
      ...(profileDir !== undefined && n === Math.max(...SIZES) && { cpuProfDir: profileDir }),
      ...(allocDir !== undefined && n === Math.max(...SIZES) && { allocProfDir: allocDir }),
    });
    try {
      res.coldStart.push(coldStart(rig));
      if (values["cold-only"]) return;
      res.storm = (await runStorm(rig)).figures;
      log(`N=${n}: storm ${res.storm.wallS.toFixed(1)} s, ${res.storm.cpuPer1000S.toFixed(3)} CPU-s/1000`);
      res.settled = await settledMemory(rig);
      if (values.quick) {
        // --quick --steady: a million records refreshing, without the other scenarios
        if (values.steady) res.steady = await steadyState(rig, EXPIRY);
        return;
      }
      res.listAll = await listAll(rig);
      res.steady = await steadyState(rig, EXPIRY);
    } finally {
      await rig.close();
    }
  });
  if (values["cold-only"] || values.quick) return res;
  log(`N=${n}: rig B (db_text, events to RabbitMQ, list of one during the storm)`);
  await attempt("rig B", res.errors, async () => {
    const queue = await openEventsQueue();
    try {
      const rig = await startRig({
        n,
        store: "db_text",
        eventsQueue: queue.name,
        burst: values.burst,
        ...(daemonModule !== undefined && { daemonModule }),
      });
      try {
        res.coldStart.push(coldStart(rig));
        const poller = listOneDuring(rig, 100);
        const storm = await runStorm(rig).finally(async () => {
          res.listOneDuringStorm = await poller.stop();
        });
        res.stormWithEvents = storm.figures;
        res.events = await eventsDuringStorm(rig, storm);
      } finally {
        await rig.close();
      }
    } finally {
      await queue.close();
    }
  });
  if (!values["no-floor"] && !values.quick) {
    log(`N=${n}: floor`);
    await attempt("floor", res.errors, async () => {
      const registrar = await startLoadRegistrar();
      try {
        res.floor = await runFloor(await floorProgram, registrar.port, n, Number(values["floor-window"]), n);
      } finally {
        registrar.stop();
      }
    });
  }
  return res;
}

const floorProgram = buildFloor();

/** Compiles src/ into .bench-dist/ (one level below the repository, like dist/, so relative paths resolve). */
async function buildDaemon(): Promise<string | undefined> {
  if (values.tsx) return undefined;
  const root = fileURLToPath(new URL("../../", import.meta.url));
  const tsc = fileURLToPath(new URL("../../node_modules/typescript/bin/tsc", import.meta.url));
  // --dist: a directory per concurrent bench run (one level below the repository, named .bench-dist*)
  const dist = values.dist;
  if (!/^\.bench-dist[\w-]*$/.test(dist)) throw new Error(`--dist must be .bench-dist followed by a name: ${dist}`);
  log(`compiling src/ into ${dist}/`);
  await promisify(execFile)(process.execPath, [tsc, "-p", "tsconfig.build.json", "--outDir", dist], { cwd: root });
  return pathToFileURL(join(root, dist, "daemon.js")).href;
}
const daemonModule = await buildDaemon();

/** The older focused benches, each in its own process; output kept verbatim. */
const COMPONENTS: { name: string; file: string; args: string[]; gc?: boolean }[] = [
  { name: "engine ticks", file: "engine.bench.ts", args: ["100000"], gc: true },
  { name: "store load", file: "store-load.bench.ts", args: ["100000"], gc: true },
  { name: "MI", file: "mi.bench.ts", args: ["100000", "5"] },
  { name: "events", file: "events.bench.ts", args: ["100000"] },
  { name: "SIP transactions", file: "transactions.bench.ts", args: ["10000"] },
  { name: "dashboard", file: "dashboard.bench.ts", args: ["10000"] },
];

async function runComponents(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const c of COMPONENTS) {
    log(`component: ${c.name}`);
    const file = fileURLToPath(new URL(`./${c.file}`, import.meta.url));
    const argv = [...(c.gc === true ? ["--expose-gc"] : []), "--import", "tsx", file, ...c.args];
    try {
      const { stdout } = await promisify(execFile)(process.execPath, argv, { maxBuffer: 16 << 20, timeout: 900_000 });
      out[c.name] = stdout.trim();
    } catch (err) {
      out[c.name] = `FAILED: ${(err as Error).message}`;
    }
    log(out[c.name]!.split("\n").join("\n    "));
  }
  return out;
}

const fmt = (v: number | undefined, digits = 0): string =>
  v === undefined || Number.isNaN(v)
    ? "–"
    : v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ratio = (v: number | undefined, target: number): string =>
  v === undefined ? "–" : `${(v / target).toFixed(2)}×`;

function table(results: SizeResult[]): string {
  const rows: string[][] = [];
  const add = (figure: string, target: string, pick: (r: SizeResult) => [string, string]): void => {
    rows.push([figure, target, ...results.flatMap((r) => pick(r))]);
  };
  add("cold start MariaDB: load (startDaemon)", "< 2 s at 100k", (r) => {
    const c = r.coldStart.find((x) => x.store === "mariadb");
    return [`${fmt(c?.loadMs)} ms`, r.n === 100_000 ? ratio(c?.loadMs, 2000) : ""];
  });
  add("cold start db_text: load", "", (r) => [`${fmt(r.coldStart.find((x) => x.store === "db_text")?.loadMs)} ms`, ""]);
  add("RSS after load / registrant", "≈ 1 KB at 1M", (r) => {
    const c = r.coldStart[0];
    return [`${fmt(c?.rssPerRegistrantBytes)} B`, ratio(c?.rssPerRegistrantBytes, 1024)];
  });
  add("storm: time to all registered", "", (r) => [`${fmt(r.storm?.wallS, 1)} s`, ""]);
  add("storm: registrations/s", "", (r) => [fmt(r.storm?.regsPerS), ""]);
  add("storm: CPU-s per 1,000 regs", "≤ 0.1", (r) => [fmt(r.storm?.cpuPer1000S, 3), ratio(r.storm?.cpuPer1000S, 0.1)]);
  add("floor: CPU-s per 1,000 regs", "", (r) => [`${fmt(r.floor?.cpuPer1000S, 4)} (${r.floor?.program ?? "–"})`, ""]);
  add("registrantd / floor", "≤ 3×", (r) => {
    const v = r.storm && r.floor ? r.storm.cpuPer1000S / r.floor.cpuPer1000S : undefined;
    return [v === undefined ? "–" : `${v.toFixed(1)}×`, v === undefined ? "–" : ratio(v, 3)];
  });
  add("storm: time-to-registered p50 / p99", "", (r) => [
    `${fmt(r.storm?.ttrP50Ms)} / ${fmt(r.storm?.ttrP99Ms)} ms`,
    "",
  ]);
  add("storm: event-loop lag p99", "< 50 ms", (r) => [`${fmt(r.storm?.lagP99Ms, 1)} ms`, ratio(r.storm?.lagP99Ms, 50)]);
  add("storm: retransmissions / timeouts", "0 timeouts", (r) => [
    `${fmt(r.storm?.retransmissions)} / ${fmt(r.storm?.timeouts)}`,
    "",
  ]);
  add("storm: RSS at its end / registrant", "", (r) => [`${fmt(r.storm?.rssPerRegistrantBytes)} B`, ""]);
  add("storm: peak RSS (VmHWM)", "< 1 GiB at 1M", (r) => [
    `${fmt(r.storm === undefined ? undefined : r.storm.peakRssBytes / 2 ** 20)} MiB`,
    ratio(r.storm?.peakRssBytes, 2 ** 30),
  ]);
  add("registered, settled: RSS / heap per registrant", "≈ 1 KB at 1M", (r) => [
    `${fmt(r.settled?.rssPerRegistrantBytes)} / ${fmt(r.settled?.heapPerRegistrantBytes)} B`,
    ratio(r.settled?.heapPerRegistrantBytes, 1024),
  ]);
  add("idle 30 s after the storm: RSS per registrant", "< 1 GiB at 1M", (r) => [
    `${fmt(r.settled?.idleRssPerRegistrantBytes)} B`,
    ratio(r.settled?.idleRssBytes, 2 ** 30),
  ]);
  add("load registrar CPU during storm", "not saturated", (r) => [
    `${fmt(r.storm?.registrarCpuS, 1)} s / ${fmt(r.storm?.wallS, 1)} s`,
    "",
  ]);
  add("MI list of all N", "< 1 s at 100k", (r) => [
    `${fmt(r.listAll?.p50Ms)} ms`,
    r.n === 100_000 ? ratio(r.listAll?.p50Ms, 1000) : "",
  ]);
  add("MI list of one during storm p99 / max", "< 100 ms", (r) => [
    `${fmt(r.listOneDuringStorm?.p99Ms, 1)} / ${fmt(r.listOneDuringStorm?.maxMs, 1)} ms`,
    ratio(r.listOneDuringStorm?.maxMs, 100),
  ]);
  add("steady: CPU-s per s (refreshes/s)", "", (r) => [
    `${fmt(r.steady?.cpuPerS, 3)} (${fmt(r.steady?.refreshesPerS)})`,
    "",
  ]);
  add("steady: peak RSS (VmHWM)", "< 1 GiB at 1M", (r) => [
    `${fmt(r.steady === undefined ? undefined : r.steady.peakRssBytes / 2 ** 20)} MiB`,
    ratio(r.steady?.peakRssBytes, 2 ** 30),
  ]);
  add("storm with events: lag p99", "< 50 ms", (r) => [
    `${fmt(r.stormWithEvents?.lagP99Ms, 1)} ms`,
    ratio(r.stormWithEvents?.lagP99Ms, 50),
  ]);
  add("events/s to RabbitMQ (confirms)", "≥ 10,000", (r) => [
    `${fmt(r.events?.eventsPerS)} (${fmt(r.events?.published)} / ${fmt(r.events?.raised)})`,
    r.events === undefined ? "–" : `${(10_000 / Math.max(r.events.eventsPerS, 1)).toFixed(2)}×`,
  ]);
  const header = ["figure", "target", ...results.flatMap((r) => [`N=${r.n.toLocaleString("en-US")}`, "ratio"])];
  const lines = [header, header.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`);
  return lines.join("\n");
}

const started = new Date();
const machine = {
  node: process.version,
  cpus: `${cpus().length} × ${cpus()[0]?.model ?? "?"}`,
  memGiB: +(totalmem() / 2 ** 30).toFixed(1),
  loadavgAtStart: loadavg().map((x) => +x.toFixed(2)),
};
log(`machine: ${JSON.stringify(machine)}`);
const results: SizeResult[] = [];
for (const n of SIZES) results.push(await runSize(n));
const components = values["no-components"] || values.quick ? {} : await runComponents();

/** The storm profile(s) written by the probe, summarised (self and inclusive time). */
async function profiles(): Promise<Record<string, { self: ProfileLine[]; inclusive: ProfileLine[] }>> {
  const out: Record<string, { self: ProfileLine[]; inclusive: ProfileLine[] }> = {};
  if (values.profile === undefined) return out;
  const dir = resolve(values.profile);
  for (const f of (await readdir(dir)).filter((x) => x.startsWith("storm-") && x.endsWith(".cpuprofile"))) {
    const s = summarize(JSON.parse(await readFile(join(dir, f), "utf8")), 20);
    out[join(dir, f)] = { self: s.byFunction, inclusive: s.inclusive };
  }
  return out;
}
const profile = await profiles();

/** The storm allocation profile(s) written by the probe: bytes per registration, self and inclusive. */
async function allocations(): Promise<Record<string, { self: AllocLine[]; inclusive: AllocLine[] }>> {
  const out: Record<string, { self: AllocLine[]; inclusive: AllocLine[] }> = {};
  if (values["alloc-profile"] === undefined) return out;
  const dir = resolve(values["alloc-profile"]);
  for (const f of (await readdir(dir)).filter((x) => /^storm-\d+-\d+\.heapprofile$/.test(x))) {
    const n = Number(f.split("-")[1]);
    const s = summarizeAllocations(JSON.parse(await readFile(join(dir, f), "utf8")).head, n, 20);
    out[join(dir, f)] = { self: s.self, inclusive: s.inclusive };
  }
  return out;
}
const allocationProfile = await allocations();
const report = {
  startedAt: started.toISOString(),
  wallS: (Date.now() - started.getTime()) / 1000,
  machine: { ...machine, loadavgAtEnd: loadavg().map((x) => +x.toFixed(2)) },
  options: { sizes: SIZES, expiry: EXPIRY, burst: values.burst, registrantd: daemonModule ?? "src/ under tsx" },
  results,
  components,
  profile,
  allocationProfile,
};
const out =
  values.out ??
  fileURLToPath(new URL(`../../bench-results/${started.toISOString().replace(/[:.]/g, "-")}.json`, import.meta.url));
await mkdir(dirname(out), { recursive: true });
await writeFile(out, JSON.stringify(report, null, 2));
console.log(table(results));
for (const r of results) for (const e of r.errors) console.log(`N=${r.n}: ${e}`);
for (const [file, p] of Object.entries(profile)) {
  console.log(`\nstorm CPU profile ${file} (self time, busy samples):`);
  for (const l of p.self.slice(0, 12)) console.log(`  ${(l.share * 100).toFixed(1).padStart(5)}%  ${l.name}`);
}
for (const [file, p] of Object.entries(allocationProfile)) {
  console.log(`\nstorm allocations ${file} (bytes per registration, self):`);
  for (const l of p.self.slice(0, 12)) console.log(`  ${String(l.bytesEach).padStart(6)} B  ${l.name}`);
}
console.log(`\nfigures: ${out}`);
