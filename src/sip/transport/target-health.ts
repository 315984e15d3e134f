import type { Clock } from "../../clock.js";
import { systemClock } from "../../clock.js";
import type { Target } from "./locate.js";

/**
 * Remembers targets that timed out, answered 503 or refused the connection, and moves them to the end of the
 * failover list for `holdMs` (RFC 3263 §4.3 lets a client skip a server known to be down). After that they
 * are tried again in their DNS order. A target that answers is forgotten at once.
 */
export class TargetHealth {
  private readonly failedUntil = new Map<string, number>();
  private readonly clock: Clock;

  constructor(
    private readonly holdMs = 60_000,
    clock?: Clock,
  ) {
    this.clock = clock ?? systemClock;
  }

  markFailed(t: Target): void {
    this.failedUntil.set(key(t), this.clock.monoMs() + this.holdMs);
  }

  markOk(t: Target): void {
    // the usual case, every target answering: no key to build
    if (this.failedUntil.size > 0) this.failedUntil.delete(key(t));
  }

  isFailed(t: Target): boolean {
    const until = this.failedUntil.get(key(t));
    if (until === undefined) return false;
    if (until <= this.clock.monoMs()) {
      this.failedUntil.delete(key(t));
      return false;
    }
    return true;
  }

  /** Healthy targets first, then the remembered failures (still tried when nothing else is left). */
  order(targets: readonly Target[]): readonly Target[] {
    if (this.failedUntil.size === 0) return targets;
    const healthy: Target[] = [];
    const failed: Target[] = [];
    for (const t of targets) (this.isFailed(t) ? failed : healthy).push(t);
    return [...healthy, ...failed];
  }
}

function key(t: Target): string {
  return `${t.transport}:${t.address}:${t.port}`;
}
