import type { Coords } from "../registrant/coords.js";
import { RegState } from "../registrant/state.js";
import type { StateChange, TableChange } from "../registrant/state-change.js";
import { BoundedLabels } from "./bounded-labels.js";

/** Record ids per page of start times: 8 KB each. */
const PAGE_SIZE = 1024;
/** Emptied pages kept for reuse, so a trickle of refreshes does not allocate and free a page per registration. */
const SPARE_PAGES = 16;

/**
 * Wall-clock ms by record id, NaN = none: typed-array pages indexed by the id, a page given back once none of its
 * ids has a time. Record ids are handed out in order and a reload gives new ones, so the pages follow the records
 * in flight. A `Map<number, number>` cost a boxed number per entry and rehashed as a storm filled and drained it
 * (~110 B allocated per registration); a million in flight take 8 MB here.
 */
export class TimesById {
  private readonly pages: (Float64Array | undefined)[] = [];
  /** ids with a time, per page */
  private readonly used: number[] = [];
  private readonly spare: Float64Array[] = [];

  get(id: number): number {
    return this.pages[Math.floor(id / PAGE_SIZE)]?.[id % PAGE_SIZE] ?? Number.NaN;
  }

  /** Sets the time of an id that has none. */
  setIfAbsent(id: number, ms: number): void {
    const p = Math.floor(id / PAGE_SIZE);
    const page = this.pages[p] ?? this.newPage(p);
    const i = id % PAGE_SIZE;
    if (!Number.isNaN(page[i]!)) return;
    page[i] = ms;
    this.used[p]!++;
  }

  /** The id's time (NaN if none), which it then no longer has. */
  take(id: number): number {
    const p = Math.floor(id / PAGE_SIZE);
    const page = this.pages[p];
    if (page === undefined) return Number.NaN;
    const i = id % PAGE_SIZE;
    const ms = page[i]!;
    if (Number.isNaN(ms)) return ms;
    page[i] = Number.NaN;
    if (--this.used[p]! === 0) this.dropPage(p, page);
    return ms;
  }

  private newPage(p: number): Float64Array {
    // an emptied page holds NaN everywhere already
    const page = this.spare.pop() ?? new Float64Array(PAGE_SIZE).fill(Number.NaN);
    this.pages[p] = page;
    this.used[p] = 0;
    return page;
  }

  private dropPage(p: number, page: Float64Array): void {
    this.pages[p] = undefined;
    if (this.spare.length < SPARE_PAGES) this.spare.push(page);
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
