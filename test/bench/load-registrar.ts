/**
 * The benchmark's load registrar, in its own process: answers every REGISTER without credentials with a 401
 * (Digest, qop=auth, MD5) and every REGISTER with credentials with a 200 OK after checking the digest
 * (RFC 2617 §3.2.2; a wrong one gets a 403). Every user is `<anything>` with password `secret`, so registrantd and
 * the floor program (/work/shared/bench/register-floor.c) register against the same peer.
 *
 * It is written to stay cheap (line scan, no full SIP parse, HA1 cached per user) and reports its own CPU so a
 * reader can see it was not the bottleneck.
 *
 *   node --import tsx test/bench/load-registrar.ts [port]     (prints {"port":N}; stats on SIGUSR2 / IPC)
 *
 * `startLoadRegistrar()` forks it and talks to it over IPC.
 */
import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { createSocket } from "node:dgram";
import { fileURLToPath } from "node:url";

export const LOAD_PASSWORD = "secret";
export const LOAD_REALM = "perf.test";

export interface LoadRegistrarStats {
  readonly received: number;
  readonly challenged: number;
  readonly registered: number;
  readonly rejected: number;
  /** CPU seconds (user + system) of the registrar process since it started */
  readonly cpuUserS: number;
  readonly cpuSysS: number;
}

export interface LoadRegistrar {
  readonly port: number;
  readonly pid: number;
  stats(): Promise<LoadRegistrarStats>;
  stop(): void;
}

const md5 = (s: string): string => createHash("md5").update(s).digest("hex");

/** Value of a `name=value` or `name="value"` digest parameter in `text` (credentials are ours: well formed). */
function param(text: string, name: string): string | undefined {
  let at = text.indexOf(`${name}=`);
  while (at > 0 && /[A-Za-z-]/.test(text[at - 1]!)) at = text.indexOf(`${name}=`, at + 1);
  if (at < 0) return undefined;
  let start = at + name.length + 1;
  if (text[start] === '"') {
    start++;
    const end = text.indexOf('"', start);
    return end < 0 ? undefined : text.slice(start, end);
  }
  let end = start;
  while (end < text.length && text[end] !== "," && text[end] !== " " && text[end] !== "\r") end++;
  return text.slice(start, end);
}

/** The registrar loop (runs in the child process). */
function serve(port: number): void {
  const sock = createSocket("udp4");
  const key = md5(String(Math.random()));
  const ha1Cache = new Map<string, string>();
  let nonceSeq = 0;
  let received = 0;
  let challenged = 0;
  let registered = 0;
  let rejected = 0;

  const nonceSig = (n: string): string => md5(key + n).slice(0, 12);

  sock.on("message", (msg, rinfo) => {
    received++;
    const text = msg.toString("latin1");
    if (!text.startsWith("REGISTER ")) return;
    const lines = text.split("\r\n");
    let out = "";
    let auth: string | undefined;
    let contact: string | undefined;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      if (line === "") break;
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).trim().toLowerCase();
      if (name === "via" || name === "v" || name === "from" || name === "f" || name === "call-id" || name === "i") {
        out += `${line}\r\n`;
      } else if (name === "cseq") out += `${line}\r\n`;
      else if (name === "to" || name === "t") out += `${line};tag=lr1\r\n`;
      else if (name === "contact" || name === "m") contact = line.slice(colon + 1).trim();
      else if (name === "authorization") auth = line.slice(colon + 1).trim();
    }
    let reply: string;
    if (auth === undefined) {
      challenged++;
      const n = (++nonceSeq).toString(36);
      reply =
        `SIP/2.0 401 Unauthorized\r\n${out}` +
        `WWW-Authenticate: Digest realm="${LOAD_REALM}", nonce="${n}.${nonceSig(n)}", qop="auth", algorithm=MD5\r\n` +
        `Content-Length: 0\r\n\r\n`;
    } else {
      const user = param(auth, "username") ?? "";
      const realm = param(auth, "realm") ?? "";
      const nonce = param(auth, "nonce") ?? "";
      const uri = param(auth, "uri") ?? "";
      const cnonce = param(auth, "cnonce") ?? "";
      const nc = param(auth, "nc") ?? "";
      const dot = nonce.indexOf(".");
      let ha1 = ha1Cache.get(user);
      if (ha1 === undefined) {
        ha1 = md5(`${user}:${realm}:${LOAD_PASSWORD}`);
        ha1Cache.set(user, ha1);
      }
      const expected = md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${md5(`REGISTER:${uri}`)}`);
      if (dot > 0 && nonceSig(nonce.slice(0, dot)) === nonce.slice(dot + 1) && param(auth, "response") === expected) {
        registered++;
        reply = `SIP/2.0 200 OK\r\n${out}${contact === undefined ? "" : `Contact: ${contact}\r\n`}Content-Length: 0\r\n\r\n`;
      } else {
        rejected++;
        reply = `SIP/2.0 403 Forbidden\r\n${out}Content-Length: 0\r\n\r\n`;
      }
    }
    sock.send(reply, rinfo.port, rinfo.address);
  });

  const stats = (): LoadRegistrarStats => {
    const cpu = process.cpuUsage();
    return { received, challenged, registered, rejected, cpuUserS: cpu.user / 1e6, cpuSysS: cpu.system / 1e6 };
  };
  process.on("message", (m) => {
    if (m === "stats") process.send?.({ stats: stats() });
  });
  process.on("SIGUSR2", () => process.stdout.write(`${JSON.stringify(stats())}\n`));
  process.on("disconnect", () => process.exit(0));
  sock.bind(port, "127.0.0.1", () => {
    sock.setRecvBufferSize(16 << 20);
    sock.setSendBufferSize(16 << 20);
    const bound = sock.address().port;
    if (process.send !== undefined) process.send({ port: bound });
    else process.stdout.write(`${JSON.stringify({ port: bound })}\n`);
  });
}

/** Forks the registrar (port 0 = any free one) and resolves once it listens. */
export async function startLoadRegistrar(port = 0): Promise<LoadRegistrar> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [String(port)], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const bound = await new Promise<number>((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`load registrar exited (${code})`));
    child.once("exit", onExit);
    child.once("message", (m: { port?: number }) => {
      child.off("exit", onExit);
      if (typeof m.port === "number") resolve(m.port);
      else reject(new Error("load registrar: unexpected first message"));
    });
  });
  return {
    port: bound,
    pid: child.pid!,
    stats: () =>
      new Promise((resolve, reject) => {
        const onMessage = (m: { stats?: LoadRegistrarStats }): void => {
          if (m.stats === undefined) return;
          child.off("message", onMessage);
          resolve(m.stats);
        };
        child.on("message", onMessage);
        if (!child.send("stats")) reject(new Error("load registrar gone"));
      }),
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  serve(Number(process.argv[2] ?? 0));
}
