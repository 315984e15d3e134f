import { isIP } from "node:net";
import { SipUriError } from "../errors.js";

/**
 * SIP and SIPS URIs (RFC 3261 §19.1, ABNF §25.1). Every component is kept as written (escapes included) so
 * `formatUri(parseUri(s).uri) === s` for any accepted `s` whose scheme is written in lower case (the scheme
 * is case-insensitive and stored lower-cased) and whose port has no leading zeros.
 */
export interface SipUri {
  readonly scheme: "sip" | "sips";
  readonly user?: string;
  readonly password?: string;
  /** host as written; an IPv6 reference is stored WITHOUT its brackets (`::1`), formatUri adds them back */
  readonly host: string;
  readonly hostKind: "name" | "ipv4" | "ipv6";
  readonly port?: number;
  /** uri-parameters in order; names as written (use `uriParam` for a case-insensitive lookup); null = no value */
  readonly params: ReadonlyMap<string, string | null>;
  /** `?name=value&...` headers in order, as written */
  readonly headers: ReadonlyMap<string, string>;
}

export type ParseUriResult = { ok: true; uri: SipUri } | { ok: false; error: SipUriError };

const ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const MARK = "-_.!~*'()";

function charset(chars: string): Uint8Array {
  const t = new Uint8Array(128);
  for (const c of chars) t[c.charCodeAt(0)] = 1;
  return t;
}

// RFC 3261 §25.1: user = 1*( unreserved / escaped / user-unreserved ); password adds "&=+$," but not ";?/".
// Leniency: an unescaped "#" (feature codes such as *97#) is accepted in the user part; PBXs send it.
const USER = charset(ALNUM + MARK + "&=+$,;?/#");
const PASSWORD = charset(ALNUM + MARK + "&=+$,");
// paramchar = param-unreserved / unreserved / escaped; param-unreserved = "[" / "]" / "/" / ":" / "&" / "+" / "$"
const PARAM = charset(ALNUM + MARK + "[]/:&+$");
// hname/hvalue chars: hnv-unreserved = "[" / "]" / "/" / "?" / ":" / "+" / "$"
const HNV = charset(ALNUM + MARK + "[]/?:+$");
// Leniency: "_" is not in the RFC 1123 host name grammar but appears in real (internal) host names.
const HOSTNAME = charset(ALNUM + "-._");

function hexDigit(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
}

/** All characters of s[start,end) are in `set` or are a `%HH` escape. Empty is allowed. */
function allIn(s: string, start: number, end: number, set: Uint8Array): boolean {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      if (i + 2 >= end || !hexDigit(s.charCodeAt(i + 1)) || !hexDigit(s.charCodeAt(i + 2))) return false;
      i += 2;
    } else if (c >= 128 || set[c] !== 1) return false;
  }
  return true;
}

function fail(message: string): { ok: false; error: SipUriError } {
  return { ok: false, error: new SipUriError(message) };
}

/** Hard bound: nothing we send or compare needs a longer URI, and it keeps hostile input cheap. */
const MAX_URI_LENGTH = 4096;

function classifyHost(host: string): "name" | "ipv4" | undefined {
  if (host.length === 0 || host.length > 255) return undefined;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c >= 128 || HOSTNAME[c] !== 1) return undefined;
  }
  if (isIP(host) === 4) return "ipv4";
  // RFC 3261 hostname: labels of alphanum and "-", not starting/ending with "-"; an optional trailing dot.
  const labels = host.endsWith(".") ? host.slice(0, -1).split(".") : host.split(".");
  for (const label of labels) {
    if (label.length === 0 || label.length > 63) return undefined;
    if (label.startsWith("-") || label.endsWith("-")) return undefined;
  }
  // the top label starts with a letter, so "1.2.3.999" is not a host name either
  const top = labels[labels.length - 1] ?? "";
  const first = top.charCodeAt(0);
  if (first >= 0x30 && first <= 0x39) return undefined;
  return "name";
}

// Most URIs (bindings, AORs, registrars) have neither parameters nor headers: they share these two empty maps
// (read-only, like every SipUri map) instead of two new ones each.
const NO_PARAMS: ReadonlyMap<string, string | null> = new Map();
const NO_HEADERS: ReadonlyMap<string, string> = new Map();

