import type { Coords } from "./coords.js";

const same = (a: Coords, b: Coords): boolean =>
  a.aor === b.aor && a.contact === b.contact && a.registrar === b.registrar;

/**
 * Items found by their full coordinates, keyed by the AOR string the item already holds: no joined key string per
 * entry (~120 B each, a million of them at a cold start), and the AOR's hash is computed once and cached in the
 * string. The few items sharing an AOR (other bindings or registrars) sit in a short list.
 */
export class CoordsIndex<T extends Coords> {
  private readonly byAor = new Map<string, T | T[]>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(c: Coords): T | undefined {
    const entry = this.byAor.get(c.aor);
    if (entry === undefined) return undefined;
    if (!Array.isArray(entry)) return same(entry, c) ? entry : undefined;
    return entry.find((item) => same(item, c));
  }

  /** False, and nothing added, when an item with the same coordinates is there already. */
  add(item: T): boolean {
    const entry = this.byAor.get(item.aor);
    if (entry === undefined) this.byAor.set(item.aor, item);
    else if (!Array.isArray(entry)) {
      if (same(entry, item)) return false;
      this.byAor.set(item.aor, [entry, item]);
    } else {
      if (entry.some((e) => same(e, item))) return false;
      entry.push(item);
    }
    this.#size++;
    return true;
  }

  /** Removes and returns the item at `c`'s coordinates. */
  take(c: Coords): T | undefined {
    const entry = this.byAor.get(c.aor);
    if (entry === undefined) return undefined;
    if (!Array.isArray(entry)) {
      if (!same(entry, c)) return undefined;
      this.byAor.delete(c.aor);
      this.#size--;
      return entry;
    }
    const i = entry.findIndex((item) => same(item, c));
    if (i < 0) return undefined;
    const [item] = entry.splice(i, 1);
    if (entry.length === 1) this.byAor.set(c.aor, entry[0]!);
    this.#size--;
    return item;
  }
}
