import type { RegisterRequest } from "./sip-client.js";

/** What the transport knows about the hop: the Via sent-by and the transaction's branch (RFC 3261 §18.1.1). */
export interface ViaSpec {
  readonly transport: "UDP" | "TCP" | "TLS";
  /** local address; an IPv6 address may be given with or without brackets */
  readonly host: string;
  readonly port: number;
  /** `z9hG4bK...` (§8.1.1.7) */
  readonly branch: string;
  /** RFC 3581: ask the server to answer to the source port */
  readonly rport: boolean;
}

const CRLF = "\r\n";

/** CR and LF would end the header line and let a field inject headers. */
function checkField(label: string, text: string): string {
  if (text.includes("\r") || text.includes("\n")) throw new RangeError(`REGISTER ${label} contains CR or LF`);
  return text;
}

/**
 * Builds a REGISTER byte for byte as OpenSIPS's tm sends it for uac_registrant (reference §6.1, golden
 * traces): Via, To, From, CSeq, Call-ID, Max-Forwards, Content-Length, User-Agent, Contact, then
 * Authorization / Proxy-Authorization. To and From are bare `<uri>` (no display name); the expiry travels only
 * as the Contact `expires` parameter, appended even if the binding params already carry one (OpenSIPS
 * parity), except for `Contact: *`, which takes `Expires: 0` (§6.2, RFC 3261 §10.2.2). No Route header even
 * with an outbound proxy: the proxy is only the destination (§6.3).
 *
 * Fields come from configuration, not from the network: a CR or LF in one is a programmer/validation error
 * and throws a RangeError.
 */
export function serializeRegister(req: RegisterRequest, via: ViaSpec): Buffer {
  // RFC 3261 §8.1.1.5: the CSeq number is a 32-bit unsigned integer below 2**31.
  if (!Number.isInteger(req.cseq) || req.cseq < 0 || req.cseq >= 2 ** 31) throw new RangeError("bad CSeq number");
  if (req.contact !== "*" && (!Number.isInteger(req.contact.expiresSec) || req.contact.expiresSec < 0)) {
    throw new RangeError("bad Contact expires");
  }
  if (!Number.isInteger(via.port) || via.port < 1 || via.port > 65535) throw new RangeError("bad Via port");
  const host = via.host.includes(":") && !via.host.startsWith("[") ? `[${via.host}]` : via.host;
  let out = `REGISTER ${checkField("Request-URI", req.requestUri)} SIP/2.0${CRLF}`;
  out += `Via: SIP/2.0/${via.transport} ${checkField("Via host", host)}:${via.port}`;
  out += `;branch=${checkField("branch", via.branch)}${via.rport ? ";rport" : ""}${CRLF}`;
  out += `To: <${checkField("To", req.to)}>${CRLF}`;
  out += `From: <${checkField("From", req.from)}>;tag=${checkField("From tag", req.fromTag)}${CRLF}`;
  out += `CSeq: ${req.cseq} REGISTER${CRLF}`;
  out += `Call-ID: ${checkField("Call-ID", req.callId)}${CRLF}`;
  out += `Max-Forwards: 70${CRLF}`;
  out += `Content-Length: 0${CRLF}`;
  if (req.userAgent !== undefined) out += `User-Agent: ${checkField("User-Agent", req.userAgent)}${CRLF}`;
  if (req.contact === "*") {
    out += `Contact: *${CRLF}Expires: 0${CRLF}`;
  } else {
    const c = req.contact;
    out += `Contact: <${checkField("Contact", c.uri)}>${checkField("binding params", c.params)};expires=${c.expiresSec}${CRLF}`;
  }
  if (req.authorization !== undefined) {
    out += `${req.authorization.header}: ${checkField("credentials", req.authorization.value)}${CRLF}`;
  }
  out += CRLF;
  return Buffer.from(out, "utf8");
}
