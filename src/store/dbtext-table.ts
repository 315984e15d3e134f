/**
 * OpenSIPS's db_text file format (modules/db_text): the first line declares the columns as
 * `name(type[,null|auto])` separated by spaces; every other line is one row, fields separated by `:`, an empty field
 * is NULL, and `\n \r \t \\ \: \0` are escaped inside strings.
 */

export type DbtextType = "int" | "long" | "double" | "str" | "string" | "blob" | "time";

export interface DbtextColumn {
  readonly name: string;
  readonly type: DbtextType;
  readonly nullable: boolean;
  readonly auto: boolean;
}

export type DbtextValue = string | number | null;

/** One data line: the decoded values and the raw field texts, so a rewrite can keep untouched fields byte-exact. */
export interface DbtextRow {
  readonly values: readonly DbtextValue[];
  readonly rawFields: readonly string[];
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

const INTEGER_TYPES: ReadonlySet<DbtextType> = new Set(["int", "long", "time"]);

/** Reads the column line. Like db_text, the type is known by its first letter (`string` is told from `str`). */
export function parseHeader(line: string): Parsed<DbtextColumn[]> {
  const columns: DbtextColumn[] = [];
  const specs = line.trim().split(/ +/);
  for (const spec of specs) {
    const m = /^([^(\s:]+)\(([^,)]*)(?:,([^)]*))?\)$/.exec(spec);
    if (!m) return { ok: false, error: `bad column definition "${spec}"` };
    const [, name = "", typeText = "", attrText] = m;
    const type = columnType(typeText.trim());
    if (!type) return { ok: false, error: `column ${name}: unknown type "${typeText}"` };
    const attr = attrText?.trim().toLowerCase();
    let nullable = false;
    let auto = false;
    if (attr !== undefined) {
      if (attr.startsWith("n")) nullable = true;
      else if (attr.startsWith("a") && type === "int" && !columns.some((c) => c.auto)) auto = true;
      else return { ok: false, error: `column ${name}: bad attribute "${attrText}"` };
    }
    columns.push({ name, type, nullable, auto });
  }
  if (columns.length === 0) return { ok: false, error: "no columns" };
  return { ok: true, value: columns };
}

function columnType(t: string): DbtextType | undefined {
  switch (t.charAt(0).toLowerCase()) {
    case "s":
      return /i/i.test(t) ? "string" : "str";
    case "i":
      return "int";
    case "l":
      return "long";
    case "d":
      return "double";
    case "b":
      return "blob";
    case "t":
      return "time";
    default:
      return undefined;
  }
}

export function formatHeader(columns: readonly DbtextColumn[]): string {
  return columns.map((c) => `${c.name}(${c.type}${c.nullable ? ",null" : c.auto ? ",auto" : ""})`).join(" ");
}

/** Splits a data line on unescaped `:`. */
export function splitFields(line: string): string[] {
  const fields: string[] = [];
  let start = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x5c /* \ */) i++;
    else if (c === 0x3a /* : */) {
      fields.push(line.slice(start, i));
      start = i + 1;
    }
  }
  fields.push(line.slice(start));
  return fields;
}

/**
 * Decodes one data line. A NULL in a column without `null` is passed on as NULL: the registrant load checks then
 * skip that row alone, where OpenSIPS's db_text would refuse the whole file.
 */
export function parseRow(line: string, columns: readonly DbtextColumn[]): Parsed<DbtextRow> {
  const rawFields = splitFields(line);
  if (rawFields.length !== columns.length) {
    return { ok: false, error: `${rawFields.length} fields, the header declares ${columns.length}` };
  }
  const values: DbtextValue[] = [];
  for (let i = 0; i < columns.length; i++) {
    const col = columns[i]!;
    const raw = rawFields[i]!;
    if (raw === "") {
      values.push(null);
      continue;
    }
    const v = decodeValue(raw, col.type);
    if (!v.ok) return { ok: false, error: `column ${col.name}: ${v.error}` };
    values.push(v.value);
  }
  return { ok: true, value: { values, rawFields } };
}

function decodeValue(raw: string, type: DbtextType): Parsed<string | number> {
  if (INTEGER_TYPES.has(type)) {
    if (!/^-?\d+$/.test(raw)) return { ok: false, error: `"${raw}" is not an integer` };
    return { ok: true, value: Number(raw) };
  }
  if (type === "double") {
    if (!/^-?\d+(\.\d*)?$/.test(raw)) return { ok: false, error: `"${raw}" is not a number` };
    return { ok: true, value: Number(raw) };
  }
  return unescapeText(raw);
}

const UNESCAPE: Readonly<Record<string, string>> = { n: "\n", r: "\r", t: "\t", "\\": "\\", ":": ":", "0": "\0" };

export function unescapeText(raw: string): Parsed<string> {
  if (!raw.includes("\\")) return { ok: true, value: raw };
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const next = raw[++i];
    const mapped = next === undefined ? undefined : UNESCAPE[next];
    if (mapped === undefined) return { ok: false, error: `bad escape "\\${next ?? ""}"` };
    out += mapped;
  }
  return { ok: true, value: out };
}

export function escapeText(s: string): string {
  return s.replace(/[\n\r\t\\:\0]/g, (c) => {
    switch (c) {
      case "\n":
        return "\\n";
      case "\r":
        return "\\r";
      case "\t":
        return "\\t";
      case "\0":
        return "\\0";
      default:
        return "\\" + c;
    }
  });
}

/** The field text for a value: NULL is empty, as db_text writes it. */
export function encodeValue(v: DbtextValue): string {
  if (v === null) return "";
  return typeof v === "number" ? String(v) : escapeText(v);
}

/** The lines of a file: `\n`-separated, a trailing `\r` dropped, empty lines kept so line numbers stay true. */
export function fileLines(content: string): string[] {
  const lines = content.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
}
