import type { Logger } from "../log.js";
import { withBasicAuth } from "./http-basic-auth.js";
import type { HttpHandler } from "./http-basic-auth.js";
import type { Metrics } from "./metrics.js";

/**
 * `GET /metrics` in the Prometheus text format, to mount on the MI HTTP server
 * (`miHttp.route("/metrics", metricsRoute(...))`), behind the same optional Basic auth as MI.
 */
export function metricsRoute(
  metrics: Pick<Metrics, "scrape" | "contentType">,
  options: { readonly log: Logger; readonly auth?: { readonly username: string; readonly password: string } },
): HttpHandler {
  const log = options.log.child({ mod: "metrics" });
  return withBasicAuth(options.auth, (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD", "Content-Length": 0 });
      res.end();
      return;
    }
    metrics.scrape().then(
      (text) => {
        res.writeHead(200, { "Content-Type": metrics.contentType, "Content-Length": Buffer.byteLength(text) });
        res.end(req.method === "HEAD" ? undefined : text);
      },
      (err: unknown) => {
        log.error({ err }, "metrics scrape failed");
        res.writeHead(500, { "Content-Length": 0 });
        res.end();
      },
    );
  });
}