/** Parses a `sip:` / `sips:` URI. Never throws. */
export function parseUri(text: string): ParseUriResult {
  if (text.length > MAX_URI_LENGTH) return fail("URI too long");
  const colon = text.indexOf(":");
  if (colon < 0) return fail("URI has no scheme");
  const schemeText = text.slice(0, colon).toLowerCase();
  if (schemeText !== "sip" && schemeText !== "sips") return fail(`unsupported URI scheme "${text.slice(0, colon)}"`);
  const scheme: "sip" | "sips" = schemeText;

  let i = colon + 1;
  const n = text.length;
  // '@' is allowed in no other component (§25.1), so the first one ends the userinfo.
  const at = text.indexOf("@", i);
  let user: string | undefined;
  let password: string | undefined;
  if (at >= 0) {
    const pwColon = text.indexOf(":", i);
    const userEnd = pwColon >= 0 && pwColon < at ? pwColon : at;
    if (userEnd === i) return fail("empty user part");
    if (!allIn(text, i, userEnd, USER)) return fail("bad character in user part");
    user = text.slice(i, userEnd);
    if (userEnd < at) {
      if (!allIn(text, userEnd + 1, at, PASSWORD)) return fail("bad character in password");
      password = text.slice(userEnd + 1, at);
    }
    i = at + 1;
  }

  let host: string;
  let hostKind: SipUri["hostKind"];
  if (text.charCodeAt(i) === 0x5b) {
    const close = text.indexOf("]", i);
    if (close < 0) return fail("unterminated IPv6 reference");
    host = text.slice(i + 1, close);
    if (isIP(host) !== 6) return fail("bad IPv6 reference");
    hostKind = "ipv6";
    i = close + 1;
  } else {
    let j = i;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === 0x3a || c === 0x3b || c === 0x3f) break;
      j++;
    }
    host = text.slice(i, j);
    const kind = classifyHost(host);
    if (kind === undefined) return fail("bad host");
    hostKind = kind;
    i = j;
  }

  let port: number | undefined;
  if (i < n && text.charCodeAt(i) === 0x3a) {
    let j = i + 1;
    let value = 0;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c < 0x30 || c > 0x39) break;
      value = value * 10 + (c - 0x30);
      if (value > 65535) return fail("port out of range");
      j++;
    }
    if (j === i + 1) return fail("empty port");
    port = value;
    i = j;
  }

  let params: Map<string, string | null> | undefined;
  while (i < n && text.charCodeAt(i) === 0x3b) {
    let j = i + 1;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === 0x3b || c === 0x3f) break;
      j++;
    }
    const eq = text.indexOf("=", i + 1);
    const nameEnd = eq >= 0 && eq < j ? eq : j;
    if (nameEnd === i + 1) return fail("empty URI parameter name");
    if (!allIn(text, i + 1, nameEnd, PARAM)) return fail("bad character in URI parameter name");
    const name = text.slice(i + 1, nameEnd);
    let value: string | null = null;
    if (nameEnd < j) {
      if (nameEnd + 1 === j || !allIn(text, nameEnd + 1, j, PARAM)) return fail(`bad value for URI parameter ${name}`);
      value = text.slice(nameEnd + 1, j);
    }
    // §19.1.1: a parameter MUST NOT appear more than once; a Map could not give it back anyway.
    params ??= new Map();
    if (params.has(name)) return fail(`URI parameter ${name} repeated`);
    params.set(name, value);
    i = j;
  }

  let headers: Map<string, string> | undefined;
  if (i < n && text.charCodeAt(i) === 0x3f) {
    headers = new Map();
    for (const pair of text.slice(i + 1).split("&")) {
      const eq = pair.indexOf("=");
      if (eq <= 0) return fail("bad URI header");
      if (!allIn(pair, 0, eq, HNV) || !allIn(pair, eq + 1, pair.length, HNV)) return fail("bad URI header");
      const name = pair.slice(0, eq);
      if (headers.has(name)) return fail(`URI header ${name} repeated`);
      headers.set(name, pair.slice(eq + 1));
    }
    i = n;
  }
  if (i !== n) return fail("unexpected character in URI");

  const uri: SipUri = {
    scheme,
    ...(user !== undefined ? { user } : {}),
    ...(password !== undefined ? { password } : {}),
    host,
    hostKind,
    ...(port !== undefined ? { port } : {}),
    params: params ?? NO_PARAMS,
    headers: headers ?? NO_HEADERS,
  };
  return { ok: true, uri };
}

