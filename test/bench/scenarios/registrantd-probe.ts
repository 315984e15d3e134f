/**
 * registrantd under measurement, in its own process: `startDaemon()` (exactly what the bin runs) plus what only
 * the process itself can see: its CPU and memory, an event-loop delay histogram, and per record the time from
 * its first REGISTER (NOT_REGISTERED → REGISTERING) to REGISTERED. The bench forks it and talks over IPC.
 *
 * With REGISTRANTD_BENCH_PROFILE=DIR it records a CPU profile from `mark` to `final` (the storm only, not the
 * start-up) through the inspector, the same .cpuprofile `node --cpu-prof` writes; profile-summary.ts reads it.
 * With REGISTRANTD_BENCH_ALLOC_PROFILE=DIR it records the storm's allocations instead (a .heapprofile, what
 * DevTools' "allocation sampling" writes, collected objects included); alloc-summary.ts reads it.
 *
 *   fork("registrantd-probe.ts", [configJsonPath])  →  {ready, loadMs, ...}; then "stats" / "mark" / "stop"
 */
import { readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { getHeapSpaceStatistics } from "node:v8";
import type { Config } from "../../../src/config/config.js";
import type * as DaemonModule from "../../../src/daemon.js";
import { silentLogger } from "../../../src/log.js";
import { RegState } from "../../../src/registrant/state.js";
import { sampleAllocations } from "../alloc-summary.js";

export interface ProbeStats {
  readonly cpuUserS: number;
  readonly cpuSysS: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** what V8 holds for its heap, used or not: RSS above it is memory outside V8's heap */
  readonly heapTotalBytes: number;
  /** ArrayBuffers and Buffers (outside the V8 heap) */
  readonly externalBytes: number;
  readonly records: number;
  readonly registered: number;
  /** REGISTERED transitions so far (first registrations and refreshes) */
  readonly registeredTransitions: number;
  readonly failures: number;
  /** wall ms of the first REGISTER and of the last REGISTERED since the last `mark` */
  readonly firstSendAtMs: number | undefined;
  readonly lastRegisteredAtMs: number | undefined;
  /** first REGISTER → REGISTERED, ms, of the records registered since the last `mark` (`final` stats only) */
  readonly ttrP50Ms: number | undefined;
  readonly ttrP99Ms: number | undefined;
  /** event-loop delay since the last `mark`, ms */
  readonly lagP50Ms: number;
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
  readonly eventsRaised: number;
  readonly eventsPublished: number;
  readonly eventsDropped: number;
  readonly sip: { readonly retransmissions: number; readonly timeouts: number; readonly inFlight: number };
}

export interface ProbeReady {
  readonly ready: true;
  /** startDaemon() wall time: store load + row checks + sockets */
  readonly loadMs: number;
  readonly records: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly miPort: number | undefined;
}

const config = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as Config;
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();

let registered = 0;
let registeredTransitions = 0;
let failures = 0;
let firstSendAtMs: number | undefined;
let lastRegisteredAtMs: number | undefined;
/**
 * record id → wall ms of its pending first REGISTER, 0 = none. Indexed by id (a storm's ids are 1..N): the probe's
 * listener runs in registrantd's process, three times per registration, and a Map of a million entries cost ~1% of
 * its CPU and tens of MB at the storm's peak.
 */
let sentAt = new Float64Array(1024);
let ttr: number[] = [];

// REGISTRANTD_BENCH_DAEMON: the compiled daemon.js (what the bin runs) instead of the sources under tsx
const daemonUrl = process.env["REGISTRANTD_BENCH_DAEMON"] ?? new URL("../../../src/daemon.js", import.meta.url).href;
const { startDaemon } = (await import(daemonUrl)) as typeof DaemonModule;
const t0 = performance.now();
const daemon = await startDaemon(config, silentLogger);
const loadMs = performance.now() - t0;
let records = 0;
for (const _ of daemon.service.list()) records++;

// the failure states are REGISTER_TIMEOUT_STATE (4) to REGISTRAR_ERROR_STATE (7)
const isFailure = (s: number): boolean => s >= RegState.REGISTER_TIMEOUT_STATE && s <= RegState.REGISTRAR_ERROR_STATE;

function slotOf(recordId: number): number {
  if (recordId >= sentAt.length) {
    const grown = new Float64Array(Math.max(recordId + 1, sentAt.length * 2));
    grown.set(sentAt);
    sentAt = grown;
  }
  return recordId;
}

daemon.service.onStateChange((c) => {
  const to = c.to;
  if (to === RegState.REGISTERING_STATE && c.from !== RegState.REGISTERING_STATE) {
    const slot = slotOf(c.recordId);
    if (sentAt[slot] === 0) sentAt[slot] = c.atMs;
    firstSendAtMs ??= c.atMs;
  }
  if (to === RegState.REGISTERED_STATE) {
    registeredTransitions++;
    lastRegisteredAtMs = c.atMs;
    if (c.from !== RegState.REGISTERED_STATE) registered++;
    const slot = slotOf(c.recordId);
    const at = sentAt[slot]!;
    if (at !== 0) {
      ttr.push(c.atMs - at);
      sentAt[slot] = 0;
    }
  } else if (c.from === RegState.REGISTERED_STATE) registered--;
  if (isFailure(to)) failures++;
});

function pct(sorted: number[], p: number): number | undefined {
  return sorted.length === 0 ? undefined : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

/** `withLatencies`: sort the time-to-registered samples (costly at 1M: only for the final figures). */
function stats(withLatencies = false): ProbeStats {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  const ev = daemon.events.counters();
  const sip = daemon.sip.stats();
  const arr = withLatencies ? Array.from(Float64Array.from(ttr).sort()) : [];
  return {
    cpuUserS: cpu.user / 1e6,
    cpuSysS: cpu.system / 1e6,
    rssBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
    heapTotalBytes: mem.heapTotal,
    externalBytes: mem.external,
    records,
    registered,
    registeredTransitions,
    failures,
    firstSendAtMs,
    lastRegisteredAtMs,
    ttrP50Ms: pct(arr, 50),
    ttrP99Ms: pct(arr, 99),
    lagP50Ms: lag.percentile(50) / 1e6,
    lagP99Ms: lag.percentile(99) / 1e6,
    lagMaxMs: lag.max / 1e6,
    eventsRaised: ev.raised,
    eventsPublished: ev.rabbitmq.reduce((n, s) => n + s.counters.published, 0),
    eventsDropped: ev.dropped,
    sip: { retransmissions: sip.retransmissions, timeouts: sip.timeouts, inFlight: sip.inFlight },
  };
}

const profileDir = process.env["REGISTRANTD_BENCH_PROFILE"];
const allocProfileDir = process.env["REGISTRANTD_BENCH_ALLOC_PROFILE"];
let profiler: Session | undefined;
let allocations: Awaited<ReturnType<typeof sampleAllocations>> | undefined;

/** The storm's CPU profile, or its allocations (V8's sampling heap profiler, collected objects included). */
async function startProfile(): Promise<void> {
  if (allocProfileDir !== undefined) {
    allocations ??= await sampleAllocations(1024);
    return;
  }
  if (profileDir === undefined || profiler !== undefined) return;
  profiler = new Session();
  profiler.connect();
  await profiler.post("Profiler.enable");
  await profiler.post("Profiler.setSamplingInterval", { interval: 500 });
  await profiler.post("Profiler.start");
}

async function stopProfile(): Promise<void> {
  if (allocations !== undefined && allocProfileDir !== undefined) {
    const profile = await allocations.stop();
    writeFileSync(join(allocProfileDir, `storm-${records}-${process.pid}.heapprofile`), JSON.stringify(profile));
    allocations = undefined;
  }
  if (profiler === undefined || profileDir === undefined) return;
  const { profile } = await profiler.post("Profiler.stop");
  writeFileSync(join(profileDir, `storm-${records}-${process.pid}.cpuprofile`), JSON.stringify(profile));
  profiler.disconnect();
  profiler = undefined;
}

process.on("message", (m: string) => {
  if (m === "stats") process.send?.({ stats: stats() });
  else if (m === "settled") {
    // after Timer K (T4, 5 s) every finished UDP transaction is gone: what is left is the steady footprint
    setTimeout(() => {
      (globalThis as { gc?: () => void }).gc?.();
      // where V8's committed memory is, to tell live data from space kept after the storm's peak
      const spaces = Object.fromEntries(
        getHeapSpaceStatistics().map((sp) => [sp.space_name, { size: sp.space_size, used: sp.space_used_size }]),
      );
      process.send?.({ stats: { ...stats(), spaces } });
    }, 6_000);
  } else if (m === "idle") {
    // 30 s without traffic and without a forced GC: what V8's memory reducer gives back on its own
    setTimeout(() => process.send?.({ stats: stats() }), 24_000);
  } else if (m === "final") {
    const s = stats(true);
    void stopProfile().finally(() => process.send?.({ stats: s }));
  } else if (m === "mark") {
    void startProfile();
    lag.reset();
    ttr = [];
    firstSendAtMs = undefined;
    lastRegisteredAtMs = undefined;
    process.send?.({ stats: stats() });
  } else if (m === "stop") {
    void daemon.stop({ unregister: false }).finally(() => {
      process.send?.({ stopped: true });
      // give the IPC message time to leave, then exit so --cpu-prof writes its profile
      setTimeout(() => process.exit(0), 50);
    });
  }
});
process.on("disconnect", () => process.exit(0));

const mem = process.memoryUsage();
lag.reset();
const ready: ProbeReady = {
  ready: true,
  loadMs,
  records,
  rssBytes: mem.rss,
  heapUsedBytes: mem.heapUsed,
  miPort: daemon.miHttp?.address().port,
};
process.send?.(ready);
