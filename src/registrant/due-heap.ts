/** What the heap needs of an entry: its key and a slot to remember its position. */
export interface HeapEntry {
  readonly id: number;
  dueSec: number;
  heapIndex: number;
}

/**
 * Indexed binary min-heap on `dueSec` (ties: lower id first, i.e. load order). One per bucket, so a tick costs
 * O(due · log n) instead of a walk over the bucket; entries know their index, so update and remove are O(log n).
 */
export class DueHeap<T extends HeapEntry> {
  private items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  /** Insert, move or (with dueSec = Infinity) remove an entry. */
  set(entry: T, dueSec: number): void {
    // the key of an entry out of the heap is left as it was: writing Infinity would box it per entry
    if (dueSec === Number.POSITIVE_INFINITY) return this.remove(entry);
    entry.dueSec = dueSec;
    if (entry.heapIndex < 0) {
      entry.heapIndex = this.items.length;
      this.items.push(entry);
      this.up(entry.heapIndex);
    } else {
      this.up(entry.heapIndex);
      this.down(entry.heapIndex);
    }
  }

  remove(entry: T): void {
    const i = entry.heapIndex;
    if (i < 0) return;
    const last = this.items.pop()!;
    entry.heapIndex = -1;
    if (last !== entry) {
      this.items[i] = last;
      last.heapIndex = i;
      this.up(i);
      this.down(last.heapIndex);
    }
  }

  peek(): T | undefined {
    return this.items[0];
  }

  /** Removes and returns every entry with dueSec <= nowSec, earliest first. */
  popDue(nowSec: number): T[] {
    if (this.items.length > 1 && this.items.every((e) => e.dueSec <= nowSec)) return this.popAll();
    const out: T[] = [];
    for (let top = this.items[0]; top !== undefined && top.dueSec <= nowSec; top = this.items[0]) {
      this.remove(top);
      out.push(top);
    }
    return out;
  }

  /**
   * Every entry is due (a storm: the whole table after a start). Popping them one by one cost ~2 µs each (a second
   * for a bucket of 500,000); the array is already in order when they were queued in order with one due time.
   */
  private popAll(): T[] {
    const all = this.items;
    this.items = [];
    let sorted = true;
    for (let i = 0; i < all.length; i++) {
      all[i]!.heapIndex = -1;
      if (i > 0 && this.less(all[i]!, all[i - 1]!)) sorted = false;
    }
    if (!sorted) all.sort((a, b) => (this.less(a, b) ? -1 : this.less(b, a) ? 1 : 0));
    return all;
  }

  private less(a: T, b: T): boolean {
    return a.dueSec < b.dueSec || (a.dueSec === b.dueSec && a.id < b.id);
  }

  private up(i: number): void {
    const items = this.items;
    const e = items[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = items[p]!;
      if (!this.less(e, parent)) break;
      items[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    items[i] = e;
    e.heapIndex = i;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const e = items[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(items[r]!, items[l]!) ? r : l;
      const child = items[c]!;
      if (!this.less(child, e)) break;
      items[i] = child;
      child.heapIndex = i;
      i = c;
    }
    items[i] = e;
    e.heapIndex = i;
  }
}
