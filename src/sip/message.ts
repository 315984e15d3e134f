/**
 * Parsed SIP messages (RFC 3261 §7). Header names are stored in their canonical long lower-case form
 * (`v` → `via`, `m` → `contact`, ...) so lookups never care how the peer spelt them; values are kept raw
 * (trimmed, unfolded) and parsed on demand by the helpers next to the header they read.
 */
export interface SipHeader {
  /** canonical lower-case long name, e.g. "www-authenticate" */
  readonly name: string;
  readonly value: string;
}

interface SipMessageBase {
  readonly headers: readonly SipHeader[];
  readonly body: Buffer;
}

export interface SipRequest extends SipMessageBase {
  readonly kind: "request";
  readonly method: string;
  readonly uri: string;
}

export interface SipResponse extends SipMessageBase {
  readonly kind: "response";
  readonly status: number;
  readonly reason: string;
}

export type SipMessage = SipRequest | SipResponse;

/** First value of a header (by canonical lower-case name), or undefined. */
export function headerValue(msg: SipMessageBase, name: string): string | undefined {
  for (const h of msg.headers) if (h.name === name) return h.value;
  return undefined;
}

/** Every value of a header, in order, one entry per header line (comma lists are NOT split here). */
export function headerValues(msg: SipMessageBase, name: string): string[] {
  // counted first: an array of the right length, where pushing onto [] reserves 17 slots
  let count = 0;
  for (const h of msg.headers) if (h.name === name) count++;
  const out = new Array<string>(count);
  let i = 0;
  for (const h of msg.headers) if (h.name === name) out[i++] = h.value;
  return out;
}
