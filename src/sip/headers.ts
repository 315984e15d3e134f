import { isIP } from "node:net";
import { SipParseError } from "../errors.js";
import { nameAddrAt, parseNameAddrAt } from "./name-addr.js";
import {
  commaItemEnd,
  genericParam,
  isTokenChar,
  isWs,
  parseGenericParams,
  skipWs,
  splitCommaList,
  trimEnd,
  trimStart,
} from "./params.js";
import { parseDigits } from "./parse.js";

/**
 * Typed readers for the header values the registrant needs (RFC 3261 §20). Each takes the raw value(s) from
 * `headerValue` / `headerValues` and returns `{ ok: true, ... } | { ok: false, error }`; none throws.
 */

type Failure = { ok: false; error: SipParseError };
function fail(message: string): Failure {
  return { ok: false, error: new SipParseError(message) };
}

/** One Via entry (§20.42): `SIP/2.0/UDP host:port;branch=...;received=...;rport=...`. */
export interface Via {
  /** `SIP/2.0` as written */
  readonly protocol: string;
  /** upper-cased: `UDP`, `TCP`, `TLS`, `SCTP`, `WS`... */
  readonly transport: string;
  /** sent-by host; IPv6 without brackets */
  readonly host: string;
  readonly port?: number;
  /** names lower-cased, values as written */
  readonly params: ReadonlyMap<string, string | null>;
  readonly branch?: string;
}

/** Every Via entry of one header value, in order (a value may hold a comma list). */
export function parseVia(value: string): { ok: true; vias: Via[] } | Failure {
  const items = splitCommaList(value);
  if (items === undefined) return fail("unbalanced quotes in Via");
  const vias: Via[] = [];
  for (const item of items) {
    const via = parseOneVia(item);
    if (via === undefined) return fail("bad Via");
    vias.push(via);
  }
  return { ok: true, vias };
}

function readToken(s: string, i: number): number {
  while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
  return i;
}

function parseOneVia(s: string): Via | undefined {
  // sent-protocol = protocol-name SLASH protocol-version SLASH transport, with LWS allowed around "/"
  let i = skipWs(s, 0);
  const nameStart = i;
  i = readToken(s, i);
  if (i === nameStart) return undefined;
  const protoName = s.slice(nameStart, i);
  i = skipWs(s, i);
  if (s.charCodeAt(i) !== 0x2f) return undefined;
  i = skipWs(s, i + 1);
  const verStart = i;
  i = readToken(s, i);
  if (i === verStart) return undefined;
  const version = s.slice(verStart, i);
  i = skipWs(s, i);
  if (s.charCodeAt(i) !== 0x2f) return undefined;
  i = skipWs(s, i + 1);
  const trStart = i;
  i = readToken(s, i);
  if (i === trStart) return undefined;
  const transport = s.slice(trStart, i).toUpperCase();
  if (!isWs(s.charCodeAt(i))) return undefined;
  i = skipWs(s, i);

  let host: string;
  if (s.charCodeAt(i) === 0x5b) {
    const close = s.indexOf("]", i);
    if (close < 0) return undefined;
    host = s.slice(i + 1, close);
    if (isIP(host) !== 6) return undefined;
    i = close + 1;
  } else {
    const hs = i;
    i = hostnameEnd(s, i, s.length);
    if (i === hs) return undefined;
    host = s.slice(hs, i);
  }
  i = skipWs(s, i);
  let port: number | undefined;
  if (s.charCodeAt(i) === 0x3a) {
    i = skipWs(s, i + 1);
    const ps = i;
    while (i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
    const p = parseDigits(s.slice(ps, i));
    if (p < 1 || p > 65535) return undefined;
    port = p;
  }
  const params = parseGenericParams(s, i);
  if (params === undefined) return undefined;
  const branch = params.get("branch");
  return {
    protocol: `${protoName}/${version}`,
    transport,
    host,
    ...(port !== undefined ? { port } : {}),
    params,
    ...(typeof branch === "string" ? { branch } : {}),
  };
}

/**
 * The branch of the top Via entry of one Via header value when the whole value parses: the same answer as
 * `parseVia(value)` then `vias[0].branch`, undefined when either is missing, without building the entries
 * (the transaction table reads it off every response).
 */
export function topViaBranch(value: string): string | undefined {
  // one entry (what a registrar sends back): checkOneVia rejects any quote or "<" that splitCommaList would
  // find unbalanced, so it alone gives the answer
  if (value.indexOf(",") < 0) {
    const b = checkOneVia(value, trimStart(value, 0, value.length), trimEnd(value, 0, value.length));
    return b === false ? undefined : b;
  }
  // the items of splitCommaList, each checked where it lies
  let branch: string | undefined;
  for (let start = 0; ;) {
    const end = commaItemEnd(value, start);
    if (end < 0) return undefined;
    const s = trimStart(value, start, end);
    const b = checkOneVia(value, s, trimEnd(value, s, end));
    if (b === false) return undefined;
    if (start === 0) branch = b;
    if (end >= value.length) return branch;
    start = end + 1;
  }
}

/** End of a Via host name or IPv4 address (letters, digits, '-' and '.') starting at `i`. */
function hostnameEnd(s: string, i: number, end: number): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x2e))
      break;
    i++;
  }
  return i;
}

