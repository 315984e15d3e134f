import { setFlagsFromString } from "node:v8";

/**
 * How far V8 lets the old generation grow past what the last full collection kept alive, before the next one.
 * Left to itself V8 picks a factor of up to 4 while collections are cheap, and a registration storm of a million
 * records promotes its finished transactions faster than that: 600 MB of records became a 3 GB process
 * (docs/performance.md, "Memory"). A fixed factor trades a few more concurrent collections for an RSS that stays
 * near the live data. V8 reads the flag at each collection, so setting it at start-up takes effect at once;
 * 0 gives V8's own choice back.
 */
export function applyHeapGrowth(percent: number): void {
  if (!Number.isInteger(percent) || percent < 0)
    throw new RangeError("heap_growth_percent must be a whole number, 0 or more");
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}
