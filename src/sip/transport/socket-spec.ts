import { isIP } from "node:net";
import { SocketNotConfiguredError } from "../../errors.js";

/** Transport protocols registrantd sends REGISTERs over. */
export type TransportProto = "udp" | "tcp" | "tls";

/** One local socket, as OpenSIPS writes it in `socket=`/`listen=` and in `forced_socket`. */
export interface SocketSpec {
  readonly proto: TransportProto;
  /** IPv4 dotted quad or IPv6 text without brackets. */
  readonly host: string;
  readonly port: number;
  readonly family: 4 | 6;
}

export type SocketSpecResult =
  { readonly ok: true; readonly spec: SocketSpec } | { readonly ok: false; readonly error: SocketNotConfiguredError };

/** Default ports when a socket string omits one (RFC 3261 §19.1.2: 5060, 5061 for TLS). */
const DEFAULT_PORT: Readonly<Record<TransportProto, number>> = { udp: 5060, tcp: 5060, tls: 5061 };

function isProto(s: string): s is TransportProto {
  return s === "udp" || s === "tcp" || s === "tls";
}

function fail(text: string, why: string): SocketSpecResult {
  return { ok: false, error: new SocketNotConfiguredError(`socket "${text}": ${why}`) };
}

/**
 * Parses `proto:host[:port]` the way OpenSIPS accepts it: `udp:127.0.0.1:5060`, `tcp:[::1]:5060`,
 * `tls:192.0.2.1` (default port). The host must be an IP literal: a socket is a local address, not a name.
 * Port 0 (bind any free port) is accepted for `listen` entries; tests use it.
 */
export function parseSocketSpec(text: string): SocketSpecResult {
  const s = text.trim();
  const colon = s.indexOf(":");
  if (colon < 0) return fail(text, "expected proto:host[:port]");
  const proto = s.slice(0, colon).toLowerCase();
  if (!isProto(proto)) return fail(text, `unsupported protocol "${proto}" (udp, tcp, tls)`);
  const rest = s.slice(colon + 1);
  let host: string;
  let portText: string | undefined;
  if (rest.startsWith("[")) {
    const close = rest.indexOf("]");
    if (close < 0) return fail(text, "unterminated [IPv6] reference");
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== "") {
      if (!after.startsWith(":")) return fail(text, "garbage after [IPv6] reference");
      portText = after.slice(1);
    }
  } else {
    const last = rest.lastIndexOf(":");
    if (last >= 0 && rest.indexOf(":") === last) {
      host = rest.slice(0, last);
      portText = rest.slice(last + 1);
    } else {
      // no colon, or a bare IPv6 address without brackets and so without a port
      host = rest;
    }
  }
  const family = isIP(host);
  if (family !== 4 && family !== 6) return fail(text, `"${host}" is not an IP address`);
  let port = DEFAULT_PORT[proto];
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) return fail(text, `bad port "${portText}"`);
    port = Number(portText);
    if (port > 65535) return fail(text, `port ${port} out of range`);
  }
  return { ok: true, spec: { proto, host: family === 6 ? canonicalIpv6(host) : host, port, family } };
}

/** RFC 5952 text form (`0:0::1` → `::1`), so two spellings of one address compare equal. */
export function canonicalIpv6(host: string): string {
  return new URL(`http://[${host}]/`).hostname.slice(1, -1);
}

/** `proto:ip:port` with IPv6 in brackets: the canonical string MI `list` shows as `socket`. */
export function formatSocketSpec(spec: Pick<SocketSpec, "proto" | "host" | "port">): string {
  return `${spec.proto}:${formatHostPort(spec.host, spec.port)}`;
}

/** `ip:port`, IPv6 bracketed (RFC 3261 §19.1.1 hostport). */
export function formatHostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}
