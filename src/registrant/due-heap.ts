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
  private readonly items: T[] = [];

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
    const out: T[] = [];
    for (let top = this.items[0]; top !== undefined && top.dueSec <= nowSec; top = this.items[0]) {
      this.remove(top);
      out.push(top);
    }
    return out;
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
