/** Record ids per page: 8 KB of times or 4 KB of slots. */
const PAGE_SIZE = 1024;
/** Emptied pages kept for reuse, so a trickle of changes does not allocate and free a page each time. */
const SPARE_PAGES = 16;

type Page = Float64Array | Int32Array;

/**
 * A number per record id in typed-array pages indexed by the id, `none` where there is none; a page is given back
 * once none of its ids has a value. Record ids are handed out in order and a reload gives new ones, so the pages
 * follow the records alive. A `Map<number, number>` costs an entry (and a boxed number for a non-integer) per id
 * and rehashes as it fills and drains; a million ids take 4-8 MB here.
 */
export class IdPages {
  private readonly pages: (Page | undefined)[] = [];
  /** ids with a value, per page */
  private readonly used: number[] = [];
  private readonly spare: Page[] = [];
  private readonly noneIsNaN: boolean;

  /** `newPage` makes a page of PAGE_SIZE numbers, each `none` (NaN or an integer the values never take). */
  constructor(
    private readonly newPage: (size: number) => Page,
    readonly none: number,
  ) {
    this.noneIsNaN = Number.isNaN(none);
  }

  get(id: number): number {
    return this.pages[Math.floor(id / PAGE_SIZE)]?.[id % PAGE_SIZE] ?? this.none;
  }

  isNone(value: number): boolean {
    return this.noneIsNaN ? Number.isNaN(value) : value === this.none;
  }

  /** Sets the id's value (not `none`), replacing any it had. */
  set(id: number, value: number): void {
    const p = Math.floor(id / PAGE_SIZE);
    const page = this.pages[p] ?? this.addPage(p);
    const i = id % PAGE_SIZE;
    if (this.isNone(page[i]!)) this.used[p]!++;
    page[i] = value;
  }

  /** The id's value (`none` if it had none), which it then no longer has. */
  take(id: number): number {
    const p = Math.floor(id / PAGE_SIZE);
    const page = this.pages[p];
    if (page === undefined) return this.none;
    const i = id % PAGE_SIZE;
    const value = page[i]!;
    if (this.isNone(value)) return value;
    page[i] = this.none;
    if (--this.used[p]! === 0) {
      this.pages[p] = undefined;
      // an emptied page holds `none` everywhere already
      if (this.spare.length < SPARE_PAGES) this.spare.push(page);
    }
    return value;
  }

  private addPage(p: number): Page {
    const page = this.spare.pop() ?? this.newPage(PAGE_SIZE);
    this.pages[p] = page;
    this.used[p] = 0;
    return page;
  }
}
