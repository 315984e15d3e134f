import { readFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import type { Server, Socket } from "node:net";
import { connect as tlsConnect, createServer as createTlsServer } from "node:tls";
import type { ConnectionOptions, SecureContextOptions } from "node:tls";
import { isIP } from "node:net";
import { ConfigError, TransportError } from "../../errors.js";
import type { TlsSocketOptions } from "../../config/config.js";
import { StreamFramer } from "../stream-framer.js";
import type { SipMessage } from "../message.js";
import type { Peer } from "./udp.js";
import type { SocketSpec } from "./socket-spec.js";
import { canonicalIpv6, formatSocketSpec } from "./socket-spec.js";

/** A message (or a framing/parse failure: `undefined`) read from one connection. */
export type StreamMessageHandler = (message: SipMessage | undefined, from: Peer, connectionId: number) => void;

export interface StreamHandlers {
  readonly onMessage: StreamMessageHandler;
  /** The connection is gone (error, reset, peer close, idle close): fail what was waiting on it. */
  readonly onClosed: (connectionId: number, error: TransportError) => void;
  /** Transactions still open on this connection: an idle timeout leaves a busy connection alone. */
  readonly isBusy: (connectionId: number) => boolean;
}

export interface StreamTransportOptions {
  /** Close a connection after this long without traffic (OpenSIPS `tcp_connection_lifetime`, default 120 s). */
  readonly idleMs?: number;
  /** Give up connecting after this long (OpenSIPS `tcp_connect_timeout` is 100 ms; we are more patient). */
  readonly connectTimeoutMs?: number;
  readonly tls?: TlsSocketOptions;
}

interface Connection {
  readonly id: number;
  readonly key: string | undefined;
  readonly socket: Socket;
  readonly peer: Peer;
  closed: boolean;
}

let nextConnectionId = 1;

/**
 * TCP or TLS for one configured `tcp:`/`tls:` socket. Connections are opened on demand and reused for every
 * request to the same destination (RFC 3261 §18.1.1, the connection-reuse idea of RFC 5923), framed by
 * Content-Length (§18.3), and closed after `idleMs` without traffic. The local listener accepts connections a
 * registrar opens back to our Via sent-by (§18.2.2); responses read there are matched like any other.
 *
 * Outgoing connections leave from the socket's IP with an ephemeral port, as OpenSIPS does (the golden TCP
 * trace: Via says 5080, the connection comes from 37785); the Via sent-by names the listener.
 */
export class StreamTransport {
  private readonly pool = new Map<string, Connection>();
  private readonly all = new Map<number, Connection>();
  private readonly idleMs: number;
  private readonly connectTimeoutMs: number;
  private readonly clientTls: ConnectionOptions | undefined;

  private constructor(
    readonly spec: SocketSpec,
    private readonly server: Server | undefined,
    private readonly handlers: StreamHandlers,
    opts: StreamTransportOptions,
    clientTls: ConnectionOptions | undefined,
  ) {
    this.idleMs = opts.idleMs ?? 120_000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.clientTls = clientTls;
  }

  /**
   * Binds the listener. For `tls:` a listener needs a certificate and key; without them the socket sends only
   * (its sent-by is still the configured address). Port 0 picks a free port.
   */
  static async listen(
    spec: SocketSpec,
    handlers: StreamHandlers,
    opts: StreamTransportOptions = {},
  ): Promise<StreamTransport> {
    let clientTls: ConnectionOptions | undefined;
    let server: Server | undefined;
    if (spec.proto === "tls") {
      const t = opts.tls ?? { verify: true };
      const secure: SecureContextOptions = {};
      try {
        if (t.ca !== undefined) secure.ca = readFileSync(t.ca);
        if (t.cert !== undefined) secure.cert = readFileSync(t.cert);
        if (t.key !== undefined) secure.key = readFileSync(t.key);
      } catch (err) {
        throw new ConfigError(`tls["${formatSocketSpec(spec)}"]: ${(err as Error).message}`, { cause: err });
      }
      clientTls = {
        ...secure,
        rejectUnauthorized: t.verify,
        ...(t.servername !== undefined ? { servername: t.servername } : {}),
      };
      if (secure.cert !== undefined && secure.key !== undefined)
        server = createTlsServer({ ...secure, requestCert: false });
    } else {
      server = createServer();
    }
    let port = spec.port;
    if (server !== undefined) {
      const srv = server;
      await new Promise<void>((resolve, reject) => {
        srv.once("error", reject);
        srv.listen({ port: spec.port, host: spec.host, ipv6Only: spec.family === 6 }, () => {
          srv.off("error", reject);
          resolve();
        });
      });
      srv.on("error", () => undefined);
      const addr = srv.address();
      if (addr !== null && typeof addr === "object") port = addr.port;
    }
    const transport = new StreamTransport({ ...spec, port }, server, handlers, opts, clientTls);
    server?.on(spec.proto === "tls" ? "secureConnection" : "connection", (socket: Socket) => transport.adopt(socket));
    return transport;
  }

  get name(): string {
    return formatSocketSpec(this.spec);
  }

  /** Open connections (for stats and tests). */
  get connectionCount(): number {
    return this.all.size;
  }

  /**
   * The pooled connection to `to`, opened if needed; its id is known at once so the transaction can be tied to
   * it before any byte moves. Failures arrive through `onClosed`.
   */
  connect(to: Peer, servername: string): number {
    const key = `${to.address}|${to.port}|${servername}`;
    const conn = this.pool.get(key);
    if (conn !== undefined && !conn.closed) return conn.id;
    return this.open(key, to, servername).id;
  }

  /** Writes on a connection; false when it is gone (Node buffers writes while still connecting). */
  write(connectionId: number, bytes: Buffer): boolean {
    const conn = this.all.get(connectionId);
    if (conn === undefined || conn.closed) return false;
    conn.socket.write(bytes);
    return true;
  }

  async close(): Promise<void> {
    for (const c of [...this.all.values()]) this.closeConnection(c, new TransportError("transport closed"));
    const srv = this.server;
    if (srv !== undefined) await new Promise<void>((resolve) => srv.close(() => resolve()));
  }

  private open(key: string, to: Peer, servername: string): Connection {
    const local = this.spec.host === "0.0.0.0" || this.spec.host === "::" ? {} : { localAddress: this.spec.host };
    let socket: Socket;
    if (this.spec.proto === "tls") {
      // the configured servername wins; else the URI host (RFC 5922 §7.1), sent as SNI only when it is a name
      const sni = this.clientTls?.servername === undefined && isIP(servername) === 0 ? { servername } : {};
      socket = tlsConnect({ ...this.clientTls, ...sni, host: to.address, port: to.port, ...local });
    } else {
      socket = createConnection({ host: to.address, port: to.port, ...local });
    }
    socket.setNoDelay(true);
    const conn = this.track(socket, key, to);
    const timer = setTimeout(
      () => this.closeConnection(conn, new TransportError(`connect to ${to.address}:${to.port} timed out`)),
      this.connectTimeoutMs,
    );
    socket.once(this.spec.proto === "tls" ? "secureConnect" : "connect", () => clearTimeout(timer));
    socket.once("close", () => clearTimeout(timer));
    this.pool.set(key, conn);
    return conn;
  }

  private adopt(socket: Socket): void {
    const peer = { address: normalize(socket.remoteAddress ?? ""), port: socket.remotePort ?? 0 };
    this.track(socket, undefined, peer);
  }

  private track(socket: Socket, key: string | undefined, peer: Peer): Connection {
    const conn: Connection = { id: nextConnectionId++, key, socket, peer, closed: false };
    this.all.set(conn.id, conn);
    const framer = new StreamFramer();
    socket.on("data", (chunk: Buffer) => {
      for (const frame of framer.push(chunk)) {
        this.handlers.onMessage(frame.ok ? frame.message : undefined, peer, conn.id);
        if (!frame.ok && frame.fatal) {
          // §18.3: framing lost on a stream cannot be recovered; drop the connection
          this.closeConnection(conn, new TransportError(`framing error from ${peer.address}:${peer.port}`));
          return;
        }
      }
    });
    socket.setTimeout(this.idleMs, () => {
      if (!this.handlers.isBusy(conn.id)) this.closeConnection(conn, new TransportError("idle connection closed"));
      else socket.setTimeout(this.idleMs); // still waiting for an answer: look again one idle period later
    });
    socket.on("error", (err) =>
      this.closeConnection(
        conn,
        new TransportError(`${this.spec.proto} connection ${peer.address}:${peer.port}: ${err.message}`, {
          cause: err,
        }),
      ),
    );
    socket.on("close", () =>
      this.closeConnection(
        conn,
        new TransportError(`${this.spec.proto} connection ${peer.address}:${peer.port} closed`),
      ),
    );
    return conn;
  }

  private closeConnection(conn: Connection, error: TransportError): void {
    if (conn.closed) return;
    conn.closed = true;
    this.all.delete(conn.id);
    if (conn.key !== undefined && this.pool.get(conn.key) === conn) this.pool.delete(conn.key);
    conn.socket.destroy();
    this.handlers.onClosed(conn.id, error);
  }
}

function normalize(address: string): string {
  if (address.startsWith("::ffff:") && isIP(address.slice(7)) === 4) return address.slice(7);
  return isIP(address) === 6 ? canonicalIpv6(address) : address;
}
