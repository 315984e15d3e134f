import { createSocket } from "node:dgram";
import type { Socket } from "node:dgram";
import { headerValue, headerValues } from "../../src/sip/message.js";
import { parseMessage } from "../../src/sip/parse.js";

/** One REGISTER as the registrar received it. */
export interface ReceivedRegister {
  /** Date.now() when the datagram was handed to us */
  readonly atMs: number;
  /** source port: which node sent it */
  readonly port: number;
  readonly callId: string;
  readonly cseq: number;
  readonly expires: number;
  /** answered 200 (false: rejected as out of order, RFC 3261 §10.3 step 7) */
  readonly accepted: boolean;
  /** the binding had already expired (or never existed) when this REGISTER refreshed it */
  readonly lapsed: boolean;
}

interface Binding {
  callId: string;
  cseq: number;
  expiresAtMs: number;
}

/**
 * A small recording registrar over UDP: one binding per AOR (To URI), answered 200 with the Contact and the
 * expiry asked for; a REGISTER with the binding's Call-ID and a CSeq not above it is refused with 500 (RFC 3261
 * §10.3 step 7). Every REGISTER is recorded per AOR with its source port, so a test can tell which node sent what.
 */
export class UdpRegistrar {
  readonly received = new Map<string, ReceivedRegister[]>();
  private readonly bindings = new Map<string, Binding>();

  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {}

  static async start(): Promise<UdpRegistrar> {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
    const reg = new UdpRegistrar(socket, socket.address().port);
    socket.on("message", (buf, rinfo) => reg.onMessage(buf, rinfo.address, rinfo.port));
    return reg;
  }

  /** AORs whose binding is valid now */
  registeredCount(nowMs = Date.now()): number {
    let n = 0;
    for (const b of this.bindings.values()) if (b.expiresAtMs > nowMs) n++;
    return n;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private onMessage(buf: Buffer, address: string, port: number): void {
    const atMs = Date.now();
    const parsed = parseMessage(buf);
    if (!parsed.ok || parsed.message.kind !== "request" || parsed.message.method !== "REGISTER") return;
    const msg = parsed.message;
    const to = headerValue(msg, "to") ?? "";
    const aor = /<([^>]+)>/.exec(to)?.[1] ?? to.split(";")[0]?.trim() ?? "";
    const callId = headerValue(msg, "call-id") ?? "";
    const cseq = Number((headerValue(msg, "cseq") ?? "0").trim().split(/\s+/)[0]);
    const contact = headerValue(msg, "contact") ?? "";
    const expParam = /;\s*expires=(\d+)/i.exec(contact)?.[1];
    const expires = Number(expParam ?? headerValue(msg, "expires") ?? 3600);
    const prev = this.bindings.get(aor);
    const lapsed = prev === undefined || prev.expiresAtMs <= atMs;
    const accepted = prev === undefined || prev.callId !== callId || cseq > prev.cseq;
    if (accepted) {
      if (expires === 0) this.bindings.delete(aor);
      else this.bindings.set(aor, { callId, cseq, expiresAtMs: atMs + expires * 1000 });
    }
    const list = this.received.get(aor) ?? [];
    list.push({ atMs, port, callId, cseq, expires, accepted, lapsed });
    this.received.set(aor, list);

    const lines = [accepted ? "SIP/2.0 200 OK" : "SIP/2.0 500 Out of order CSeq"];
    for (const v of headerValues(msg, "via")) lines.push(`Via: ${v}`);
    lines.push(`From: ${headerValue(msg, "from") ?? ""}`);
    lines.push(`To: ${to};tag=reg${port}`);
    lines.push(`Call-ID: ${callId}`);
    lines.push(`CSeq: ${headerValue(msg, "cseq") ?? ""}`);
    if (accepted && expires > 0) lines.push(`Contact: ${contact.replace(/;\s*expires=\d+/i, "")};expires=${expires}`);
    lines.push("Content-Length: 0", "", "");
    this.socket.send(Buffer.from(lines.join("\r\n")), port, address);
  }
}
