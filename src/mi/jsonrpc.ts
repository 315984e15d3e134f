import { randomBytes } from "node:crypto";
import { JsonRpcError } from "jsonrpc-lite";

/**
 * JSON-RPC 2.0 as OpenSIPS's MI core reads and prints it (reference mi-and-events §1). The only importer of
 * jsonrpc-lite: its `JsonRpcError` is the error object; validation and printing follow OpenSIPS, which differs
 * from the spec in small ways (case-insensitive members, fractional ids truncated, fixed member order).
 */

export type RpcId = string | number | null;
export type RawParams = readonly unknown[] | Readonly<Record<string, unknown>>;

export interface RpcErrorBody {
  readonly code: number;
  readonly message: string;
  readonly data?: string;
}

export type ParsedRequest =
  | {
      readonly ok: true;
      readonly method: string;
      /** undefined when absent, `{}` or `[]`: OpenSIPS counts them all as "no params" */
      readonly params: RawParams | undefined;
      /** `undefined` = notification (no `id` member) */
      readonly id: RpcId | undefined;
    }
  | {
      readonly ok: false;
      readonly error: RpcErrorBody;
      readonly id: RpcId;
      /** true for -32700: transports that answer unparsable text differently (fifo, datagram) need to know */
      readonly parseError: boolean;
    };

export const RpcCode = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  SERVER_ERROR: -32000,
  METHOD_AMBIGUOUS: -32001,
} as const;

export function rpcError(code: number, message: string, data?: string): RpcErrorBody {
  const e = new JsonRpcError(message, code, data);
  return e.data === undefined
    ? { code: e.code, message: e.message }
    : { code: e.code, message: e.message, data: e.data as string };
}

const PARSE_ERROR = rpcError(RpcCode.PARSE_ERROR, "Parse error");
const INVALID_REQUEST = rpcError(RpcCode.INVALID_REQUEST, "Invalid Request");

export type ScanResult =
  { readonly kind: "value"; readonly start: number; readonly end: number } | { readonly kind: "incomplete" };

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

/**
 * Finds the extent of the first JSON value in `text` from `from` (OpenSIPS's cJSON stops after one value; the
 * FIFO reads the next request from what follows). Only brackets and strings are tracked: JSON.parse judges the
 * slice.
 */
export function scanJsonValue(text: string, from = 0): ScanResult {
  let i = from;
  while (i < text.length && WS.has(text.charCodeAt(i))) i++;
  if (i >= text.length) return { kind: "incomplete" };
  const start = i;
  const first = text[i];
  if (first !== "{" && first !== "[") {
    // a bare scalar is never a request; let the caller parse up to the end and answer -32600/-32700
    return { kind: "value", start, end: text.length };
  }
  let depth = 0;
  let inString = false;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      // bracket kinds are not matched: JSON.parse refuses a mismatched slice
      if (--depth === 0) return { kind: "value", start, end: i + 1 };
    }
  }
  return { kind: "incomplete" };
}

/** cJSON compares top-level member names with strcasecmp: `"Method"` works. First match wins. */
function member(obj: Record<string, unknown>, name: string): { found: boolean; value: unknown } {
  for (const key of Object.keys(obj)) {
    if (key.toLowerCase() === name) return { found: true, value: obj[key] };
  }
  return { found: false, value: undefined };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parses one request text (already cut to its JSON value) with OpenSIPS's validation rules (§1.1). */
export function parseRequest(text: string): ParsedRequest {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { ok: false, error: PARSE_ERROR, id: null, parseError: true };
  }
  // a batch (top-level array) or a scalar has none of the members: one -32600 with id null
  if (!isPlainObject(doc)) return { ok: false, error: INVALID_REQUEST, id: null, parseError: false };

  const idMember = member(doc, "id");
  let id: RpcId | undefined;
  if (idMember.found) {
    const v = idMember.value;
    if (typeof v === "number") id = Number.isFinite(v) ? Math.trunc(v) : null;
    else if (typeof v === "string" || v === null) id = v;
    else return { ok: false, error: INVALID_REQUEST, id: null, parseError: false };
  }
  const replyId = id ?? null;

  const version = member(doc, "jsonrpc").value;
  const method = member(doc, "method").value;
  const paramsMember = member(doc, "params");
  if (version !== "2.0" || typeof method !== "string") {
    return { ok: false, error: INVALID_REQUEST, id: replyId, parseError: false };
  }
  let params: RawParams | undefined;
  if (paramsMember.found) {
    const p = paramsMember.value;
    if (Array.isArray(p)) params = p.length === 0 ? undefined : p;
    else if (isPlainObject(p)) params = Object.keys(p).length === 0 ? undefined : p;
    else return { ok: false, error: INVALID_REQUEST, id: replyId, parseError: false };
  }
  return { ok: true, method, params, id };
}

