import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { withBasicAuth } from "../metrics/http-basic-auth.js";
import type { HttpHandler } from "../metrics/http-basic-auth.js";

/** Where the page's plain ES modules live: shipped as they are, no build step (src/dashboard/public). */
const PUBLIC_DIR = new URL("../../src/dashboard/public/", import.meta.url);

const FILES: Readonly<Record<string, string>> = {
  "index.html": "text/html; charset=utf-8",
  "dashboard.css": "text/css; charset=utf-8",
  "main.js": "text/javascript; charset=utf-8",
  "model.js": "text/javascript; charset=utf-8",
  "rpc-socket.js": "text/javascript; charset=utf-8",
  "virtual-table.js": "text/javascript; charset=utf-8",
  "detail-pane.js": "text/javascript; charset=utf-8",
};

export interface DashboardOptions {
  /** the MI HTTP server's optional Basic auth: the page is behind the same credentials */
  readonly auth?: { readonly username: string; readonly password: string };
  /**
   * The events websocket the page reads (config `events.websocket` with the bound port), or undefined when
   * it is disabled. A wildcard `ip` (0.0.0.0, ::) makes the page use the host it was loaded from.
   */
  readonly websocket?: { readonly ip: string; readonly port: number; readonly path: string; readonly token?: string };
  /** mount point (default /dashboard) */
  readonly path?: string;
}

export interface DashboardRoute {
  readonly path: string;
  readonly handler: HttpHandler;
}

/**
 * The routes of the dashboard, to mount on the MI HTTP server: `for (const r of dashboardRoutes(o))
 * miHttp.route(r.path, r.handler)`. `/dashboard` redirects to `/dashboard/` so the page's relative module
 * URLs resolve under it; `config.json` tells the page where the events websocket is (and its token, to a
 * client that passed the MI auth).
 */
export function dashboardRoutes(options: DashboardOptions = {}): DashboardRoute[] {
  const base = (options.path ?? "/dashboard").replace(/\/+$/, "");
  const guard = (h: HttpHandler): HttpHandler => withBasicAuth(options.auth, getOnly(h));
  const routes: DashboardRoute[] = [
    {
      path: base,
      handler: guard((_req, res) => {
        res.writeHead(302, { Location: `${base}/`, "Content-Length": 0 });
        res.end();
      }),
    },
  ];
  for (const [file, type] of Object.entries(FILES)) {
    const body = readFileSync(new URL(file, PUBLIC_DIR));
    const handler = guard((req, res) => send(req, res, 200, type, body));
    routes.push({ path: `${base}/${file}`, handler });
    if (file === "index.html") routes.push({ path: `${base}/`, handler });
  }
  const ws = options.websocket;
  const config = Buffer.from(
    JSON.stringify({
      websocket:
        ws === undefined
          ? null
          : {
              ...(ws.ip === "0.0.0.0" || ws.ip === "::" || ws.ip === "" ? {} : { host: ws.ip }),
              port: ws.port,
              path: ws.path,
              ...(ws.token === undefined ? {} : { token: ws.token }),
            },
    }),
  );
  routes.push({
    path: `${base}/config.json`,
    handler: guard((req, res) => send(req, res, 200, "application/json", config)),
  });
  return routes;
}

function getOnly(h: HttpHandler): HttpHandler {
  return (req, res) => {
    if (req.method === "GET" || req.method === "HEAD") return h(req, res);
    res.writeHead(405, { Allow: "GET, HEAD", "Content-Length": 0 });
    res.end();
  };
}

function send(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: Buffer): void {
  res.writeHead(status, {
    "Content-Type": type,
    "Content-Length": body.length,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy":
      "default-src 'self'; connect-src 'self' ws: wss:; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
  });
  res.end(req.method === "HEAD" ? undefined : body);
}
