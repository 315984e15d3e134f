/**
 * Scenario 2, the registration storm: every record is due at the first timer firings after start and every
 * REGISTER is challenged (REGISTER → 401 → REGISTER with Authorization → 200). Measures, on the registrantd
 * process: time from the first REGISTER to the last REGISTERED, registrations per second, CPU (user+sys) per
 * 1,000 registrations, time-to-registered p50/p99, event-loop lag, memory; and the load registrar's own CPU.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { ProbeStats } from "./registrantd-probe.js";
import type { Rig } from "./rig.js";

export interface StormFigures {
  readonly n: number;
  readonly registered: number;
  readonly failures: number;
  readonly wallS: number;
  readonly regsPerS: number;
  readonly cpuUserS: number;
  readonly cpuSysS: number;
  readonly cpuPer1000S: number;
  readonly ttrP50Ms: number | undefined;
  readonly ttrP99Ms: number | undefined;
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
  /** when the last record registered */
  readonly rssBytes: number;
  readonly rssPerRegistrantBytes: number;
  /** the highest RSS from the start of the storm to its end (the kernel's VmHWM) */
  readonly peakRssBytes: number;
  readonly heapUsedBytes: number;
  readonly retransmissions: number;
  readonly timeouts: number;
  readonly registrarCpuS: number;
  readonly registrarRejected: number;
}

export interface SettledFigures {
  readonly n: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  readonly externalBytes: number;
  readonly rssPerRegistrantBytes: number;
  readonly heapPerRegistrantBytes: number;
  /** 30 s after the storm, no forced GC: RSS once V8's memory reducer has run */
  readonly idleRssBytes: number;
  readonly idleHeapTotalBytes: number;
  readonly idleRssPerRegistrantBytes: number;
  /** V8's spaces after the full GC: committed (`size`) and used bytes */
  readonly heapSpaces: unknown;
}

/**
 * Memory once the storm's transactions are gone, after a full GC (6 s after the storm), and again once the
 * process has been idle for 30 s: N registered records.
 */
export async function settledMemory(rig: Rig): Promise<SettledFigures> {
  const s = await rig.probe.settled();
  const idle = await rig.probe.idle();
  return {
    n: rig.n,
    rssBytes: s.rssBytes,
    heapUsedBytes: s.heapUsedBytes,
    heapTotalBytes: s.heapTotalBytes,
    externalBytes: s.externalBytes,
    rssPerRegistrantBytes: s.rssBytes / rig.n,
    heapPerRegistrantBytes: s.heapUsedBytes / rig.n,
    idleRssBytes: idle.rssBytes,
    idleHeapTotalBytes: idle.heapTotalBytes,
    idleRssPerRegistrantBytes: idle.rssBytes / rig.n,
    heapSpaces: (s as { spaces?: unknown }).spaces,
  };
}

export interface StormResult {
  readonly figures: StormFigures;
  /** probe stats when the storm began and when it ended (for the events scenario) */
  readonly before: ProbeStats;
  readonly after: ProbeStats;
}

/** Waits until all `rig.n` records are REGISTERED; throws after `timeoutMs` or 60 s without progress. */
export async function runStorm(rig: Rig, timeoutMs = Math.max(180_000, rig.n * 3)): Promise<StormResult> {
  const reg0 = await rig.registrar.stats();
  await rig.probe.resetPeakRss();
  const before = await rig.probe.mark();
  const deadline = Date.now() + timeoutMs;
  let last = before;
  let lastProgressAt = Date.now();
  for (;;) {
    await sleep(rig.n >= 100_000 ? 500 : 100);
    const s = await rig.probe.stats();
    if (s.registered >= rig.n) {
      last = await rig.probe.final();
      break;
    }
    if (s.registered > last.registered || s.sip.inFlight > 0) lastProgressAt = Date.now();
    last = s;
    if (Date.now() > deadline || Date.now() - lastProgressAt > 60_000) {
      throw new Error(
        `storm of ${rig.n}: ${s.registered} registered, ${s.failures} failures, ${s.sip.timeouts} timeouts after ` +
          `${((Date.now() - deadline + timeoutMs) / 1000).toFixed(0)} s`,
      );
    }
  }
  const after = last;
  const peakRssBytes = await rig.probe.peakRssBytes();
  const reg1 = await rig.registrar.stats();
  const wallS = ((after.lastRegisteredAtMs ?? 0) - (after.firstSendAtMs ?? 0)) / 1000;
  const cpuUserS = after.cpuUserS - before.cpuUserS;
  const cpuSysS = after.cpuSysS - before.cpuSysS;
  return {
    before,
    after,
    figures: {
      n: rig.n,
      registered: after.registered,
      failures: after.failures - before.failures,
      wallS,
      regsPerS: rig.n / Math.max(wallS, 0.001),
      cpuUserS,
      cpuSysS,
      cpuPer1000S: ((cpuUserS + cpuSysS) * 1000) / rig.n,
      ttrP50Ms: after.ttrP50Ms,
      ttrP99Ms: after.ttrP99Ms,
      lagP99Ms: after.lagP99Ms,
      lagMaxMs: after.lagMaxMs,
      rssBytes: after.rssBytes,
      rssPerRegistrantBytes: after.rssBytes / rig.n,
      peakRssBytes,
      heapUsedBytes: after.heapUsedBytes,
      retransmissions: after.sip.retransmissions - before.sip.retransmissions,
      timeouts: after.sip.timeouts - before.sip.timeouts,
      registrarCpuS: reg1.cpuUserS + reg1.cpuSysS - (reg0.cpuUserS + reg0.cpuSysS),
      registrarRejected: reg1.rejected - reg0.rejected,
    },
  };
}
