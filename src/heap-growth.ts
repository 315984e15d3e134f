import { PerformanceObserver, constants } from "node:perf_hooks";
import { getHeapStatistics, setFlagsFromString } from "node:v8";

/** The growing factor's bounds, in percent over the live data (V8 itself uses 10 % to 300 %). */
const MIN_PERCENT = 10;
const MAX_PERCENT = 300;

/**
 * How far V8 may let the old generation grow past what the last full collection kept alive, in percent, so that
 * the garbage allowed to pile up stays near `headroomBytes`.
 */
export function growthPercent(liveBytes: number, headroomBytes: number): number {
  if (liveBytes <= 0) return MAX_PERCENT;
  return Math.min(MAX_PERCENT, Math.max(MIN_PERCENT, Math.round((headroomBytes * 100) / liveBytes)));
}

/** The most a heap is expected to grow between two full collections (V8's own upper factor). */
const MAX_GROWTH = 4;

/**
 * The factor to set after a full collection that found `liveBytes` alive, the previous one `previousLiveBytes`.
 * V8 applies the factor at the next full collection, to the live data found then: while the heap grows (a load,
 * the first registrations of a storm) that is more than now, so the factor aims at the live data the growth of
 * the last interval predicts. Without this the limit set at the end of a million-record load let the storm's
 * first collection come 450 MB later instead of 256 MB.
 */
export function nextGrowthPercent(liveBytes: number, previousLiveBytes: number, headroomBytes: number): number {
  const growth = previousLiveBytes > 0 ? Math.min(MAX_GROWTH, Math.max(1, liveBytes / previousLiveBytes)) : 1;
  return growthPercent(liveBytes * growth, headroomBytes);
}

/**
 * Keeps the JavaScript heap within about `headroomMb` of its live data. Left to itself V8 lets the old generation
 * grow up to four times the live data while collections are cheap: a storm of a million records, 600 MB of them,
 * became a 2-3 GB process (docs/performance.md, "Memory"). A fixed factor would make a small table pay for a large
 * one (at 100,000 records, 50 % cost a fifth more CPU), so the factor follows the live data: after each full
 * collection it is set so that the next one comes `headroomMb` later. V8 reads the flag at each collection.
 * 0 = V8's own choice. Returns the function that stops following.
 */
export function limitHeapHeadroom(headroomMb: number): () => void {
  if (!Number.isInteger(headroomMb) || headroomMb < 0) {
    throw new RangeError("heap_headroom_mb must be a whole number, 0 or more");
  }
  if (headroomMb === 0) {
    setFlagsFromString("--heap-growing-percent=0");
    return () => undefined;
  }
  const headroom = headroomMb * 2 ** 20;
  let current = -1;
  let previousLive = 0;
  const follow = (): void => {
    const live = getHeapStatistics().used_heap_size;
    const percent = nextGrowthPercent(live, previousLive, headroom);
    previousLive = live;
    if (percent === current) return;
    current = percent;
    setFlagsFromString(`--heap-growing-percent=${percent}`);
  };
  follow();
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      // a gc entry's detail says which collection ran (Node ≥ 16)
      const kind = (entry as { readonly detail?: { readonly kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) return follow();
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  return () => observer.disconnect();
}
