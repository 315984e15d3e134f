import { SipParseError } from "../errors.js";
import type { SipHeader, SipMessage } from "./message.js";
import { SpellingIndex, isTokenChar } from "./params.js";

/**
 * Bytes → SipMessage (RFC 3261 §7, §20, ABNF §25). This runs for every datagram and every framed stream
 * message, so it makes one pass over the header section, one string for it, and one small object per header;
 * values are kept raw (unfolded, trimmed) and read on demand by `headers.ts`, `name-addr.ts` and `digest.ts`.
 * It never throws and every loop is bounded by the limits below.
 */
export interface ParseLimits {
  /** whole message, header section plus body */
  readonly maxMessageBytes: number;
  /** one header line after unfolding, and the start line */
  readonly maxLineBytes: number;
  readonly maxHeaders: number;
}

/** 64 KiB is the largest UDP datagram; responses to REGISTER are a few hundred bytes. */
export const DEFAULT_PARSE_LIMITS: ParseLimits = {
  maxMessageBytes: 65_535,
  maxLineBytes: 8_192,
  maxHeaders: 128,
};

export type ParseResult = { ok: true; message: SipMessage } | { ok: false; error: SipParseError };

/**
 * Compact header forms (RFC 3261 §7.3.3 and the RFCs that registered the other letters), mapped to the
 * canonical lower-case long name every lookup uses.
 */
const COMPACT_FORMS: ReadonlyMap<string, string> = new Map([
  ["a", "accept-contact"], // RFC 3841
  ["b", "referred-by"], // RFC 3892
  ["c", "content-type"],
  ["d", "request-disposition"], // RFC 3841
  ["e", "content-encoding"],
  ["f", "from"],
  ["i", "call-id"],
  ["j", "reject-contact"], // RFC 3841
  ["k", "supported"],
  ["l", "content-length"],
  ["m", "contact"],
  ["n", "identity-info"], // RFC 4474
  ["o", "event"], // RFC 6665
  ["r", "refer-to"], // RFC 3515
  ["s", "subject"],
  ["t", "to"],
  ["u", "allow-events"], // RFC 6665
  ["v", "via"],
  ["x", "session-expires"], // RFC 4028
  ["y", "identity"], // RFC 8224
]);

/** Canonical lower-case long form of a header name as it appeared on the wire. */
export function canonicalHeaderName(raw: string): string {
  const cached = NAME_CACHE.get(raw);
  if (cached !== undefined) return cached;
  const lower = raw.toLowerCase();
  const name = lower.length === 1 ? (COMPACT_FORMS.get(lower) ?? lower) : lower;
  // peers spell the same few dozen names over and over; the cache saves a lower-casing per header
  if (NAME_CACHE.size < 512) NAME_CACHE.set(raw, name);
  return name;
}

/** Other spellings of names outside KNOWN_HEADERS, as met. */
const NAME_CACHE = new Map<string, string>();

// RFC 3261 §8.1.1: the headers every request and response carries; a message without them cannot be
// matched to a transaction (§17.1.3) or a registration.
const MANDATORY = ["via", "from", "to", "call-id", "cseq"] as const;
const ALL_MANDATORY = (1 << MANDATORY.length) - 1;

/** A header name the parser knows: its canonical name and its bit among the mandatory headers (0 if none). */
interface KnownHeader {
  readonly name: string;
  readonly bit: number;
}

/**
 * The names registrars send and the compact forms: a header is recognised where it lies in the message, in any
 * case, and every message stores the same name strings.
 */
const KNOWN_HEADERS = new SpellingIndex<KnownHeader>(
  [
    ...COMPACT_FORMS,
    ...[
      "via",
      "to",
      "from",
      "cseq",
      "call-id",
      "contact",
      "content-length",
      "content-type",
      "expires",
      "min-expires",
      "retry-after",
      "www-authenticate",
      "proxy-authenticate",
      "authorization",
      "proxy-authorization",
      "server",
      "user-agent",
      "max-forwards",
      "allow",
      "supported",
      "require",
      "unsupported",
      "date",
      "path",
      "service-route",
      "warning",
      "timestamp",
      "record-route",
      "route",
      "accept",
    ].map((name) => [name, name] as const),
  ].map(([spelling, name]) => {
    const i = (MANDATORY as readonly string[]).indexOf(name);
    return [spelling, { name, bit: i < 0 ? 0 : 1 << i }] as const;
  }),
);

