/**
 * Reads the storm's allocation profile (`npm run bench -- --alloc-profile DIR` writes
 * `storm-N-PID.heapprofile`: V8's sampling heap profiler, objects already collected included) and prints the
 * bytes allocated per registration by function, self and inclusive. Less allocation is fewer scavenges and less
 * garbage promoted to the old generation (docs/performance.md).
 *
 *   node --import tsx test/bench/alloc-summary.ts FILE.heapprofile [registrations] [top]
 *
 * The number of registrations defaults to the N in the file name.
 */
import { readFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { basename } from "node:path";

interface AllocNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  /** bytes, already scaled by the sampling */
  readonly selfSize: number;
  readonly children: readonly AllocNode[];
}

export interface AllocLine {
  readonly name: string;
  /** bytes allocated per unit of work (a registration, a REGISTER) */
  readonly bytesEach: number;
}

const frameName = (n: AllocNode): string => {
  const f = n.callFrame;
  const file = f.url === "" ? "" : ` ${f.url.slice(f.url.lastIndexOf("/") + 1)}:${f.lineNumber + 1}`;
  return `${f.functionName === "" ? "(anonymous)" : f.functionName}${file}`;
};

export function summarizeAllocations(
  head: AllocNode,
  units: number,
  top = 25,
): { total: number; self: AllocLine[]; inclusive: AllocLine[] } {
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  // each node's subtree total, counted once per function on its path (recursion counted once)
  const walk = (node: AllocNode, onPath: ReadonlySet<string>): number => {
    const name = frameName(node);
    self.set(name, (self.get(name) ?? 0) + node.selfSize);
    const path = onPath.has(name) ? onPath : new Set(onPath).add(name);
    let total = node.selfSize;
    for (const child of node.children) total += walk(child, path);
    if (path !== onPath) inclusive.set(name, (inclusive.get(name) ?? 0) + total);
    return total;
  };
  const total = walk(head, new Set());
  const lines = (m: Map<string, number>): AllocLine[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, bytes]) => ({ name, bytesEach: Math.round(bytes / units) }));
  return { total, self: lines(self), inclusive: lines(inclusive) };
}

/**
 * Starts V8's sampling heap profiler on this process, objects already collected included (one sample per
 * `intervalBytes` on average); `stop()` gives the profile, what DevTools saves as a .heapprofile.
 */
export async function sampleAllocations(intervalBytes: number): Promise<{ stop(): Promise<{ head: AllocNode }> }> {
  const session = new Session();
  session.connect();
  await session.post("HeapProfiler.enable");
  // these two options are in the protocol (V8 ≥ 10.9) but not yet in @types/node
  const collected = { includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true };
  await session.post("HeapProfiler.startSampling", { samplingInterval: intervalBytes, ...collected });
  return {
    async stop() {
      const { profile } = await session.post("HeapProfiler.stopSampling");
      session.disconnect();
      return profile;
    },
  };
}

/** Prints the bytes allocated per unit of work (`unit`: "registration", "REGISTER"), in all and by function. */
export function printAllocations(head: AllocNode, units: number, unit: string, top = 25): void {
  const s = summarizeAllocations(head, units, top);
  console.log(`${Math.round(s.total / units)} B allocated per ${unit} (${units} of them)`);
  console.log("\nself:");
  for (const l of s.self) console.log(`${String(l.bytesEach).padStart(8)} B  ${l.name}`);
  console.log("\ninclusive:");
  for (const l of s.inclusive) console.log(`${String(l.bytesEach).padStart(8)} B  ${l.name}`);
}

if (process.argv[1]?.endsWith("alloc-summary.ts") === true) {
  const file = process.argv[2];
  if (file === undefined) throw new Error("usage: alloc-summary.ts FILE.heapprofile [registrations] [top]");
  const n = Number(process.argv[3] ?? /storm-(\d+)-/.exec(basename(file))?.[1]);
  if (!(n > 0)) throw new Error("registrations: give them, or keep the storm-N-PID file name");
  const { head } = JSON.parse(readFileSync(file, "utf8")) as { head: AllocNode };
  printAllocations(head, n, "registration", Number(process.argv[4] ?? 25));
}
