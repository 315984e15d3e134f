import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The MI HTTP server's optional Basic auth (config `mi_http.auth`), for the extra routes it serves
 * (/metrics, /dashboard): same credentials, same realm, compared in constant time.
 */
export function withBasicAuth(
  auth: { readonly username: string; readonly password: string } | undefined,
  handler: HttpHandler,
): HttpHandler {
  if (auth === undefined) return handler;
  const expected = Buffer.from(`Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`);
  return (req, res) => {
    const given = Buffer.from(req.headers.authorization ?? "");
    if (given.length === expected.length && timingSafeEqual(given, expected)) return handler(req, res);
    const body = "<html><body>Unauthorized</body></html>";
    res.writeHead(401, {
      "WWW-Authenticate": 'Basic realm="OpenSIPS MI"',
      "Content-Type": "text/html",
      "Content-Length": Buffer.byteLength(body),
    });
    res.end(body);
  };
}