function tokenEnd(s: string, i: number, end: number): number {
  while (i < end && isTokenChar(s.charCodeAt(i))) i++;
  return i;
}

/**
 * `parseOneVia(s.slice(start, end))` as a check: false when it would fail, else its `branch` (undefined when
 * there is none or it has no value). Every read stays below `end`.
 */
function checkOneVia(s: string, start: number, end: number): string | undefined | false {
  let i = skipWs(s, start, end);
  // sent-protocol = protocol-name SLASH protocol-version SLASH transport
  for (let part = 0; part < 3; part++) {
    const ts = i;
    i = tokenEnd(s, i, end);
    if (i === ts) return false;
    if (part < 2) {
      i = skipWs(s, i, end);
      if (i >= end || s.charCodeAt(i) !== 0x2f) return false;
      i = skipWs(s, i + 1, end);
    }
  }
  if (i >= end || !isWs(s.charCodeAt(i))) return false;
  i = skipWs(s, i, end);
  if (i < end && s.charCodeAt(i) === 0x5b) {
    const close = s.indexOf("]", i);
    if (close < 0 || close >= end) return false;
    if (isIP(s.slice(i + 1, close)) !== 6) return false;
    i = close + 1;
  } else {
    const hs = i;
    i = hostnameEnd(s, i, end);
    if (i === hs) return false;
  }
  i = skipWs(s, i, end);
  if (i < end && s.charCodeAt(i) === 0x3a) {
    i = skipWs(s, i + 1, end);
    const ps = i;
    let port = 0;
    while (i < end && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) {
      port = port * 10 + (s.charCodeAt(i) - 0x30);
      i++;
    }
    // parseDigits: 1 to 15 digits; then 1..65535
    if (i === ps || i - ps > 15 || port < 1 || port > 65535) return false;
  }
  // *( SEMI generic-param ), as parseGenericParams reads it; the first `branch` wins
  const branch = genericParam(s, i, end, "branch");
  if (branch === false) return false;
  return typeof branch === "string" ? branch : undefined;
}

/** CSeq (§20.16): `1*DIGIT LWS Method`; the number is below 2**31 (§8.1.1.5). */
export function parseCSeq(value: string): { ok: true; seq: number; method: string } | Failure {
  const v = value.trim();
  let i = 0;
  let seq = 0;
  while (i < v.length && v.charCodeAt(i) >= 0x30 && v.charCodeAt(i) <= 0x39)
    seq = seq * 10 + (v.charCodeAt(i++) - 0x30);
  // parseDigits' rule (1 to 15 digits), without cutting them out
  if (i === 0 || i > 15 || seq >= 2 ** 31) return fail("bad CSeq number");
  if (!isWs(v.charCodeAt(i))) return fail("bad CSeq");
  const methodStart = skipWs(v, i);
  if (methodStart === v.length || readToken(v, methodStart) !== v.length) return fail("bad CSeq method");
  return { ok: true, seq, method: v.slice(methodStart) };
}

/** One contact of a Contact header (§20.10). */
export interface ContactEntry {
  /** the URI text between `<>` (or the bare addr-spec) */
  readonly uri: string;
  readonly displayName?: string;
  /** header parameters, names lower-cased, values as written (quotes kept); null = no value */
  readonly params: ReadonlyMap<string, string | null>;
}

/**
 * Every contact of every Contact header value, in order. Comma lists are split outside quotes and `<>`.
 * `*` (§10.2.2) must stand alone: `star` is true and `contacts` empty.
 */
export function parseContacts(
  values: readonly string[],
): { ok: true; star: boolean; contacts: ContactEntry[] } | Failure {
  return readContacts(values, parseNameAddrAt);
}

/** A contact's URI and its `expires` parameter (null: no value, undefined: none), as a 200 OK is read. */
export interface ContactExpiry {
  readonly uri: string;
  readonly expires: string | null | undefined;
}

/** parseContacts reduced to what a 200 OK is read for, without a parameter map per contact. */
export function parseContactExpiries(
  values: readonly string[],
): { ok: true; star: boolean; contacts: ContactExpiry[] } | Failure {
  return readContacts(values, contactExpiryAt);
}

function contactExpiryAt(text: string, start: number, end: number): ContactExpiry | undefined {
  const parts = nameAddrAt(text, start, end);
  if (parts === undefined) return undefined;
  const expires = genericParam(text, parts.paramsStart, end, "expires");
  return expires === false ? undefined : { uri: parts.uri, expires };
}

