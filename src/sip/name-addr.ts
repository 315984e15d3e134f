import { isTokenChar, isWs, parseGenericParams, scanQuoted, skipWs, unquoteRange } from "./params.js";

/**
 * One `name-addr` or `addr-spec` with header parameters, as in To, From and Contact (RFC 3261 §20.10,
 * §25.1). The URI is returned as text (parse it with `parseUri` when needed).
 */
export interface NameAddr {
  /** display name without quotes and escapes; absent when none was given */
  readonly displayName?: string;
  readonly uri: string;
  /** header parameters (`;tag=`, `;expires=`...), names lower-cased, values as written, null = no value */
  readonly params: ReadonlyMap<string, string | null>;
}

/**
 * Parses `[display-name] <uri> *(;param)` or `uri *(;param)`. In the addr-spec form the URI ends at the first
 * `;`: §20.10 says a URI with `,`, `;` or `?` MUST be enclosed in `<>`, so what follows are header
 * parameters. Returns undefined when malformed. Never throws.
 */
export function parseNameAddr(text: string): NameAddr | undefined {
  return parseNameAddrAt(text, 0, text.length);
}

/** `parseNameAddr(text.slice(start, end))`, read where it lies. */
export function parseNameAddrAt(text: string, start: number, end: number): NameAddr | undefined {
  const parts = nameAddrAt(text, start, end);
  if (parts === undefined) return undefined;
  const params = parseGenericParams(text, parts.paramsStart, end);
  if (params === undefined) return undefined;
  const { displayName, uri } = parts;
  return displayName !== undefined ? { displayName, uri, params } : { uri, params };
}

/** A name-addr's display name and URI, and where its header parameters start. */
export interface NameAddrParts {
  readonly displayName: string | undefined;
  readonly uri: string;
  readonly paramsStart: number;
}

/** The parts of the name-addr or addr-spec `text[start, end)` (parameters not read), or undefined. */
export function nameAddrAt(text: string, start: number, end: number): NameAddrParts | undefined {
  let i = skipWs(text, start, end);
  if (i >= end) return undefined;
  let displayName: string | undefined;
  let uri: string;

  const lt = findAngle(text, i, end);
  if (lt === -2) return undefined;
  if (lt >= 0) {
    // name-addr: display-name = quoted-string / *(token LWS)
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const quoteEnd = scanQuoted(text, i, end);
      if (quoteEnd < 0) return undefined;
      if (skipWs(text, quoteEnd, end) !== lt) return undefined;
      displayName = unquoteRange(text, i, quoteEnd);
    } else if (i < lt) {
      for (let j = i; j < lt; j++) {
        const d = text.charCodeAt(j);
        if (!isTokenChar(d) && !isWs(d)) return undefined;
      }
      displayName = text.slice(i, lt).trim();
    }
    const gt = text.indexOf(">", lt + 1);
    if (gt < 0 || gt >= end) return undefined;
    uri = text.slice(lt + 1, gt).trim();
    i = gt + 1;
  } else {
    let j = i;
    while (j < end) {
      const c = text.charCodeAt(j);
      if (c === 0x3b || isWs(c)) break;
      j++;
    }
    uri = text.slice(i, j);
    i = j;
  }
  if (uri.length === 0) return undefined;
  return { displayName, uri, paramsStart: i };
}

/**
 * Index of the `<` opening a name-addr in `text[start, end)` (skipping a leading quoted display name), -1 for
 * the addr-spec form, -2 when a quote is left open.
 */
function findAngle(text: string, start: number, end: number): number {
  let i = start;
  if (text.charCodeAt(i) === 0x22) {
    i = scanQuoted(text, i, end);
    if (i < 0) return -2;
    i = skipWs(text, i, end);
    return i < end && text.charCodeAt(i) === 0x3c ? i : -2;
  }
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3c) return i;
    // a ';' or ':' before any '<' means we are inside an addr-spec (its scheme or its parameters)
    if (c === 0x3a || c === 0x3b) return -1;
  }
  return -1;
}
