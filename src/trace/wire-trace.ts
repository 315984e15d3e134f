import type { SipMessage } from "../sip/message.js";
import { headerValue } from "../sip/message.js";
import type { TransactionObserver } from "../sip/sip-client.js";
import type { SipTrace } from "./sip-trace.js";

/** What the feeders need of the trace: whether anything is traced right now, and where to report. */
export type TraceFeed = Pick<SipTrace, "active" | "callback">;

/**
 * The part of SipStack's `onWire` event the trace reads (structurally the stack's WireEvent): what was
 * written, retransmissions included, and what was read, parsed.
 */
export type WireEventLike =
  | {
      readonly direction: "out";
      readonly socket: string;
      readonly peer: { readonly address: string; readonly port: number };
      readonly bytes: Buffer;
    }
  | {
      readonly direction: "in";
      readonly socket: string;
      readonly peer: { readonly address: string; readonly port: number };
      readonly message: SipMessage | undefined;
    };

/**
 * `SipStackOptions.onWire` → trace. A message that did not parse has no Call-ID and is not traced. While nothing
 * is traced it returns at once: every datagram passes here, and reading its Call-ID or re-rendering it was
 * several percent of a registration storm (docs/performance.md).
 */
export function wireTrace(feed: TraceFeed): (event: WireEventLike) => void {
  const trace = feed.callback;
  return (event) => {
    if (!feed.active) return;
    const peer = `${event.socket.slice(0, event.socket.indexOf(":"))}:${hostPort(event.peer)}`;
    if (event.direction === "out") {
      const callId = callIdOfBytes(event.bytes);
      if (callId !== undefined) trace({ kind: "out", callId, bytes: event.bytes, peer });
      return;
    }
    const message = event.message;
    if (message === undefined) return;
    const callId = headerValue(message, "call-id");
    if (callId !== undefined) trace({ kind: "in", callId, bytes: formatMessage(message), peer });
  };
}

/**
 * A transaction observer (SendPacer.observe) that reports the outcomes without a message of their own (Timer F,
 * transport errors) to the trace, under the request's Call-ID. The outcome is looked at when it comes: the trace
 * may have been switched on since the request left.
 */
export function traceOutcomes(feed: TraceFeed): TransactionObserver {
  return (request, outcome) => {
    if (outcome.kind === "response" || !feed.active) return;
    const detail =
      outcome.kind === "timeout"
        ? `no final response${where(outcome.destination)}`
        : `${outcome.error.message}${where(outcome.destination)}`;
    feed.callback({ kind: outcome.kind, callId: request.callId, detail });
  };
}

function where(d: { transport: string; address: string; port: number } | undefined): string {
  return d === undefined ? "" : ` from ${d.transport}:${hostPort(d)}`;
}

function hostPort(p: { readonly address: string; readonly port: number }): string {
  return p.address.includes(":") ? `[${p.address}]:${p.port}` : `${p.address}:${p.port}`;
}

/** RFC 3261 §7.3.3: `i` is the compact Call-ID */
function callIdOfBytes(bytes: Buffer): string | undefined {
  const head = bytes.subarray(0, Math.min(bytes.length, 4096)).toString("latin1");
  return /^(?:call-id|i)[ \t]*:[ \t]*(\S+)/im.exec(head)?.[1];
}

const SPECIAL_NAMES: Readonly<Record<string, string>> = {
  "call-id": "Call-ID",
  cseq: "CSeq",
  "www-authenticate": "WWW-Authenticate",
  "mime-version": "MIME-Version",
};

/**
 * The stack hands over incoming messages parsed (header names in their canonical long lower-case form, values
 * unfolded), so the trace shows them re-rendered with the usual capitalisation; the values are the peer's.
 */
export function formatMessage(message: SipMessage): string {
  const start =
    message.kind === "request"
      ? `${message.method} ${message.uri} SIP/2.0`
      : `SIP/2.0 ${message.status} ${message.reason}`;
  const lines = [start];
  for (const h of message.headers) lines.push(`${displayName(h.name)}: ${h.value}`);
  return `${lines.join("\r\n")}\r\n\r\n${message.body.toString("utf8")}`;
}

function displayName(name: string): string {
  return SPECIAL_NAMES[name] ?? name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}
