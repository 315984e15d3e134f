import { execFile } from "node:child_process";
import { createSocket } from "node:dgram";
import { constants, createReadStream } from "node:fs";
import { open, unlink, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { promisify } from "node:util";

/** MI clients that behave as opensips-cli's (python-opensips) do on each transport. */

export interface HttpReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** POST as Python urllib does: Content-Type application/json, Connection: close. */
export function httpPost(
  port: number,
  body: string | Buffer,
  opts: { path?: string; method?: string; contentType?: string | null; auth?: string } = {},
): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {
      "Accept-Encoding": "identity",
      "User-Agent": "Python-urllib/3.11",
      Connection: "close",
    };
    if (opts.contentType !== null) headers["Content-Type"] = opts.contentType ?? "application/json";
    if (opts.auth !== undefined) headers["Authorization"] = opts.auth;
    const data = typeof body === "string" ? Buffer.from(body) : body;
    headers["Content-Length"] = data.length;
    const req = request(
      { host: "127.0.0.1", port, path: opts.path ?? "/mi", method: opts.method ?? "POST", headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
        );
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

let seq = 0;

/**
 * python-opensips's FIFO client: makes `opensips_fifo_reply_<pid>_<n>` in `replyDir`, writes
 * `:name:json` into the MI FIFO, reads the reply until EOF.
 */
export async function fifoCall(
  fifo: string,
  replyDir: string,
  json: string,
  opts: { timeoutMs?: number } = {},
): Promise<string> {
  const name = `opensips_fifo_reply_${process.pid}_${++seq}`;
  const path = join(replyDir, name);
  await promisify(execFile)("mkfifo", ["-m", "0666", path]);
  try {
    // blocking open (thread pool): returns when the server opens its write end
    const opening = open(path, "r");
    await writeFile(fifo, `:${name}:${json}`);
    let timeout: NodeJS.Timeout | undefined;
    const timer = new Promise<never>((_, reject) => {
      timeout = setTimeout(() => {
        // release the blocked open() so no thread-pool thread stays stuck on a FIFO nobody writes
        void open(path, constants.O_WRONLY | constants.O_NONBLOCK)
          .then((w) => w.close())
          .finally(() => void opening.then((h) => h.close()).catch(() => undefined));
        reject(new Error("no FIFO reply"));
      }, opts.timeoutMs ?? 10_000);
    });
    const handle = await Promise.race([opening, timer]);
    clearTimeout(timeout);
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      const s = createReadStream("", { fd: handle.fd, autoClose: false });
      s.on("data", (c) => chunks.push(c as Buffer));
      s.on("end", resolve);
      s.on("error", reject);
    });
    await handle.close();
    return Buffer.concat(chunks).toString("utf8");
  } finally {
    await unlink(path).catch(() => undefined);
  }
}

/** One datagram out, the first datagram back (python-opensips: new socket per command). */
export function datagramCall(port: number, text: string | Buffer, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createSocket("udp4");
    const timer = setTimeout(() => {
      s.close();
      reject(new Error("no datagram reply"));
    }, timeoutMs);
    s.on("message", (msg) => {
      clearTimeout(timer);
      s.close();
      resolve(msg.toString("utf8"));
    });
    s.on("error", reject);
    s.send(text, port, "127.0.0.1");
  });
}