/**
 * Numbers as OpenSIPS prints them (§1.5): integers plain, other values `%f` or `%e` beyond [1e-6, 1e9],
 * NaN/Infinity as null.
 */
export function printNumber(n: number): string {
  if (!Number.isFinite(n)) return "null";
  if (Number.isInteger(n)) return Math.abs(n) < 1e21 ? String(n) : BigInt(n).toString();
  const abs = Math.abs(n);
  if (abs < 1e-6 || abs > 1e9) {
    const [mant, exp] = n.toExponential(6).split("e") as [string, string];
    const sign = exp.startsWith("-") ? "-" : "+";
    const digits = exp.replace(/^[+-]/, "");
    return `${mant}e${sign}${digits.length < 2 ? `0${digits}` : digits}`;
  }
  return n.toFixed(6);
}

/**
 * Marks a number JSON.stringify would print differently from cJSON; replaced by the raw text afterwards. The
 * random part keeps a string value from ever posing as a marker.
 */
const NONCE = randomBytes(6).toString("hex");
const RAW = `\u0000${NONCE}:`;
const RAW_ESCAPED = `\\u0000${NONCE}:`;
const RAW_TEXT = new RegExp(`"\\\\u0000${NONCE}:([^"]*)"`, "g");

function cjsonNumbers(_key: string, value: unknown): unknown {
  if (typeof value === "number" && Number.isFinite(value) && (!Number.isInteger(value) || Math.abs(value) >= 1e21)) {
    return RAW + printNumber(value);
  }
  return value;
}

/**
 * Compact JSON with OpenSIPS's number format; object members keep insertion order, undefined ones are left out.
 * JSON.stringify escapes strings as cJSON does (`"`, `\\`, control characters; UTF-8 and `/` raw).
 */
export function printJson(value: unknown): string {
  const text = JSON.stringify(value, cjsonNumbers) as string | undefined;
  if (text === undefined) return "null";
  return text.includes(RAW_ESCAPED) ? text.replace(RAW_TEXT, "$1") : text;
}

function printId(id: RpcId): string {
  return id === null ? "null" : printJson(id);
}

/** `{"jsonrpc":"2.0","result":…,"id":…}`: OpenSIPS's member order, `id` last. */
export function printSuccess(id: RpcId, result: unknown): string {
  return `{"jsonrpc":"2.0","result":${printJson(result)},"id":${printId(id)}}`;
}

/** `{"jsonrpc":"2.0","error":{"code":…,"message":…[,"data":…]},"id":…}` */
export function printError(id: RpcId, error: RpcErrorBody): string {
  const data = error.data === undefined ? "" : `,"data":${JSON.stringify(error.data)}`;
  return `{"jsonrpc":"2.0","error":{"code":${error.code},"message":${JSON.stringify(error.message)}${data}},"id":${printId(id)}}`;
}

/** The text of the first JSON value (mi_http and mi_datagram ignore what follows it), or the whole text. */
export function firstValue(text: string): string {
  const scan = scanJsonValue(text);
  return scan.kind === "value" ? text.slice(scan.start, scan.end) : text;
}