/** `s.slice(start, end).trim()` with one allocation (SP/HT are the only LWS left after line splitting). */
function trimmedSlice(s: string, start: number, end: number): string {
  while (start < end && (s.charCodeAt(start) === SP || s.charCodeAt(start) === HT)) start++;
  while (
    end > start &&
    (s.charCodeAt(end - 1) === SP || s.charCodeAt(end - 1) === HT || s.charCodeAt(end - 1) === CR)
  ) {
    end--;
  }
  return s.slice(start, end);
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HT = 0x09;

function failure(message: string, offset: number): { ok: false; error: SipParseError } {
  return { ok: false, error: new SipParseError(message, offset) };
}

/**
 * Where the header section ends: `headEnd` is the index of the line feed closing the last header line,
 * `bodyStart` the first body byte. Bare LF line ends are tolerated (RFC 3261 §7.5 asks for robustness).
 * Returns -1 when there is no empty line before `limit`.
 */
export function findHeaderEnd(buf: Buffer, from: number, limit: number): { headEnd: number; bodyStart: number } | -1 {
  const headEnd = headerSectionEnd(buf, from, limit);
  return headEnd < 0 ? -1 : { headEnd, bodyStart: bodyStartAfter(buf, headEnd) };
}

/** `findHeaderEnd`'s `headEnd`, or -1. */
function headerSectionEnd(buf: Buffer, from: number, limit: number): number {
  let p = buf.indexOf(LF, from);
  while (p >= 0 && p < limit) {
    const next = buf[p + 1];
    if (next === LF || (next === CR && buf[p + 2] === LF)) return p;
    p = buf.indexOf(LF, p + 1);
  }
  return -1;
}

/** The first body byte after the empty line that follows `headEnd` (LF or CRLF). */
function bodyStartAfter(buf: Buffer, headEnd: number): number {
  return buf[headEnd + 1] === LF ? headEnd + 2 : headEnd + 3;
}

/** Strict `1*DIGIT` (no sign, no spaces inside) as a safe integer, or -1. */
export function parseDigits(text: string): number {
  if (text.length === 0 || text.length > 15) return -1;
  let v = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + (c - 0x30);
  }
  return v;
}

/** What most responses carry: one shared empty body instead of a view of the datagram per message. */
const EMPTY_BODY: Buffer = Buffer.alloc(0);

/**
 * Appends a completed header (folding may have extended it) and checks Content-Length (§20.14: repeated values
 * must agree). Returns the Content-Length known so far (-1: none yet) or an error text.
 */
function storeHeader(
  headers: SipHeader[],
  maxHeaders: number,
  name: string,
  value: string,
  contentLength: number,
): number | string {
  if (headers.length >= maxHeaders) return `more than ${maxHeaders} headers`;
  headers.push({ name, value });
  if (name !== "content-length") return contentLength;
  const cl = parseDigits(value);
  if (cl < 0) return "bad Content-Length";
  if (contentLength >= 0 && cl !== contentLength) return "conflicting Content-Length";
  return cl;
}

/** Parses one complete SIP message (a UDP datagram, or one message cut by StreamFramer). Never throws. */
export function parseMessage(buf: Buffer, limits?: Partial<ParseLimits>): ParseResult {
  const lim = limits === undefined ? DEFAULT_PARSE_LIMITS : { ...DEFAULT_PARSE_LIMITS, ...limits };
  if (buf.length > lim.maxMessageBytes) return failure(`message larger than ${lim.maxMessageBytes} bytes`, 0);

  // §7.5: CRLFs before the start line are ignored.
  let start = 0;
  while (start < buf.length && (buf[start] === CR || buf[start] === LF)) start++;
  if (start === buf.length) return failure("empty message", start);

  const headEnd = headerSectionEnd(buf, start, buf.length);
  if (headEnd < 0) return failure("header section not terminated by an empty line", buf.length);
  // UTF-8 (§7.3.1 allows UTF-8 in header values); an ASCII check to decode as latin1 instead cost as much as it saved
  const head = buf.toString("utf8", start, headEnd);

  // start line, read where it lies in `head`
  let eol = head.indexOf("\n");
  if (eol < 0) eol = head.length;
  const startLineEnd = eol > 0 && head.charCodeAt(eol - 1) === CR ? eol - 1 : eol;
  if (startLineEnd > lim.maxLineBytes) return failure("start line too long", start);
  let status = 0;
  let request: RequestLine | undefined;
  if (isStatusLine(head, startLineEnd)) {
    status = statusCode(head, startLineEnd);
    if (status < 0) return failure(status === BAD_STATUS_CODE ? "bad status code" : "bad status line", start);
  } else {
    const line = parseRequestLine(head.slice(0, startLineEnd));
    if (typeof line === "string") return failure(line, start);
    request = line;
  }

  const headers: SipHeader[] = [];
  let seen = 0;
  let contentLength = -1;
  let name = "";
  let bit = 0;
  let value = "";
  let pos = eol + 1;
  while (pos <= head.length) {
    let next = head.indexOf("\n", pos);
    if (next < 0) next = head.length;
    const lineEnd = next > pos && head.charCodeAt(next - 1) === CR ? next - 1 : next;
    if (lineEnd - pos > lim.maxLineBytes) return failure("header line too long", start + pos);
    const c0 = head.charCodeAt(pos);
    if (c0 === SP || c0 === HT) {
      // §7.3.1 folding: a line starting with white space continues the previous header, LWS → one SP.
      if (name === "") return failure("continuation line before any header", start + pos);
      const more = trimmedSlice(head, pos, lineEnd);
      if (more.length > 0) value = value.length > 0 ? `${value} ${more}` : more;
      if (value.length > lim.maxLineBytes) return failure("folded header too long", start + pos);
    } else {
      if (name !== "") {
        const cl = storeHeader(headers, lim.maxHeaders, name, value, contentLength);
        if (typeof cl === "string") return failure(cl, start + pos);
        contentLength = cl;
        seen |= bit;
      }
      let colon = pos;
      while (colon < lineEnd && isTokenChar(head.charCodeAt(colon))) colon++;
      if (colon === pos) return failure("bad header name", start + pos);
      const nameEnd = colon;
      while (colon < lineEnd && (head.charCodeAt(colon) === SP || head.charCodeAt(colon) === HT)) colon++;
      if (colon >= lineEnd || head.charCodeAt(colon) !== 0x3a) return failure("header line without colon", start + pos);
      const known = KNOWN_HEADERS.at(head, pos, nameEnd);
      name = known !== undefined ? known.name : canonicalHeaderName(head.slice(pos, nameEnd));
      bit = known !== undefined ? known.bit : 0;
      value = trimmedSlice(head, colon + 1, lineEnd);
    }
    pos = next + 1;
  }
  if (name !== "") {
    const cl = storeHeader(headers, lim.maxHeaders, name, value, contentLength);
    if (typeof cl === "string") return failure(cl, start + head.length);
    contentLength = cl;
    seen |= bit;
  }
  if (seen !== ALL_MANDATORY) {
    const missing = MANDATORY.filter((_, i) => (seen & (1 << i)) === 0);
    return failure(`missing mandatory header(s): ${missing.join(", ")}`, start);
  }

  // §18.3: the body is Content-Length bytes; a datagram shorter than that is discarded, extra bytes dropped.
  // Without Content-Length (allowed over UDP only) the body runs to the end of the datagram.
  const bodyStart = bodyStartAfter(buf, headEnd);
  const bodyEnd = contentLength >= 0 ? bodyStart + contentLength : buf.length;
  if (bodyEnd > buf.length) return failure("body shorter than Content-Length", buf.length);
  const body = bodyEnd > bodyStart ? buf.subarray(bodyStart, bodyEnd) : EMPTY_BODY;

  const message: SipMessage =
    request !== undefined
      ? { kind: "request", method: request.method, uri: request.uri, headers, body }
      : { kind: "response", status, reason: startLineEnd > 12 ? head.slice(12, startLineEnd) : "", headers, body };
  return { ok: true, message };
}

