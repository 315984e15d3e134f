import { systemClock } from "../../clock.js";
import type { Clock } from "../../clock.js";

/** A scheduled callback; `cancel()` is O(1) and idempotent. */
export interface WheelTimer {
  cancel(): void;
}

/**
 * What a timer runs: an object with a method instead of a closure, so an owner that is already an object (a
 * transaction) schedules its timers without allocating a function each time.
 */
export interface WheelTask {
  onTimer(): void;
}

/** The wheel's count of live timers, shared with its entries so that cancelling needs no closure per timer. */
interface LiveCount {
  live: number;
}

class Entry implements WheelTimer {
  constructor(
    readonly dueTick: number,
    public task: WheelTask | undefined,
    private readonly count: LiveCount,
  ) {}

  cancel(): void {
    if (this.task === undefined) return;
    this.task = undefined;
    this.count.live--;
  }
}

export interface TimerWheelOptions {
  readonly clock?: Clock;
  /** Resolution in ms; timers fire up to one tick late, never early. */
  readonly tickMs?: number;
  /** Slots per revolution; a timer further away than one revolution waits in its slot for later rounds. */
  readonly slots?: number;
  /** false: nothing runs unless the owner calls `runDue()` (unit tests with a ManualClock). */
  readonly autoDrive?: boolean;
  /** A throwing callback must not stop the wheel; it is reported here (default: rethrown on the next tick). */
  readonly onError?: (err: unknown) => void;
}

/**
 * A hashed timing wheel (Varghese & Lauck) driven by ONE Node timer.
 *
 * Why: every open SIP transaction has a timer (E or F, whichever is next). With 100,000 REGISTERs in flight, one
 * Node timer each means 100,000+ entries in libuv's timer heap, each insert/remove O(log n) and each expiry a separate
 * callback into JS. Here scheduling and cancelling are O(1), and one tick visits one slot. The price is
 * resolution: a timer fires at most `tickMs` late (10 ms by default, far below SIP's 500 ms T1).
 *
 * The Node timer only runs while timers are pending, so an idle stack costs nothing and does not keep the
 * process alive on its own. Ticks missed while the event loop was blocked are caught up from the clock (at most
 * one revolution is walked, which visits every slot once).
 */
export class TimerWheel {
  private readonly clock: Clock;
  private readonly tickMs: number;
  private readonly slots: Entry[][];
  private readonly origin: number;
  private readonly autoDrive: boolean;
  private readonly onError: (err: unknown) => void;
  private lastTick: number;
  private readonly count: LiveCount = { live: 0 };
  private driver: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(opts: TimerWheelOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.tickMs = opts.tickMs ?? 10;
    const n = opts.slots ?? 1024;
    if (!(this.tickMs > 0) || !Number.isInteger(n) || n < 1) throw new Error("TimerWheel: bad tickMs/slots");
    this.slots = Array.from({ length: n }, () => []);
    this.origin = this.clock.monoMs();
    this.lastTick = 0;
    this.autoDrive = opts.autoDrive ?? true;
    this.onError =
      opts.onError ??
      ((err) =>
        process.nextTick(() => {
          throw err;
        }));
  }

  /** Number of timers scheduled and not yet fired or cancelled. */
  get size(): number {
    return this.count.live;
  }

  /**
   * Entries still in their slots, cancelled ones included: a cancelled entry leaves its slot only when the slot
   * comes round (tests and benches watch this).
   */
  get held(): number {
    let n = 0;
    for (const slot of this.slots) n += slot.length;
    return n;
  }

  /** The wheel's clock, for owners that keep deadlines of their own. */
  nowMs(): number {
    return this.clock.monoMs();
  }

  /** Runs `fire` once, no earlier than `delayMs` from now. */
  schedule(delayMs: number, fire: () => void): WheelTimer {
    return this.scheduleTask(delayMs, { onTimer: fire });
  }

  /**
   * Calls `task.onTimer()` once, no earlier than `delayMs` from now; `nowMs` is the clock's reading when the
   * caller has just made one (a transaction reads the clock once to start instead of twice more here).
   */
  scheduleTask(delayMs: number, task: WheelTask, nowMs = this.clock.monoMs()): WheelTimer {
    if (this.closed) throw new Error("TimerWheel: closed");
    const at = nowMs - this.origin + Math.max(0, delayMs);
    const dueTick = Math.max(this.lastTick + 1, Math.ceil(at / this.tickMs));
    const entry = new Entry(dueTick, task, this.count);
    const slot = this.slots[dueTick % this.slots.length];
    if (slot === undefined) throw new Error("TimerWheel: slot out of range");
    slot.push(entry);
    this.count.live++;
    this.arm();
    return entry;
  }

  /** Fires every timer due by now; returns how many fired. Called by the driver, or by tests. */
  runDue(): number {
    const nowTick = Math.floor((this.clock.monoMs() - this.origin) / this.tickMs);
    if (nowTick <= this.lastTick) return 0;
    const n = this.slots.length;
    // after a long stall one revolution visits every slot; later ticks would revisit the same slots
    const from = Math.max(this.lastTick + 1, nowTick - n + 1);
    this.lastTick = nowTick;
    let fired = 0;
    for (let tick = from; tick <= nowTick; tick++) {
      const idx = tick % n;
      const slot = this.slots[idx];
      if (slot === undefined || slot.length === 0) continue;
      const keep: Entry[] = [];
      const due: Entry[] = [];
      for (const e of slot) {
        if (e.task === undefined) continue;
        if (e.dueTick <= nowTick) due.push(e);
        else keep.push(e);
      }
      this.slots[idx] = keep;
      for (const e of due) {
        const task = e.task;
        if (task === undefined) continue; // cancelled by an earlier callback of this same tick
        e.task = undefined;
        this.count.live--;
        fired++;
        try {
          task.onTimer();
        } catch (err) {
          this.onError(err);
        }
      }
    }
    if (this.count.live === 0) this.disarm();
    return fired;
  }

  /** Drops every pending timer and stops the driver. */
  close(): void {
    this.closed = true;
    for (let i = 0; i < this.slots.length; i++) this.slots[i] = [];
    this.count.live = 0;
    this.disarm();
  }

  private arm(): void {
    if (!this.autoDrive || this.driver !== undefined) return;
    const tick = (): void => {
      this.runDue();
      if (this.count.live > 0 && this.driver !== undefined) this.driver.refresh();
    };
    this.driver = setTimeout(tick, this.tickMs);
  }

  private disarm(): void {
    if (this.driver === undefined) return;
    clearTimeout(this.driver);
    this.driver = undefined;
  }
}