/** Writes a URI back; the inverse of parseUri. */
export function formatUri(uri: SipUri): string {
  let out = `${uri.scheme}:`;
  if (uri.user !== undefined) {
    out += uri.user;
    if (uri.password !== undefined) out += `:${uri.password}`;
    out += "@";
  }
  out += uri.hostKind === "ipv6" ? `[${uri.host}]` : uri.host;
  if (uri.port !== undefined) out += `:${uri.port}`;
  for (const [name, value] of uri.params) out += value === null ? `;${name}` : `;${name}=${value}`;
  let sep = "?";
  for (const [name, value] of uri.headers) {
    out += `${sep}${name}=${value}`;
    sep = "&";
  }
  return out;
}

/** Case-insensitive URI parameter lookup: undefined = absent, null = present without value. */
export function uriParam(uri: SipUri, name: string): string | null | undefined {
  const exact = uri.params.get(name);
  if (exact !== undefined) return exact;
  const lower = name.toLowerCase();
  for (const [k, v] of uri.params) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** Resolves `%HH` escapes byte by byte (the result is compared, never shown). */
function unescape(text: string): string {
  if (!text.includes("%")) return text;
  return text.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function canonicalIpv6(host: string): string {
  try {
    return new URL(`http://[${host}]/`).hostname;
  } catch {
    return host.toLowerCase();
  }
}

function lowerUnescapedParams(params: ReadonlyMap<string, string | null>): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const [k, v] of params) {
    const key = unescape(k).toLowerCase();
    if (!out.has(key)) out.set(key, v === null ? null : unescape(v).toLowerCase());
  }
  return out;
}

/** §19.1.4: these parameters must be in both URIs or in neither. */
const MUST_MATCH = ["user", "ttl", "method", "maddr", "transport"];

/**
 * URI equality of RFC 3261 §19.1.4: scheme, user and password compared exactly after unescaping; host
 * case-insensitively (IPv6 by address); ports must both be absent or equal (an explicit 5060 differs from
 * none); user/ttl/method/maddr/transport must match when either side has them, other parameters only when
 * both have them; headers must all be present on both sides. An unparsable URI equals nothing.
 */
export function urisEqual(a: string | SipUri, b: string | SipUri): boolean {
  const ua = typeof a === "string" ? parseUri(a) : ({ ok: true, uri: a } as const);
  const ub = typeof b === "string" ? parseUri(b) : ({ ok: true, uri: b } as const);
  if (!ua.ok || !ub.ok) return false;
  const x = ua.uri;
  const y = ub.uri;
  if (x.scheme !== y.scheme) return false;
  if ((x.user === undefined) !== (y.user === undefined)) return false;
  if (x.user !== undefined && unescape(x.user) !== unescape(y.user ?? "")) return false;
  if ((x.password === undefined) !== (y.password === undefined)) return false;
  if (x.password !== undefined && unescape(x.password) !== unescape(y.password ?? "")) return false;
  if (x.hostKind !== y.hostKind) return false;
  if (x.hostKind === "ipv6") {
    if (canonicalIpv6(x.host) !== canonicalIpv6(y.host)) return false;
  } else if (x.host.toLowerCase() !== y.host.toLowerCase()) return false;
  if (x.port !== y.port) return false;

  const px = lowerUnescapedParams(x.params);
  const py = lowerUnescapedParams(y.params);
  for (const name of MUST_MATCH) if (px.has(name) !== py.has(name)) return false;
  for (const [name, value] of px) if (py.has(name) && py.get(name) !== value) return false;

  if (x.headers.size !== y.headers.size) return false;
  const hy = new Map<string, string>();
  for (const [k, v] of y.headers) hy.set(unescape(k).toLowerCase(), unescape(v));
  for (const [k, v] of x.headers) if (hy.get(unescape(k).toLowerCase()) !== unescape(v)) return false;
  return true;
}
