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
  /** registrar label → ms of its last success, boxed so a success costs one lookup of the registrar */
  private readonly lastSuccessMs = new Map<string, { atMs: number }>();
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
    return new Map([...this.lastSuccessMs].map(([label, last]) => [label, last.atMs]));
  }

  private noteSuccess(coords: Coords, atMs: number): void {
    // a registrar seen before is its own label: one lookup; a new or capped one goes through the label set
    let last = this.lastSuccessMs.get(coords.registrar);
    if (last === undefined) {
      const label = this.registrars.label(coords.registrar);
      last = this.lastSuccessMs.get(label);
      if (last === undefined) this.lastSuccessMs.set(label, (last = { atMs: 0 }));
    }
    if (atMs > last.atMs) last.atMs = atMs;
  }
}
