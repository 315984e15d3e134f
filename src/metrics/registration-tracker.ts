import type { Coords } from "../registrant/coords.js";
import { RegState } from "../registrant/state.js";
import type { StateChange, TableChange } from "../registrant/state-change.js";
import { BoundedLabels } from "./bounded-labels.js";

/**
 * What the metrics learn from StateChanges alone: how long a registration took (from the change into
 * REGISTERING out of a settled state, through any 401/407 and 423 rounds, to REGISTERED) and, per registrar,
 * when a registration last succeeded. Memory is one start time per record in flight and one timestamp per
 * registrar label (capped).
 */
export class RegistrationTracker {
  private readonly started = new Map<number, number>();
  private readonly lastSuccessMs = new Map<string, number>();
  private readonly registrars: BoundedLabels;

  constructor(
    maxRegistrars: number,
    private readonly onRegistered: (seconds: number) => void,
  ) {
    this.registrars = new BoundedLabels(maxRegistrars);
  }

  onStateChange(change: StateChange): void {
    const to = change.to;
    if (to === RegState.REGISTERING_STATE) {
      // a 423 retry or a refresh's second round keeps the first start
      if (!this.started.has(change.recordId)) this.started.set(change.recordId, change.atMs);
    } else if (to === RegState.REGISTERED_STATE) {
      const t0 = this.started.get(change.recordId);
      this.started.delete(change.recordId);
      if (t0 !== undefined) this.onRegistered(Math.max(0, change.atMs - t0) / 1000);
      this.noteSuccess(change.coords, change.atMs);
    } else if (to !== RegState.AUTHENTICATING_STATE) {
      this.started.delete(change.recordId);
    }
  }

  onTableChange(change: TableChange): void {
    if (change.kind === "removed") this.started.delete(change.recordId);
  }

  /** registrar label → ms of the last success */
  lastSuccess(): ReadonlyMap<string, number> {
    return this.lastSuccessMs;
  }

  private noteSuccess(coords: Coords, atMs: number): void {
    const label = this.registrars.label(coords.registrar);
    const prev = this.lastSuccessMs.get(label) ?? 0;
    if (atMs > prev) this.lastSuccessMs.set(label, atMs);
  }
}