/** The contacts of Contact header values, each item read in place by `read` (undefined: malformed). */
function readContacts<T>(
  values: readonly string[],
  read: (text: string, start: number, end: number) => T | undefined,
): { ok: true; star: boolean; contacts: T[] } | Failure {
  const contacts: T[] = [];
  let star = false;
  for (const value of values) {
    for (let start = 0; ;) {
      const itemEnd = commaItemEnd(value, start);
      if (itemEnd < 0) return fail(UNBALANCED_CONTACT);
      // the item as splitCommaList trims it
      const s = trimStart(value, start, itemEnd);
      const e = trimEnd(value, s, itemEnd);
      if (e - s === 1 && value.charCodeAt(s) === STAR) {
        star = true;
      } else {
        const contact = read(value, s, e);
        // an open quote or bracket further on is what splitting the whole value first would have reported
        if (contact === undefined) return fail(balancedFrom(value, itemEnd) ? "bad Contact" : UNBALANCED_CONTACT);
        contacts.push(contact);
      }
      if (itemEnd >= value.length) break;
      start = itemEnd + 1;
    }
  }
  if (star && contacts.length > 0) return fail("Contact: * mixed with other contacts");
  return { ok: true, star, contacts };
}

const STAR = 0x2a;
const UNBALANCED_CONTACT = "unbalanced quotes or brackets in Contact";

/** True when the comma list from `i` on leaves no quote or angle bracket open. */
function balancedFrom(value: string, i: number): boolean {
  while (i < value.length) {
    i = commaItemEnd(value, i + 1);
    if (i < 0) return false;
  }
  return true;
}

/** Largest delta-seconds value; bigger ones are taken as this (RFC 3261 §25.1 / §20.19 note). */
export const MAX_DELTA_SECONDS = 4_294_967_295;

/** `1*DIGIT` → seconds capped at MAX_DELTA_SECONDS, or -1. Any length is accepted; the loop is bounded by it. */
function deltaSeconds(text: string): number {
  if (text.length === 0) return -1;
  let v = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    if (v <= MAX_DELTA_SECONDS) v = v * 10 + (c - 0x30);
  }
  return Math.min(v, MAX_DELTA_SECONDS);
}

/** Expires (§20.19) and Min-Expires (§20.23): `delta-seconds`, strictly digits. */
export function parseDeltaSecondsHeader(value: string): { ok: true; seconds: number } | Failure {
  const seconds = deltaSeconds(value.trim());
  if (seconds < 0) return fail("bad delta-seconds");
  return { ok: true, seconds };
}

/** Retry-After (§20.33): `delta-seconds [ comment ] *( ;retry-param )`. */
export function parseRetryAfter(
  value: string,
): { ok: true; seconds: number; comment?: string; params: ReadonlyMap<string, string | null> } | Failure {
  const v = value.trim();
  let i = 0;
  while (i < v.length && v.charCodeAt(i) >= 0x30 && v.charCodeAt(i) <= 0x39) i++;
  const seconds = deltaSeconds(v.slice(0, i));
  if (seconds < 0) return fail("bad Retry-After");
  i = skipWs(v, i);
  let comment: string | undefined;
  if (v.charCodeAt(i) === 0x28) {
    // comment = "(" *(ctext / quoted-pair / comment) ")": nested parentheses balance
    let depth = 0;
    const cs = i;
    for (; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c === 0x5c) i++;
      else if (c === 0x28) depth++;
      else if (c === 0x29 && --depth === 0) break;
    }
    if (depth !== 0 || i >= v.length) return fail("unterminated Retry-After comment");
    comment = v.slice(cs + 1, i);
    i = skipWs(v, i + 1);
  }
  const params = parseGenericParams(v, i);
  if (params === undefined) return fail("bad Retry-After parameters");
  return comment !== undefined ? { ok: true, seconds, comment, params } : { ok: true, seconds, params };
}

/**
 * The `expires` parameter of a contact read the way OpenSIPS reads it (reference §5.2 step 4): the digits
 * before the first non-digit are kept (`60s` → 60, `-5`, `abc` or a missing value → 0). `wellFormed` tells
 * the caller whether to log the error OpenSIPS logs. Values above 2**32-1 are capped (OpenSIPS wraps).
 */
export function contactExpiresParam(value: string | null): { seconds: number; wellFormed: boolean } {
  if (value === null) return { seconds: 0, wellFormed: false };
  let i = 0;
  while (i < value.length && value.charCodeAt(i) >= 0x30 && value.charCodeAt(i) <= 0x39) i++;
  const digits = value.slice(0, i);
  const seconds = digits.length === 0 ? 0 : deltaSeconds(digits);
  return { seconds, wellFormed: i === value.length && i > 0 };
}
