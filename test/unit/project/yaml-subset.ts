/**
 * A reader for the YAML that compose.yaml uses (no Docker engine or YAML library here): block mappings and
 * sequences by indentation, `- key: value` items, plain/quoted scalars, flow sequences and mappings written as
 * JSON (which may span lines), and `#` comments. Anything else (anchors, block scalars, tags) throws, so the file
 * cannot drift into YAML this reader would misread.
 */
interface Line {
  readonly indent: number;
  readonly text: string;
  readonly no: number;
}

export function parseYamlSubset(source: string): unknown {
  const lines: Line[] = [];
  source.split("\n").forEach((raw, i) => {
    const text = stripComment(raw).trimEnd();
    if (text.trim() === "") return;
    if (/\t/.test(raw.slice(0, raw.length - raw.trimStart().length))) throw new Error(`line ${i + 1}: tab indent`);
    lines.push({ indent: text.length - text.trimStart().length, text: text.trimStart(), no: i + 1 });
  });
  const reader = new Reader(lines);
  const value = reader.block(0);
  if (!reader.done()) throw new Error(`line ${reader.peek()?.no}: unexpected indentation`);
  return value;
}

function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1] ?? ""))) return line.slice(0, i);
  }
  return line;
}

class Reader {
  private pos = 0;
  constructor(private readonly lines: Line[]) {}

  done(): boolean {
    return this.pos >= this.lines.length;
  }

  peek(): Line | undefined {
    return this.lines[this.pos];
  }

  block(indent: number): unknown {
    const first = this.peek();
    if (!first || first.indent < indent) return null;
    return first.text.startsWith("- ") || first.text === "-" ? this.sequence(first.indent) : this.mapping(first.indent);
  }

  private mapping(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let line = this.peek(); line && line.indent === indent && !line.text.startsWith("-"); line = this.peek()) {
      const m = /^("(?:[^"\\]|\\.)*"|'[^']*'|[^\s"'#][^:]*?)\s*:(?:\s+(.*))?$/.exec(line.text);
      if (!m) throw new Error(`line ${line.no}: expected key: value, got ${line.text}`);
      const key = String(scalar(m[1] ?? "", line.no));
      if (key in out) throw new Error(`line ${line.no}: duplicate key ${key}`);
      this.pos++;
      const rest = m[2]?.trim() ?? "";
      if (rest !== "") out[key] = this.inline(rest, line);
      else {
        const next = this.peek();
        if (next && next.indent > indent && /^[[{]/.test(next.text)) {
          this.pos++;
          out[key] = this.inline(next.text, next);
        } else if (next && next.indent > indent) out[key] = this.block(next.indent);
        else if (next && next.indent === indent && next.text.startsWith("- ")) out[key] = this.sequence(indent);
        else out[key] = null;
      }
    }
    return out;
  }

  private sequence(indent: number): unknown[] {
    const out: unknown[] = [];
    for (let line = this.peek(); line && line.indent === indent && line.text.startsWith("-"); line = this.peek()) {
      const rest = line.text.slice(1).trim();
      if (rest === "") {
        this.pos++;
        out.push(this.block(indent + 1));
      } else if (/^[^\s"'[{][^:]*:(\s|$)/.test(rest) || /^"[^"]*":(\s|$)/.test(rest)) {
        // `- key: value` opens a mapping whose keys sit two columns further in
        this.lines[this.pos] = { indent: indent + 2, text: rest, no: line.no };
        out.push(this.mapping(indent + 2));
      } else {
        this.pos++;
        out.push(this.inline(rest, line));
      }
    }
    return out;
  }

  /** a scalar, or a flow collection (JSON syntax, trailing commas allowed) possibly continued on later lines */
  private inline(text: string, line: Line): unknown {
    if (/^[&*!|>]/.test(text)) throw new Error(`line ${line.no}: unsupported YAML (${text[0]})`);
    if (!text.startsWith("[") && !text.startsWith("{")) return scalar(text, line.no);
    let flow = text;
    while (!balanced(flow)) {
      const next = this.peek();
      if (!next) throw new Error(`line ${line.no}: unterminated flow collection`);
      flow += ` ${next.text}`;
      this.pos++;
    }
    return JSON.parse(flow.replace(/,\s*([\]}])/g, "$1")) as unknown;
  }
}

function balanced(text: string): boolean {
  let depth = 0;
  let quote = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === '"') quote = false;
    } else if (c === '"') quote = true;
    else if (c === "[" || c === "{") depth++;
    else if (c === "]" || c === "}") depth--;
  }
  return depth === 0;
}

function scalar(text: string, no: number): unknown {
  if (text.startsWith('"')) return JSON.parse(text) as unknown;
  if (text.startsWith("'")) {
    if (!text.endsWith("'")) throw new Error(`line ${no}: unterminated quote`);
    return text.slice(1, -1).replace(/''/g, "'");
  }
  if (/^(true|false)$/.test(text)) return text === "true";
  if (/^(null|~)$/.test(text)) return null;
  if (/^-?[0-9]+$/.test(text)) return Number(text);
  if (/^-?[0-9]+\.[0-9]+$/.test(text)) return Number(text);
  return text;
}
