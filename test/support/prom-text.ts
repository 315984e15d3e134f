/**
 * A strict parser for the Prometheus text exposition format 0.0.4, for tests that check what /metrics serves.
 * It refuses what Prometheus' own parser refuses, plus the rules the format states but scrapers let slide:
 * one HELP and one TYPE per family, TYPE before the family's first sample, a family's lines contiguous, no
 * duplicate series, histogram buckets cumulative and ending with le="+Inf" equal to _count, counters >= 0,
 * a final newline.
 */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface PromFamily {
  readonly name: string;
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  help?: string;
  readonly samples: PromSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

export class PromParseError extends Error {
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
  }
}

export function parsePromText(text: string): Map<string, PromFamily> {
  if (text.length > 0 && !text.endsWith("\n")) throw new PromParseError(0, "the exposition must end with a newline");
  const families = new Map<string, PromFamily>();
  const closed = new Set<string>();
  const series = new Set<string>();
  const typed = new Set<string>();
  let current: string | undefined;
  const lines = text.split("\n").slice(0, -1);

  const enter = (family: string, lineNo: number): PromFamily => {
    if (current !== family) {
      if (closed.has(family)) throw new PromParseError(lineNo, `lines of ${family} are not contiguous`);
      if (current !== undefined) closed.add(current);
      current = family;
    }
    let f = families.get(family);
    if (!f) families.set(family, (f = { name: family, type: "untyped", samples: [] }));
    return f;
  };

  lines.forEach((line, i) => {
    const n = i + 1;
    if (line === "") return;
    if (line.startsWith("#")) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (!m) return; // a plain comment
      const [, kw, name, rest = ""] = m;
      if (!METRIC_NAME.test(name!)) throw new PromParseError(n, `bad metric name ${name}`);
      const f = enter(name!, n);
      if (kw === "HELP") {
        if (f.help !== undefined) throw new PromParseError(n, `second HELP for ${name}`);
        f.help = unescapeHelp(rest, n);
      } else {
        if (!TYPES.has(rest)) throw new PromParseError(n, `bad type ${rest}`);
        if (f.samples.length > 0) throw new PromParseError(n, `TYPE for ${name} after its samples`);
        if (typed.has(name!)) throw new PromParseError(n, `second TYPE for ${name}`);
        typed.add(name!);
        f.type = rest as PromFamily["type"];
      }
      return;
    }
    const sample = parseSample(line, n);
    const family = familyOf(sample.name, families);
    const f = enter(family, n);
    if (sample.name !== family) {
      const suffix = sample.name.slice(family.length);
      const ok =
        (f.type === "histogram" && ["_bucket", "_sum", "_count"].includes(suffix)) ||
        (f.type === "summary" && ["_sum", "_count"].includes(suffix));
      if (!ok) throw new PromParseError(n, `${sample.name} does not belong to ${f.type} ${family}`);
    }
    if (f.type === "histogram" && sample.name === `${family}_bucket` && sample.labels["le"] === undefined)
      throw new PromParseError(n, "histogram bucket without le");
    if (f.type === "counter" && !(sample.value >= 0))
      throw new PromParseError(n, `counter ${sample.name} is ${sample.value}`);
    const key = `${sample.name}{${Object.keys(sample.labels)
      .sort()
      .map((k) => `${k}=${JSON.stringify(sample.labels[k])}`)
      .join(",")}}`;
    if (series.has(key)) throw new PromParseError(n, `duplicate series ${key}`);
    series.add(key);
    f.samples.push(sample);
  });

  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return families;
}

function familyOf(name: string, families: Map<string, PromFamily>): string {
  if (families.has(name)) return name;
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      const f = families.get(base);
      if (f && (f.type === "histogram" || f.type === "summary")) return base;
    }
  }
  return name;
}

