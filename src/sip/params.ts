/**
 * Low-level scanners shared by the header readers: quoted strings, comma lists and `;name=value` parameter
 * lists (RFC 3261 §25.1 `quoted-string`, `generic-param`, `#rule` lists). They work on one header value and
 * return -1 / undefined instead of throwing.
 */

const TAB = 0x09;
const SPACE = 0x20;
const QUOTE = 0x22;
const COMMA = 0x2c;
const SEMI = 0x3b;
const LT = 0x3c;
const EQ = 0x3d;
const BACKSLASH = 0x5c;

/** RFC 3261 §25.1 `token` characters: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~". */
const TOKEN = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~") TOKEN[c.charCodeAt(0)] = 1;

export function isTokenChar(code: number): boolean {
  return code < 128 && TOKEN[code] === 1;
}

/** True when `text` is a non-empty RFC 3261 token. */
export function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (!isTokenChar(text.charCodeAt(i))) return false;
  return true;
}

export function isWs(code: number): boolean {
  return code === SPACE || code === TAB;
}

export function skipWs(s: string, i: number, end = s.length): number {
  while (i < end && isWs(s.charCodeAt(i))) i++;
  return i;
}

/** End of an unquoted parameter value (token or host) at `i`: IPv6 references bring "[", "]" and ":" along. */
function paramValueEnd(s: string, i: number, end: number): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (!isTokenChar(c) && c !== 0x3a && c !== 0x5b && c !== 0x5d) break;
    i++;
  }
  return i;
}

/**
 * `s[i]` must be the opening `"`. Returns the index just after the closing quote, or -1 when the string is
 * unterminated (a `\` escapes the next character, RFC 3261 §25.1 `quoted-pair`).
 */
export function scanQuoted(s: string, i: number, end = s.length): number {
  for (let j = i + 1; j < end; j++) {
    const c = s.charCodeAt(j);
    if (c === BACKSLASH) j++;
    else if (c === QUOTE) return j + 1;
  }
  return -1;
}

/**
 * Known lower-case spellings, grouped by length: `at` finds the one a token spells, in any case, where it lies in
 * its text, so no string is cut, lower-cased or hashed to recognise it.
 */
export class SpellingIndex<T> {
  readonly #byLength: (readonly [string, T])[][] = [];

