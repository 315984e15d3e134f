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
import { basename } from "node:path";

interface AllocNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  /** bytes, already scaled by the sampling */
  readonly selfSize: number;
  readonly children: readonly AllocNode[];
}

export interface AllocLine {
  readonly name: string;
  readonly bytesPerRegistration: number;
}

const frameName = (n: AllocNode): string => {
  const f = n.callFrame;
  const file = f.url === "" ? "" : ` ${f.url.slice(f.url.lastIndexOf("/") + 1)}:${f.lineNumber + 1}`;
  return `${f.functionName === "" ? "(anonymous)" : f.functionName}${file}`;
};

export function summarizeAllocations(
  head: AllocNode,
  registrations: number,
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
      .map(([name, bytes]) => ({ name, bytesPerRegistration: Math.round(bytes / registrations) }));
  return { total, self: lines(self), inclusive: lines(inclusive) };
}

if (process.argv[1]?.endsWith("alloc-summary.ts") === true) {
  const file = process.argv[2];
  if (file === undefined) throw new Error("usage: alloc-summary.ts FILE.heapprofile [registrations] [top]");
  const n = Number(process.argv[3] ?? /storm-(\d+)-/.exec(basename(file))?.[1]);
  if (!(n > 0)) throw new Error("registrations: give them, or keep the storm-N-PID file name");
  const { head } = JSON.parse(readFileSync(file, "utf8")) as { head: AllocNode };
  const s = summarizeAllocations(head, n, Number(process.argv[4] ?? 25));
  console.log(`${Math.round(s.total / n)} B allocated per registration (${n} registrations)`);
  for (const [title, lines] of [
    ["self", s.self],
    ["inclusive", s.inclusive],
  ] as const) {
    console.log(`\n${title}:`);
    for (const l of lines) console.log(`${String(l.bytesPerRegistration).padStart(8)} B  ${l.name}`);
  }
}
