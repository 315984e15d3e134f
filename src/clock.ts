/** Injected time source: the engine never reads the wall clock itself, so tests drive it with fake time. */
export interface Clock {
  /** Wall-clock milliseconds since the epoch (what OpenSIPS's `time(NULL)` * 1000 would be). */
  nowMs(): number;
  /** Monotonic milliseconds, for timers and latencies. */
  monoMs(): number;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  monoMs: () => performance.now(),
};

/** A clock the test moves by hand. */
export class ManualClock implements Clock {
  constructor(
    private wallMs = 1_700_000_000_000,
    private mono = 0,
  ) {}
  nowMs(): number {
    return this.wallMs;
  }
  monoMs(): number {
    return this.mono;
  }
  advance(ms: number): void {
    this.wallMs += ms;
    this.mono += ms;
  }
}