  constructor(entries: Iterable<readonly [spelling: string, value: T]>) {
    for (const entry of entries) (this.#byLength[entry[0].length] ??= []).push(entry);
  }

  /** The value of the spelling `s[start..end)` matches, or undefined. */
  at(s: string, start: number, end: number): T | undefined {
    const candidates = this.#byLength[end - start];
    if (candidates === undefined) return undefined;
    for (const entry of candidates) if (equalsLowerAt(s, start, entry[0])) return entry[1];
    return undefined;
  }
}

/**
 * Parameter names the SIP layer reads (digest auth-params, Via, Contact and URI parameters): a name spelt like
 * one of them in any case is returned as this constant (Map lookups with a constant key reuse its cached hash).
 */
const KNOWN_NAMES = new SpellingIndex(
  [
    "realm",
    "nonce",
    "qop",
    "algorithm",
    "opaque",
    "stale",
    "domain",
    "branch",
    "received",
    "rport",
    "maddr",
    "ttl",
    "expires",
    "q",
    "tag",
    "transport",
    "user",
    "lr",
    "method",
  ].map((name) => [name, name] as const),
);

/** `s.slice(start, end).toLowerCase()` for a token (ASCII only), without a new string for the usual names. */
export function lowerToken(s: string, start: number, end: number): string {
  return KNOWN_NAMES.at(s, start, end) ?? s.slice(start, end).toLowerCase();
}

/**
 * True when `s` at `start` spells `lower` (letters, digits and "-") in any case. Setting bit 5 folds an ASCII
 * capital onto its small letter and leaves digits and "-" as they are; a token holds no other character it
 * could fold onto one of these.
 */
export function equalsLowerAt(s: string, start: number, lower: string): boolean {
  for (let k = 0; k < lower.length; k++) if ((s.charCodeAt(start + k) | 0x20) !== lower.charCodeAt(k)) return false;
  return true;
}

/** Content of the quoted string `s[open..close)` (quotes included in the range), `\x` escapes resolved. */
export function unquoteRange(s: string, open: number, close: number): string {
  const backslash = s.indexOf("\\", open);
  return backslash >= 0 && backslash < close ? unquote(s.slice(open, close)) : s.slice(open + 1, close - 1);
}

/** Content of a quoted string (without the quotes), with `\x` escapes resolved. */
export function unquote(quoted: string): string {
  const inner = quoted.length >= 2 && quoted.charCodeAt(0) === QUOTE ? quoted.slice(1, -1) : quoted;
  return inner.includes("\\") ? inner.replace(/\\(.)/gs, "$1") : inner;
}

/** `text` as a quoted-string: `"` and `\` escaped. */
export function quote(text: string): string {
  return `"${escapeQuoted(text)}"`;
}

/** `text` with `"` and `\` escaped for a quoted-string: `text` itself when there is nothing to escape. */
export function escapeQuoted(text: string): string {
  // most values (user names, nonces, URIs) have nothing to escape: skip the regular expression
  if (!text.includes('"') && !text.includes("\\")) return text;
  return text.replace(/["\\]/g, "\\$&");
}

/**
 * Splits a header value on top-level commas: commas inside quoted strings and inside `<...>` do not count.
 * Returns undefined when a quote or angle bracket is left open. Items are trimmed; empty items are kept
 * so the caller can decide (RFC 7230 §7 allows empty list elements, a Contact list does not).
 */
export function splitCommaList(value: string): string[] | undefined {
  const out: string[] = [];
  for (let start = 0; ;) {
    const end = commaItemEnd(value, start);
    if (end < 0) return undefined;
    out.push(value.slice(start, end).trim());
    if (end >= value.length) return out;
    start = end + 1;
  }
}

/**
 * End of the comma-list item starting at `i` (splitCommaList's rule): the index of the next top-level comma, or
 * the value's length; -1 when a quote or angle bracket is left open.
 */
export function commaItemEnd(value: string, i: number): number {
  const n = value.length;
  while (i < n) {
    const c = value.charCodeAt(i);
    if (c === QUOTE) {
      i = scanQuoted(value, i, n);
      if (i < 0) return -1;
      continue;
    }
    if (c === LT) {
      const close = value.indexOf(">", i + 1);
      if (close < 0) return -1;
      i = close + 1;
      continue;
    }
    if (c === COMMA) return i;
    i++;
  }
  return n;
}

/** What `String.prototype.trim` removes: ECMAScript WhiteSpace and LineTerminator. */
function isJsWhiteSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** Where `value.slice(start, end).trim()` starts. */
export function trimStart(value: string, start: number, end: number): number {
  while (start < end && isJsWhiteSpace(value.charCodeAt(start))) start++;
  return start;
}

/** Where `value.slice(start, end).trim()` ends. */
export function trimEnd(value: string, start: number, end: number): number {
  while (end > start && isJsWhiteSpace(value.charCodeAt(end - 1))) end--;
  return end;
}

/**
 * Parses `*( SEMI generic-param )` from `s[start]` to `end` (RFC 3261 §25.1: `generic-param = token
 * [ EQUAL gen-value ]`, `gen-value = token / host / quoted-string`). Names are lower-cased (they compare
 * case-insensitively); values are kept as written, quotes included; a name without `=` maps to null. The
 * first occurrence of a repeated name wins. Returns undefined on a malformed list.
 */
export function parseGenericParams(s: string, start: number, end = s.length): Map<string, string | null> | undefined {
  const params = new Map<string, string | null>();
  const p = scratchParam;
  for (let i = skipWs(s, start, end); i < end;) {
    i = readGenericParam(s, i, end, p);
    if (i < 0) return undefined;
    const name = lowerToken(s, p.nameStart, p.nameEnd);
    if (!params.has(name)) params.set(name, p.valueStart < 0 ? null : s.slice(p.valueStart, p.valueEnd));
  }
  return params;
}

/**
 * The first value of the parameter named `lower` (lower-case letters, digits and "-"; matched in any case) in
 * `*( SEMI generic-param )` at `s[start, end)`, the list read as parseGenericParams reads it, without its map:
 * false when the list is malformed, undefined when the name is absent, null when it has no value.
 */
export function genericParam(s: string, start: number, end: number, lower: string): string | null | undefined | false {
  let found: string | null | undefined;
  const p = scratchParam;
  for (let i = skipWs(s, start, end); i < end;) {
    i = readGenericParam(s, i, end, p);
    if (i < 0) return false;
    if (found === undefined && p.nameEnd - p.nameStart === lower.length && equalsLowerAt(s, p.nameStart, lower)) {
      found = p.valueStart < 0 ? null : s.slice(p.valueStart, p.valueEnd);
    }
  }
  return found;
}

/** Where readGenericParam found a parameter's name and value in the text (`valueStart` -1: no value). */
interface ParamSpan {
  nameStart: number;
  nameEnd: number;
  valueStart: number;
  valueEnd: number;
}

/** One reader at a time uses it, between two reads: no object per parameter. */
const scratchParam: ParamSpan = { nameStart: 0, nameEnd: 0, valueStart: -1, valueEnd: -1 };

/**
 * Reads one `SEMI generic-param` at `s[i]` (RFC 3261 §25.1: `generic-param = token [ EQUAL gen-value ]`,
 * `gen-value = token / host / quoted-string`), below `end`, into `span`: the index after it and the white space
 * that follows, or -1 when it is malformed.
 */
function readGenericParam(s: string, i: number, end: number, span: ParamSpan): number {
  if (s.charCodeAt(i) !== SEMI) return -1;
  i = skipWs(s, i + 1, end);
  span.nameStart = i;
  while (i < end && isTokenChar(s.charCodeAt(i))) i++;
  if (i === span.nameStart) return -1;
  span.nameEnd = i;
  span.valueStart = -1;
  i = skipWs(s, i, end);
  if (i < end && s.charCodeAt(i) === EQ) {
    i = skipWs(s, i + 1, end);
    const valueStart = i;
    if (i < end && s.charCodeAt(i) === QUOTE) {
      i = scanQuoted(s, i, end);
      if (i < 0) return -1;
    } else {
      i = paramValueEnd(s, i, end);
      if (i === valueStart) return -1;
    }
    span.valueStart = valueStart;
    span.valueEnd = i;
    i = skipWs(s, i, end);
  }
  return i;
}
