import type { Coords } from "../registrant/coords.js";
import { RegState } from "../registrant/state.js";
import type { StateChange, TableChange } from "../registrant/state-change.js";
import { IdPages } from "../registrant/id-pages.js";
import { BoundedLabels } from "./bounded-labels.js";

/**
 * Wall-clock ms by record id, NaN = none (a time of 0 is a time). A `Map<number, number>` cost a boxed number per
 * entry and rehashed as a storm filled and drained it (~110 B allocated per registration); a million in flight
 * take 8 MB here.
 */
export class TimesById {
  private readonly times = new IdPages((size) => new Float64Array(size).fill(Number.NaN), Number.NaN);

  get(id: number): number {
    return this.times.get(id);
  }

  /** Sets the time of an id that has none. */
  setIfAbsent(id: number, ms: number): void {
    if (Number.isNaN(this.times.get(id))) this.times.set(id, ms);
  }

  /** The id's time (NaN if none), which it then no longer has. */
  take(id: number): number {
    return this.times.take(id);
  }
}

/**
 * What the metrics learn from StateChanges alone: how long a registration took (from the change into
 * REGISTERING out of a settled state, through any 401/407 and 423 rounds, to REGISTERED) and, per registrar,
 * when a registration last succeeded. Memory is one start time per record in flight and one timestamp per
 * registrar label (capped).
 */
export class RegistrationTracker {
  private readonly started = new TimesById();
  /** registrar label → ms of its last success, boxed so a success costs one lookup of the registrar */
  private readonly lastSuccessMs = new Map<string, { atMs: number }>();
  /** the registrar of the last success and its box: a storm towards one registrar needs no lookup at all */
  private lastRegistrar: string | undefined;
  private lastBox = { atMs: 0 };
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
      this.started.setIfAbsent(change.recordId, change.atMs);
    } else if (to === RegState.REGISTERED_STATE) {
      const t0 = this.started.take(change.recordId);
      if (!Number.isNaN(t0)) this.onRegistered(Math.max(0, change.atMs - t0) / 1000);
      this.noteSuccess(change.coords, change.atMs);
    } else if (to !== RegState.AUTHENTICATING_STATE) {
      this.started.take(change.recordId);
    }
  }

  onTableChange(change: TableChange): void {
    if (change.kind === "removed") this.started.take(change.recordId);
  }

  /** registrar label → ms of the last success */
  lastSuccess(): ReadonlyMap<string, number> {
    return new Map([...this.lastSuccessMs].map(([label, last]) => [label, last.atMs]));
  }

  private noteSuccess(coords: Coords, atMs: number): void {
    const last = coords.registrar === this.lastRegistrar ? this.lastBox : this.boxOf(coords.registrar);
    if (atMs > last.atMs) last.atMs = atMs;
  }

  private boxOf(registrar: string): { atMs: number } {
    // a registrar seen before is its own label: one lookup; a new or capped one goes through the label set
    let box = this.lastSuccessMs.get(registrar);
    if (box === undefined) {
      const label = this.registrars.label(registrar);
      box = this.lastSuccessMs.get(label);
      if (box === undefined) this.lastSuccessMs.set(label, (box = { atMs: 0 }));
    }
    this.lastRegistrar = registrar;
    this.lastBox = box;
    return box;
  }
}
