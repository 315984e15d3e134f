import { createSocket } from "node:dgram";
import type { Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import type { MiDatagramConfig } from "../config/config.js";
import { ConfigError } from "../errors.js";
import type { Logger } from "../log.js";
import type { MiDispatcher } from "./dispatch.js";
import { firstValue } from "./jsonrpc.js";

export interface MiDatagramServer {
  address(): { address: string; port: number };
  close(): Promise<void>;
}

/** OpenSIPS `socket_buf_size` default: the largest request read and reply sent. */
export const MI_DATAGRAM_MAX = 65457;

/** `udp:IP:PORT` (`udp:[v6]:PORT` too), as OpenSIPS's `socket_name`. */
export function parseDatagramSocket(socketName: string): { host: string; port: number } {
  if (socketName.startsWith("unix:") || socketName.startsWith("/")) {
    // Node's dgram has no AF_UNIX sockets
    throw new ConfigError(
      `mi_datagram.socket_name ${socketName}: UNIX datagram sockets are not supported, use udp:IP:PORT`,
    );
  }
  const m = /^udp:(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(socketName);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(`mi_datagram.socket_name ${socketName}: expected udp:IP:PORT`);
  return { host: (m[1] ?? m[2])!, port };
}

/**
 * OpenSIPS `mi_datagram` (reference mi-and-events §4): one JSON-RPC request per datagram, the reply sent back to
 * the sender in one datagram. Text that is not JSON gets the plain `400 Parse_error`; a reply that cannot be
 * built or is too big for one datagram gets `500 Internal error`; notifications get nothing.
 */
export async function startMiDatagram(
  config: MiDatagramConfig,
  dispatcher: MiDispatcher,
  log: Logger,
): Promise<MiDatagramServer> {
  const mlog = log.child({ mod: "mi.datagram" });
  const { host, port } = parseDatagramSocket(config.socket_name);
  const socket: Socket = createSocket({ type: isIPv6(host) ? "udp6" : "udp4", recvBufferSize: MI_DATAGRAM_MAX * 4 });

  const send = (text: string, to: { address: string; port: number }): void => {
    let buf = Buffer.from(text);
    if (buf.length > MI_DATAGRAM_MAX) {
      mlog.warn({ bytes: buf.length }, "MI datagram reply over %d bytes: not sent", MI_DATAGRAM_MAX);
      buf = Buffer.from("500 Internal error");
    }
    socket.send(buf, to.port, to.address, (err) => {
      if (err) mlog.warn({ err, to }, "MI datagram reply not sent");
    });
  };

  socket.on("message", (msg, rinfo) => {
    const to = { address: rinfo.address, port: rinfo.port };
    void dispatcher.handle(firstValue(msg.toString("utf8")), "datagram").then((outcome) => {
      switch (outcome.kind) {
        case "reply":
          return send(outcome.text, to);
        case "parse-error":
          return send("400 Parse_error", to);
        case "failed":
          return send("500 Internal error", to);
        case "silent":
          return;
      }
    });
  });
  socket.on("error", (err) => mlog.error({ err }, "MI datagram socket error"));

  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, host, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  const bound = socket.address();
  mlog.info({ ip: bound.address, port: bound.port }, "MI datagram listening");

  return {
    address: () => ({ address: bound.address, port: bound.port }),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
