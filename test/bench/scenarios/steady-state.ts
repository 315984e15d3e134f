/**
 * Scenario 3, steady state: every record registered with a short expiry, so each one refreshes (and is
 * challenged again) once per window. Measures registrantd's CPU per second, refreshes per second and the
 * event-loop lag over one expiry window. The cost of a timer tick with nothing due and with one bucket due is
 * measured on fake time by engine.bench.ts (run as a component by run.ts).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Rig } from "./rig.js";

export interface SteadyFigures {
  readonly n: number;
  readonly windowS: number;
  readonly refreshes: number;
  readonly refreshesPerS: number;
  readonly cpuPerS: number;
  readonly cpuPer1000RefreshesS: number | undefined;
  readonly lagP99Ms: number;
  readonly failures: number;
  readonly rssBytes: number;
  /** the kernel's high-water mark of the RSS over the window (VmHWM, reset at its start) */
  readonly peakRssBytes: number;
}

export async function steadyState(rig: Rig, windowS: number): Promise<SteadyFigures> {
  await rig.probe.resetPeakRss();
  const s0 = await rig.probe.mark();
  const t0 = performance.now();
  await sleep(windowS * 1000);
  const s1 = await rig.probe.stats();
  const secs = (performance.now() - t0) / 1000;
  const refreshes = s1.registeredTransitions - s0.registeredTransitions;
  const cpu = s1.cpuUserS + s1.cpuSysS - (s0.cpuUserS + s0.cpuSysS);
  return {
    n: rig.n,
    windowS: secs,
    refreshes,
    refreshesPerS: refreshes / secs,
    cpuPerS: cpu / secs,
    cpuPer1000RefreshesS: refreshes === 0 ? undefined : (cpu * 1000) / refreshes,
    lagP99Ms: s1.lagP99Ms,
    failures: s1.failures - s0.failures,
    rssBytes: s1.rssBytes,
    peakRssBytes: await rig.probe.peakRssBytes(),
  };
}
