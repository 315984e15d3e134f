import type { Clock } from "../clock.js";
import type { Logger } from "../log.js";
import type { EngineOptions } from "./engine-options.js";
import { bucketCount, tickPeriodSec } from "./engine-options.js";
import type { RegistrantRecord } from "./record.js";
import { RegState } from "./state.js";
import type { RegistrantTable } from "./table.js";

/** One-shot timers; the daemon passes real ones, tests a fake driven by their ManualClock. */
export interface TimerPort {
  /** runs `fn` once after `ms`; returns a cancel function */
  set(ms: number, fn: () => void): () => void;
}

export const realTimers: TimerPort = {
  set(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};

/**
 * When the timer must next look at a record (Unix seconds), mirroring the checks of reference §4 so a record is
 * only visited when the visit can do something; Infinity = never (waiting for a reply, or idle by design).
 */
export function nextCheckSec(rec: RegistrantRecord, timerIntervalSec: number): number {
  if (rec.detached) return Number.POSITIVE_INFINITY;
  switch (rec.state) {
    case RegState.NOT_REGISTERED_STATE:
      return rec.enabled ? 0 : Number.POSITIVE_INFINITY;
    case RegState.REGISTERED_STATE:
      // refreshed once `now + TI >= registration_timeout`
      return rec.enabled ? rec.registrationTimeoutSec - timerIntervalSec : Number.POSITIVE_INFINITY;
    case RegState.REGISTER_TIMEOUT_STATE:
    case RegState.INTERNAL_ERROR_STATE:
    case RegState.WRONG_CREDENTIALS_STATE:
    case RegState.REGISTRAR_ERROR_STATE:
      // error states retry at the deadline, enabled (REGISTER) or not (unREGISTER)
      return rec.registrationTimeoutSec;
    case RegState.REGISTERING_STATE:
    case RegState.AUTHENTICATING_STATE:
    case RegState.UNREGISTERING_STATE:
    case RegState.AUTHENTICATING_UNREGISTER_STATE:
      return Number.POSITIVE_INFINITY;
  }
}

export interface SchedulerDeps {
  readonly table: RegistrantTable;
  readonly options: EngineOptions;
  readonly clock: Clock;
  readonly timers: TimerPort;
  readonly log: Logger;
  readonly gateOpen: (rec: RegistrantRecord) => boolean;
  /** the machine's tick for one record */
  readonly visit: (rec: RegistrantRecord) => void;
  /** the wall clock moved `driftSec` more (or less) than the monotonic one since the last firing */
  readonly onClockJump?: (driftSec: number) => void;
}

/** The due records of one spread tick, handed out in order, record i at `startMs + i·stepMs` (monotonic). */
interface Spread {
  readonly records: RegistrantRecord[];
  readonly startMs: number;
  readonly stepMs: number;
  /** index of the next record to hand out */
  next: number;
}

/** Wall-vs-monotonic drift between two firings that counts as a clock jump (NTP slews stay far below). */
const CLOCK_JUMP_MS = 2_000;

/**
 * OpenSIPS's `uac_reg_check` timer (reference §3.6): every floor(TI/N) seconds it handles ONE bucket, 0..N-1 in
 * turn, the first one period after start, the next one period after the previous run ended ("delay on delay").
 *
 * Unlike OpenSIPS it does not walk the bucket: each bucket keeps its records in a heap keyed by
 * `nextCheckSec`, so a tick pops only the records whose time has come and its cost is O(due · log n). Records
 * held back by the cluster gate go back in the heap unchanged. With `spreadTick` the due records of a bucket
 * are sent evenly over 90% of the period instead of in one burst (§11.16).
 */
export class BucketScheduler {
  private nextBucket = 0;
  private cancelTick: (() => void) | undefined;
  /** one timer walks the spread records (a timer per record cost ~200 B each, a million in a 1M storm) */
  private spread: Spread | undefined;
  private cancelSpread: (() => void) | undefined;
  private running = false;
  private lastFiring: { wallMs: number; monoMs: number } | undefined;

  constructor(private readonly deps: SchedulerDeps) {}

  get periodMs(): number {
    return tickPeriodSec(this.deps.options) * 1000;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.lastFiring = { wallMs: this.deps.clock.nowMs(), monoMs: this.deps.clock.monoMs() };
    this.arm();
  }

  stop(): void {
    this.running = false;
    this.cancelTick?.();
    this.cancelTick = undefined;
    // records waiting for their slot go back in their heap, so a later start() still sees them
    const spread = this.spread;
    this.endSpread();
    if (spread === undefined) return;
    for (let i = spread.next; i < spread.records.length; i++) {
      const rec = spread.records[i]!;
      this.deps.table.schedule(rec, nextCheckSec(rec, this.deps.options.timerIntervalSec));
    }
  }

  /** Handle the next bucket now; returns how many records were due. */
  tick(): number {
    const { table, clock, options } = this.deps;
    this.detectClockJump();
    // the previous spread is overdue by now (it ends at 90% of the period): its rest goes first
    if (this.spread !== undefined) this.handOut(Number.POSITIVE_INFINITY);
    const bucket = this.nextBucket;
    this.nextBucket = (bucket + 1) % bucketCount(options);
    const nowSec = Math.floor(clock.nowMs() / 1000);
    const ready = table.popDue(bucket, nowSec);
    const dueCount = ready.length;
    // the records the cluster gate holds back go back in the heap; the others stay, in order, in the same array
    let kept = 0;
    for (let i = 0; i < dueCount; i++) {
      const rec = ready[i]!;
      if (this.deps.gateOpen(rec)) ready[kept++] = rec;
      else table.schedule(rec, rec.dueSec);
    }
    ready.length = kept;
    if (!options.spreadTick || kept < 2) {
      for (const rec of ready) this.visitSafely(rec);
      return dueCount;
    }
    this.spread = { records: ready, startMs: clock.monoMs(), stepMs: (this.periodMs * 0.9) / kept, next: 0 };
    this.handOut(0);
    return dueCount;
  }

  /** Visits the spread records whose time has come `elapsedMs` after the tick, then waits for the next one. */
  private handOut(elapsedMs: number): void {
    const spread = this.spread!;
    const { records, stepMs } = spread;
    while (spread.next < records.length && Math.floor(spread.next * stepMs) <= elapsedMs) {
      this.visitSafely(records[spread.next++]!);
    }
    if (this.spread !== spread) return; // stopped by a visit
    if (spread.next >= records.length) return this.endSpread();
    const waitMs = spread.startMs + Math.floor(spread.next * stepMs) - this.deps.clock.monoMs();
    this.cancelSpread = this.deps.timers.set(Math.max(0, waitMs), () => {
      this.cancelSpread = undefined;
      this.handOut(this.deps.clock.monoMs() - spread.startMs);
    });
  }

  private endSpread(): void {
    this.cancelSpread?.();
    this.cancelSpread = undefined;
    this.spread = undefined;
  }

  /**
   * Deadlines are wall-clock seconds (OpenSIPS's `time()`), the timer runs on monotonic time. When the wall clock
   * jumps, the deadlines are moved by the same amount, so a step back does not delay every refresh past the
   * registrar's expiry and a step forward does not make the whole table due at once.
   */
  private detectClockJump(): void {
    const wallMs = this.deps.clock.nowMs();
    const monoMs = this.deps.clock.monoMs();
    const last = this.lastFiring;
    this.lastFiring = { wallMs, monoMs };
    if (last === undefined) return;
    const driftMs = wallMs - last.wallMs - (monoMs - last.monoMs);
    if (Math.abs(driftMs) < CLOCK_JUMP_MS) return;
    const driftSec = Math.round(driftMs / 1000);
    this.deps.log.warn({ driftSec }, "wall clock jumped; shifting every refresh and retry deadline by the same amount");
    this.deps.onClockJump?.(driftSec);
  }

  private visitSafely(rec: RegistrantRecord): void {
    try {
      this.deps.visit(rec);
    } catch (error) {
      this.deps.log.error({ err: error, aor: rec.aor }, "timer visit failed");
    }
  }

  private arm(): void {
    this.cancelTick = this.deps.timers.set(this.periodMs, () => {
      if (!this.running) return;
      try {
        this.tick();
      } catch (error) {
        this.deps.log.error({ err: error }, "timer tick failed");
      }
      if (this.running) this.arm();
    });
  }
}
