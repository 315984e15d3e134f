import { createSocket } from "node:dgram";
import type { Socket } from "node:dgram";
import { lookup as dnsLookup } from "node:dns";
import type { LookupOneOptions } from "node:dns";
import { isIP } from "node:net";
import { TransportError } from "../../errors.js";
import type { SocketSpec } from "./socket-spec.js";
import { formatSocketSpec } from "./socket-spec.js";

/** Where a datagram or a stream chunk came from. */
export interface Peer {
  readonly address: string;
  readonly port: number;
}

/** Told when a datagram could not be handed to the kernel (the transaction that sent it fails). */
export interface SendFailureSink {
  failed(error: TransportError): void;
}

export interface UdpTransportOptions {
  /** Larger kernel buffers keep bursts of responses (100k in flight) from being dropped on loopback. */
  readonly recvBufferSize?: number;
  readonly sendBufferSize?: number;
}

/**
 * One bound UDP socket per configured `udp:` listen address (RFC 3261 §18.1.1 / RFC 3581: the registrar answers
 * to the source address and port, which is this socket, so responses arrive here in any order).
 */
export class UdpTransport {
  private constructor(
    readonly spec: SocketSpec,
    private readonly socket: Socket,
  ) {}

  /** Binds the socket; port 0 picks a free port (then `spec.port` is the real one). */
  static async bind(
    spec: SocketSpec,
    onDatagram: (data: Buffer, address: string, port: number) => void,
    opts: UdpTransportOptions = {},
  ): Promise<UdpTransport> {
    const socket = createSocket({
      type: spec.family === 6 ? "udp6" : "udp4",
      ipv6Only: spec.family === 6,
      lookup: ipLiteralLookup,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(spec.port, spec.host, () => {
        socket.off("error", reject);
        resolve();
      });
    });
    if (opts.recvBufferSize !== undefined) socket.setRecvBufferSize(opts.recvBufferSize);
    if (opts.sendBufferSize !== undefined) socket.setSendBufferSize(opts.sendBufferSize);
    // ICMP errors and the like arrive here; a UDP socket stays usable, transactions time out on their own.
    socket.on("error", () => undefined);
    socket.on("message", (data, rinfo) => onDatagram(data, rinfo.address, rinfo.port));
    const bound = socket.address();
    return new UdpTransport({ ...spec, port: bound.port }, socket);
  }

  /** `udp:ip:port` of this socket. */
  get name(): string {
    return formatSocketSpec(this.spec);
  }

  /** Fire and forget; a failure to hand the datagram to the kernel is reported to `sink`. */
  send(bytes: Buffer, to: Peer, sink: SendFailureSink): void {
    try {
      this.socket.send(bytes, to.port, to.address, (err) => {
        if (err) sink.failed(sendError(to, err));
      });
    } catch (err) {
      // bad port or address family, closed socket: reported like any send failure, never thrown at the caller
      sink.failed(sendError(to, err as Error));
    }
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * The socket's resolver: an IP literal (what the SIP layer sends to) answered at once, anything else by
 * `dns.lookup`. Node's default, `dns.lookup`, answers a literal one `nextTick` later, through an options check,
 * a tick object and its closures: about 1.1 KB and a tick per datagram sent. (`options` is typed as
 * `createSocket` declares it; dgram passes the socket's family, a number, which `dns.lookup` takes as well.)
 */
export function ipLiteralLookup(hostname: string, options: LookupOneOptions, callback: LookupCallback): void {
  const family = isIP(hostname);
  if (family !== 0) callback(null, hostname, family);
  else dnsLookup(hostname, options, callback);
}

function sendError(to: Peer, err: Error): TransportError {
  return new TransportError(`udp send to ${to.address}:${to.port} failed: ${err.message}`, { cause: err });
}