interface RequestLine {
  readonly method: string;
  readonly uri: string;
}

const SIP_VERSION_SP = "SIP/2.0 ";

/**
 * True when `line` starts like a status line: `SIP/2.0 ` in any case (§7.1: the version compares
 * case-insensitively). Non-ASCII there goes the way of String.prototype.toUpperCase, as before.
 */
function isStatusLine(head: string, end: number): boolean {
  if (end < 8) return false;
  for (let k = 0; k < 8; k++) {
    let c = head.charCodeAt(k);
    if (c >= 0x80) return head.slice(0, 8).toUpperCase() === SIP_VERSION_SP;
    if (c >= 0x61 && c <= 0x7a) c -= 0x20;
    if (c !== SIP_VERSION_SP.charCodeAt(k)) return false;
  }
  return true;
}

const BAD_STATUS_LINE = -1;
const BAD_STATUS_CODE = -2;

/** `SIP/2.0 SP 3DIGIT [SP Reason-Phrase]` (§7.2): the status code 100..699, or BAD_STATUS_LINE / BAD_STATUS_CODE. */
function statusCode(head: string, end: number): number {
  // status-code = 3DIGIT, 100..699; the reason phrase may be empty
  if (end < 11) return BAD_STATUS_LINE;
  let status = 0;
  for (let k = 8; k < 11; k++) {
    const c = head.charCodeAt(k);
    if (c < 0x30 || c > 0x39) return BAD_STATUS_CODE;
    status = status * 10 + (c - 0x30);
  }
  if (status < 100 || status > 699) return BAD_STATUS_CODE;
  if (end > 11 && head.charCodeAt(11) !== SP) return BAD_STATUS_LINE;
  return status;
}

/** `Method SP Request-URI SP SIP/2.0` (§7.1). */
function parseRequestLine(line: string): RequestLine | string {
  const sp1 = line.indexOf(" ");
  if (sp1 <= 0) return "bad start line";
  const sp2 = line.indexOf(" ", sp1 + 1);
  if (sp2 < 0 || sp2 === sp1 + 1) return "bad request line";
  if (line.slice(sp2 + 1).toUpperCase() !== "SIP/2.0") return "unsupported SIP version";
  const method = line.slice(0, sp1);
  for (let i = 0; i < method.length; i++) if (!isTokenChar(method.charCodeAt(i))) return "bad method";
  const uri = line.slice(sp1 + 1, sp2);
  for (let i = 0; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c <= SP || c === 0x7f) return "bad Request-URI";
  }
  return { method, uri };
}