function parseSample(line: string, n: number): PromSample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) throw new PromParseError(n, `bad sample line: ${line}`);
  const name = nameMatch[0];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === "{") {
    i++;
    for (;;) {
      if (line[i] === "}") {
        i++;
        break;
      }
      const ln = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
      if (!ln || !LABEL_NAME.test(ln[0])) throw new PromParseError(n, `bad label name at ${i}`);
      const label = ln[0];
      i += label.length;
      if (line[i] !== "=" || line[i + 1] !== '"') throw new PromParseError(n, `expected =" after ${label}`);
      i += 2;
      let value = "";
      for (;;) {
        const c = line[i];
        if (c === undefined) throw new PromParseError(n, "unterminated label value");
        if (c === '"') break;
        if (c === "\\") {
          const e = line[i + 1];
          if (e === "\\") value += "\\";
          else if (e === '"') value += '"';
          else if (e === "n") value += "\n";
          else throw new PromParseError(n, `bad escape \\${e}`);
          i += 2;
          continue;
        }
        value += c;
        i++;
      }
      i++;
      if (label in labels) throw new PromParseError(n, `label ${label} twice`);
      labels[label] = value;
      if (line[i] === ",") i++;
      else if (line[i] !== "}") throw new PromParseError(n, `expected , or } at ${i}`);
    }
  }
  const rest = line.slice(i);
  const m = /^ (\S+)(?: (-?\d+))?$/.exec(rest);
  if (!m) throw new PromParseError(n, `bad value part '${rest}'`);
  return { name, labels, value: parseValue(m[1]!, n) };
}

/** Prometheus reads values with Go's strconv.ParseFloat: "NaN", "+Inf", "-Inf" in any case ("Nan" from prom-client). */
function parseValue(s: string, n: number): number {
  const special = /^([-+]?)(inf|infinity|nan)$/i.exec(s);
  if (special) {
    if (special[2]!.toLowerCase() === "nan") return NaN;
    return special[1] === "-" ? -Infinity : Infinity;
  }
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new PromParseError(n, `bad value ${s}`);
  return Number(s);
}

function unescapeHelp(s: string, n: number): string {
  return s.replace(/\\(.)?/g, (_m, c: string | undefined) => {
    if (c === "\\") return "\\";
    if (c === "n") return "\n";
    throw new PromParseError(n, `bad HELP escape \\${c ?? ""}`);
  });
}

function checkHistogram(f: PromFamily): void {
  const groups = new Map<string, { buckets: { le: number; v: number }[]; count?: number; sum?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { buckets: [] }));
    if (s.name.endsWith("_bucket")) g.buckets.push({ le: parseValue(le!, 0), v: s.value });
    else if (s.name.endsWith("_count")) g.count = s.value;
    else if (s.name.endsWith("_sum")) g.sum = s.value;
  }
  for (const [key, g] of groups) {
    const sorted = [...g.buckets].sort((a, b) => a.le - b.le);
    for (let i = 1; i < sorted.length; i++)
      if (sorted[i]!.v < sorted[i - 1]!.v) throw new PromParseError(0, `${f.name}${key}: buckets not cumulative`);
    const inf = sorted.at(-1);
    if (!inf || inf.le !== Infinity) throw new PromParseError(0, `${f.name}${key}: no le="+Inf" bucket`);
    if (g.count === undefined || g.sum === undefined)
      throw new PromParseError(0, `${f.name}${key}: _count or _sum missing`);
    if (inf.v !== g.count) throw new PromParseError(0, `${f.name}${key}: +Inf bucket ${inf.v} != _count ${g.count}`);
  }
}

/** The value of one series, or undefined. */
export function sampleValue(
  families: Map<string, PromFamily>,
  family: string,
  labels: Readonly<Record<string, string>> = {},
  sampleName = family,
): number | undefined {
  const f = families.get(family);
  const want = Object.entries(labels);
  const s = f?.samples.find((x) => x.name === sampleName && want.every(([k, v]) => x.labels[k] === v));
  return s?.value;
}
