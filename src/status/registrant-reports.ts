import type { Coords } from "../registrant/coords.js";
import { IdPages } from "../registrant/id-pages.js";
import { RegState, stateName } from "../registrant/state.js";
import type { RegStateValue } from "../registrant/state.js";

export const REPORTS_KEPT = 20;
/** slots per page: pages are added as the table grows, so no copy of the whole store and no doubling slack */
const PAGE_BITS = 10;
const PAGE = 1 << PAGE_BITS;
const NONE = -1;

/** The texts uac_registrant reports (reference uac-registrant §9), with their trailing newline. */
const STATE_COUNT = 10;
const CREATED = STATE_COUNT;
const TEXTS: readonly string[] = [
  ...Array.from({ length: STATE_COUNT }, (_, s) => `state changed to ${stateName(s as RegStateValue)}\n`),
  `created with state ${stateName(RegState.NOT_REGISTERED_STATE)}\n`,
];

/** One report as the reader gets it back: unix seconds and the shared text. */
export interface StoredReport {
  readonly timestampSec: number;
  readonly log: string;
}

class Page {
  /** report times (unix seconds) and text codes, REPORTS_KEPT per slot, a ring starting at `head` */
  readonly times = new Uint32Array(PAGE * REPORTS_KEPT);
  readonly logs = new Uint8Array(PAGE * REPORTS_KEPT);
  readonly head = new Uint8Array(PAGE);
  readonly count = new Uint8Array(PAGE);
  readonly state = new Uint8Array(PAGE);
  /** creation order (newer, older), so the listing reads as a Map keyed by identifier would */
  readonly newer = new Int32Array(PAGE);
  readonly older = new Int32Array(PAGE);
  /** next slot with the same AOR, or the next free slot */
  readonly next = new Int32Array(PAGE);
  /** the record id last bound to the slot (0: none), so a stale directory entry is recognised */
  readonly owner = new Int32Array(PAGE);
  /** the record's own strings (shared, not copied) */
  readonly aor: (string | undefined)[] = new Array<string | undefined>(PAGE).fill(undefined);
  readonly contact: (string | undefined)[] = new Array<string | undefined>(PAGE).fill(undefined);
  readonly registrar: (string | undefined)[] = new Array<string | undefined>(PAGE).fill(undefined);
}

/**
 * The uac_registrant group's identifiers, one slot per record coordinates, in typed-array pages: a state change
 * finds its slot through a Map keyed by the AOR string the record already holds (hashed once per string, never
 * rebuilt) and writes 5 bytes of report. About 170 B per record whatever the number of reports, instead of an
 * identifier string, an object and two growing arrays (docs/performance.md).
 */
export class RegistrantReports {
  private readonly pages: Page[] = [];
  /** AOR → first slot with that AOR (the others follow `next`) */
  private readonly byAor = new Map<string, number>();
  /** record id → slot (NONE: none), in pages kept while one of their ids is bound */
  private readonly slotById = new IdPages((size) => new Int32Array(size).fill(NONE), NONE);
  private freeSlot = NONE;
  private used = 0;
  private newest = NONE;

  /**
   * The slot bound to a record id, when it still holds these coordinates: a state change finds its identifier by
   * two array reads instead of a hash lookup (a storm's changes come in no useful order, so each lookup is a few
   * cache misses). NONE: look it up with `find`.
   */
  slotOfRecord(id: number, c: Coords): number {
    const s = this.slotById.get(id);
    if (s === NONE) return NONE;
    const p = this.pages[s >>> PAGE_BITS]!;
    const o = s & (PAGE - 1);
    return p.owner[o] === id && p.aor[o] === c.aor ? s : NONE;
  }

  bindRecord(id: number, s: number): void {
    this.slotById.set(id, s);
    this.pageOf(s).owner[s & (PAGE - 1)] = id;
  }

  /** the record is gone (removed, or replaced by one with a new id) */
  unbindRecord(id: number): void {
    this.slotById.take(id);
  }

  /** the slot of these coordinates, NONE when there is none */
  find(c: Coords): number {
    let s = this.byAor.get(c.aor) ?? NONE;
    while (s !== NONE) {
      const p = this.pages[s >>> PAGE_BITS]!;
      const o = s & (PAGE - 1);
      if (p.contact[o] === c.contact && p.registrar[o] === c.registrar) return s;
      s = p.next[o]!;
    }
    return NONE;
  }

