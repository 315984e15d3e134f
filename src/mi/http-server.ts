import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { timingSafeEqual } from "node:crypto";
import type { MiHttpConfig } from "../config/config.js";
import type { Logger } from "../log.js";
import type { MiDispatcher } from "./dispatch.js";
import { firstValue } from "./jsonrpc.js";

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void;
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface MiHttpServer {
  /** the node server, for modules that need more than a route (it is already listening) */
  readonly server: Server;
  /** `{ address, port }` actually bound (port 0 in tests) */
  address(): { address: string; port: number };
  /** Serves another path on the same listener (dashboard, metrics); the MI root keeps OpenSIPS's rules. */
  route(path: string, handler: RouteHandler): void;
  /** Takes HTTP upgrades (websocket) for a path; other upgrades are refused. */
  upgrade(path: string, handler: UpgradeHandler): void;
  close(): Promise<void>;
}

/**
 * Largest request body read. OpenSIPS 4.0's httpd keeps `receive_buf_size` bytes (1024 by default) and the MI
 * core then fails to parse the cut text (-32700); we keep more (an upsert with long params is ~1 KiB), answer
 * -32700 past it the same way, and stop reading at HARD_LIMIT.
 */
export const MI_HTTP_BODY_LIMIT = 64 * 1024;
const HARD_LIMIT = 1024 * 1024;
const REALM = "OpenSIPS MI";

/**
 * OpenSIPS `mi_http` over `httpd` (reference mi-and-events §2): POST with application/json to `/<root>` (or
 * `/<root>/anything`), one JSON-RPC request per body, compact reply with status 200 whatever the JSON-RPC
 * outcome; 202 and no body for a notification, 400 for an empty body, 405 for GET, 406 for other methods,
 * 400 "Unable to parse URL!" for another path, 401 when Basic auth is configured and not satisfied.
 */
export async function startMiHttp(config: MiHttpConfig, dispatcher: MiDispatcher, log: Logger): Promise<MiHttpServer> {
  const mlog = log.child({ mod: "mi.http" });
  const root = `/${config.root.replace(/^\/+|\/+$/g, "")}`;
  const routes = new Map<string, RouteHandler>();
  const upgrades = new Map<string, UpgradeHandler>();
  const expectedAuth =
    config.auth === undefined
      ? undefined
      : Buffer.from(`Basic ${Buffer.from(`${config.auth.username}:${config.auth.password}`).toString("base64")}`);

  const refuse = (req: IncomingMessage, res: ServerResponse, status: number, why: string, html?: string): void => {
    mlog.warn(
      { status, method: req.method, url: req.url, remote: req.socket.remoteAddress },
      "MI HTTP request refused: %s",
      why,
    );
    if (html === undefined) {
      res.writeHead(status, { "Content-Type": "application/json", "Content-Length": 0 });
      res.end();
    } else {
      res.writeHead(status, { "Content-Type": "text/html", "Content-Length": Buffer.byteLength(html) });
      res.end(html);
    }
  };

  const authorized = (req: IncomingMessage): boolean => {
    if (!expectedAuth) return true;
    const given = Buffer.from(req.headers.authorization ?? "");
    return given.length === expectedAuth.length && timingSafeEqual(given, expectedAuth);
  };

  const serveMi = (req: IncomingMessage, res: ServerResponse): void => {
    if (!authorized(req)) {
      res.setHeader("WWW-Authenticate", `Basic realm="${REALM}"`);
      refuse(req, res, 401, "bad or missing credentials", "<html><body>Unauthorized</body></html>");
      return;
    }
    if (req.method === "GET") return refuse(req, res, 405, "GET on the MI root");
    if (req.method !== "POST")
      return refuse(req, res, 406, `method ${req.method}`, "<html><body>Unsupported HTTP request!</body></html>");
    const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    if (type === "application/x-www-form-urlencoded") return refuse(req, res, 400, "form-encoded body");
    if (type !== "application/json") {
      // OpenSIPS's httpd drops such a request without any HTTP answer
      mlog.warn(
        { contentType: type, remote: req.socket.remoteAddress },
        "MI HTTP request refused: Content-Type is not application/json",
      );
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MI_HTTP_BODY_LIMIT) chunks.push(chunk);
      else if (size > HARD_LIMIT) {
        mlog.warn(
          { size, remote: req.socket.remoteAddress },
          "MI HTTP request refused: body over %d bytes",
          HARD_LIMIT,
        );
        req.socket.destroy();
      }
    });
    req.on("error", () => undefined);
    req.on("end", () => {
      if (size === 0) return refuse(req, res, 400, "empty body");
      const text = size > MI_HTTP_BODY_LIMIT ? "" : Buffer.concat(chunks).toString("utf8");
      if (size > MI_HTTP_BODY_LIMIT)
        mlog.warn({ size }, "MI HTTP body over %d bytes: answered as unparsable", MI_HTTP_BODY_LIMIT);
      void dispatcher.handle(firstValue(text), "http").then((outcome) => {
        switch (outcome.kind) {
          case "reply":
          case "parse-error":
            res.writeHead(200, {
              "Content-Type": "application/json",
              "Content-Length": Buffer.byteLength(outcome.text),
            });
            res.end(outcome.text);
            return;
          case "silent":
            res.writeHead(202, { "Content-Type": "application/json", "Content-Length": 0 });
            res.end();
            return;
          case "failed":
            res.writeHead(500, { "Content-Type": "application/json", "Content-Length": 0 });
            res.end();
            return;
        }
      });
    });
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const extra = routes.get(path);
    if (extra) return extra(req, res);
    if (path === root || path.startsWith(`${root}/`)) return serveMi(req, res);
    refuse(req, res, 400, "path is not the MI root", "<html><body>Unable to parse URL!</body></html>");
  });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const handler = upgrades.get((req.url ?? "/").split("?")[0]!);
    if (handler) handler(req, socket, head);
    else socket.destroy();
  });
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });
  // OpenSIPS httpd `conn_timeout`: 30 s idle
  server.requestTimeout = 30_000;
  server.headersTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.ip, () => {
      server.off("error", reject);
      resolve();
    });
  });
  // after listening, a server error (EMFILE…) is logged; it must not take the daemon down
  server.on("error", (err) => mlog.error({ err }, "MI HTTP server error"));
  const bound = server.address();
  const address =
    typeof bound === "object" && bound
      ? { address: bound.address, port: bound.port }
      : { address: config.ip, port: config.port };
  mlog.info({ ip: address.address, port: address.port, root, auth: expectedAuth !== undefined }, "MI HTTP listening");

  return {
    server,
    address: () => address,
    route: (path, handler) => void routes.set(path, handler),
    upgrade: (path, handler) => void upgrades.set(path, handler),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
