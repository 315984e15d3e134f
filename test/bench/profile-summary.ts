/**
 * Reads a `node --cpu-prof` profile and prints where the time went: self time per function (top N) and per
 * source file, as shares of the sampled time. `npm run bench -- --profile DIR` writes the storm's profile.
 *
 *   node --import tsx test/bench/profile-summary.ts FILE.cpuprofile [top]
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
}

export interface ProfileLine {
  readonly name: string;
  readonly share: number;
}

export function summarize(
  profile: Profile,
  top = 25,
): { byFunction: ProfileLine[]; byFile: ProfileLine[]; inclusive: ProfileLine[] } {
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const h = hits.get(node.id) ?? 0;
    if (h === 0) continue;
    const f = node.callFrame;
    if (f.functionName === "(idle)" || f.functionName === "(program)") continue;
    total += h;
    const file = f.url.replace(/^.*\/(src|node_modules|test)\//, "$1/") || f.functionName;
    const name = `${f.functionName || "(anonymous)"} ${file}:${f.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + h);
    byFile.set(file, (byFile.get(file) ?? 0) + h);
  }
  // inclusive: every function on the sampled stack (once per stack) gets the sample
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const inclusive = new Map<string, number>();
  for (const [id, h] of hits) {
    const leaf = byId.get(id)?.callFrame.functionName;
    if (leaf === "(idle)" || leaf === "(program)") continue;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)!.callFrame;
      if (f.url === "") continue;
      seen.add(
        `${f.functionName || "(anonymous)"} ${f.url.replace(/^.*\/(src|node_modules|test)\//, "$1/")}:${f.lineNumber + 1}`,
      );
    }
    for (const name of seen) inclusive.set(name, (inclusive.get(name) ?? 0) + h);
  }
  const lines = (m: Map<string, number>): ProfileLine[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, h]) => ({ name, share: h / Math.max(total, 1) }));
  return { byFunction: lines(byFunction), byFile: lines(byFile), inclusive: lines(inclusive) };
}

if (process.argv[1]?.endsWith("profile-summary.ts") === true) {
  process.stdout.on("error", () => process.exit(0)); // piped into head
  const profile = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as Profile;
  const { byFunction, byFile, inclusive } = summarize(profile, Number(process.argv[3] ?? 25));
  const pct = (x: number): string => `${(x * 100).toFixed(1).padStart(5)}%`;
  console.log("self time by function (busy samples only):");
  for (const l of byFunction) console.log(`  ${pct(l.share)}  ${l.name}`);
  console.log("inclusive time by function (src/ and node: frames):");
  for (const l of inclusive) console.log(`  ${pct(l.share)}  ${l.name}`);
  console.log("self time by file:");
  for (const l of byFile) console.log(`  ${pct(l.share)}  ${l.name}`);
}