  /** a new identifier in NOT_REGISTERED with its "created" report */
  create(c: Coords, atMs: number): number {
    const s = this.allocate();
    const p = this.pages[s >>> PAGE_BITS]!;
    const o = s & (PAGE - 1);
    p.aor[o] = c.aor;
    p.contact[o] = c.contact;
    p.registrar[o] = c.registrar;
    p.state[o] = RegState.NOT_REGISTERED_STATE;
    p.head[o] = 0;
    p.count[o] = 0;
    // the Map's key is always the first slot's own string, so a removed record's string is never kept
    p.next[o] = this.byAor.get(c.aor) ?? NONE;
    if (p.next[o] !== NONE) this.byAor.delete(c.aor);
    this.byAor.set(c.aor, s);
    p.newer[o] = NONE;
    p.older[o] = this.newest;
    if (this.newest !== NONE) this.pageOf(this.newest).newer[this.newest & (PAGE - 1)] = s;
    this.newest = s;
    this.push(p, o, atMs, CREATED);
    return s;
  }

  changeState(s: number, to: RegStateValue, atMs: number): void {
    const p = this.pages[s >>> PAGE_BITS]!;
    const o = s & (PAGE - 1);
    p.state[o] = to;
    this.push(p, o, atMs, to);
  }

  remove(s: number): void {
    const p = this.pageOf(s);
    const o = s & (PAGE - 1);
    const aor = p.aor[o]!;
    this.unlinkAor(aor, s, p.next[o]!);
    const newer = p.newer[o]!;
    const older = p.older[o]!;
    if (newer !== NONE) this.pageOf(newer).older[newer & (PAGE - 1)] = older;
    else this.newest = older;
    if (older !== NONE) this.pageOf(older).newer[older & (PAGE - 1)] = newer;
    p.aor[o] = p.contact[o] = p.registrar[o] = undefined;
    p.owner[o] = 0;
    p.next[o] = this.freeSlot;
    this.freeSlot = s;
  }

  /** slots, newest created first */
  *slots(): IterableIterator<number> {
    for (let s = this.newest; s !== NONE; s = this.pageOf(s).older[s & (PAGE - 1)]!) yield s;
  }

  coords(s: number): Coords {
    const p = this.pageOf(s);
    const o = s & (PAGE - 1);
    return { aor: p.aor[o]!, contact: p.contact[o]!, registrar: p.registrar[o]! };
  }

  state(s: number): RegStateValue {
    return this.pageOf(s).state[s & (PAGE - 1)] as RegStateValue;
  }

  /** oldest first */
  reports(s: number): StoredReport[] {
    const p = this.pageOf(s);
    const o = s & (PAGE - 1);
    const base = o * REPORTS_KEPT;
    const out: StoredReport[] = [];
    for (let i = 0, at = p.head[o]!; i < p.count[o]!; i++, at = at + 1 === REPORTS_KEPT ? 0 : at + 1) {
      out.push({ timestampSec: p.times[base + at]!, log: TEXTS[p.logs[base + at]!]! });
    }
    return out;
  }

  private push(p: Page, o: number, atMs: number, text: number): void {
    const base = o * REPORTS_KEPT;
    const count = p.count[o]!;
    let at = p.head[o]! + count;
    if (at >= REPORTS_KEPT) at -= REPORTS_KEPT;
    p.times[base + at] = Math.floor(atMs / 1000);
    p.logs[base + at] = text;
    if (count < REPORTS_KEPT) p.count[o] = count + 1;
    else p.head[o] = at + 1 === REPORTS_KEPT ? 0 : at + 1;
  }

  private allocate(): number {
    if (this.freeSlot !== NONE) {
      const s = this.freeSlot;
      this.freeSlot = this.pageOf(s).next[s & (PAGE - 1)]!;
      return s;
    }
    if (this.used === this.pages.length * PAGE) this.pages.push(new Page());
    return this.used++;
  }

  private unlinkAor(aor: string, s: number, next: number): void {
    const first = this.byAor.get(aor)!;
    if (first === s) {
      this.byAor.delete(aor);
      if (next !== NONE) this.byAor.set(this.pageOf(next).aor[next & (PAGE - 1)]!, next);
      return;
    }
    let prev = first;
    for (;;) {
      const pp = this.pageOf(prev);
      const after = pp.next[prev & (PAGE - 1)]!;
      if (after === s) {
        pp.next[prev & (PAGE - 1)] = next;
        return;
      }
      prev = after;
    }
  }

  private pageOf(s: number): Page {
    return this.pages[s >>> PAGE_BITS]!;
  }
}
