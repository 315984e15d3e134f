/**
 * The floor: the same registration exchange (REGISTER → 401 → MD5 digest → REGISTER with Authorization → 200)
 * done by a minimal program, against the same load registrar, so registrantd's CPU per 1,000 registrations is
 * read as a ratio to what the exchange strictly costs on this machine, in the same run.
 *
 * The floor is floor/register-floor.c (the shared bench's program, unchanged), compiled here with the machine's
 * gcc and libcrypto (`apt-get install -y libssl-dev`). Without gcc or the OpenSSL headers the bench falls back to
 * the same loop in plain Node (dgram + crypto, below) and says so in its output.
 *
 *   node --import tsx test/bench/floor.ts REGISTRAR_PORT NAOR WINDOW TOTAL     (runs the C floor, else Node)
 */
import { execFile, fork, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { freePort } from "../support/ports.js";
import { LOAD_PASSWORD } from "./load-registrar.js";

export interface FloorFigures {
  readonly program: "c" | "node";
  /** why the Node floor was used */
  readonly note?: string;
  readonly regs: number;
  readonly wallS: number;
  readonly regsPerS: number;
  readonly cpuS: number;
  readonly cpuPer1000S: number;
  readonly retrans: number;
  readonly window: number;
}

export interface FloorProgram {
  readonly kind: "c" | "node";
  readonly path?: string;
  readonly note?: string;
}

const SOURCE = fileURLToPath(new URL("./floor/register-floor.c", import.meta.url));

/** Compiles the C floor; on failure returns the Node floor with the reason. */
export async function buildFloor(): Promise<FloorProgram> {
  const out = join(await mkdtemp(join(tmpdir(), "registrantd-floor-")), "register-floor");
  try {
    await promisify(execFile)("gcc", ["-O2", "-o", out, SOURCE, "-lcrypto"]);
    return { kind: "c", path: out };
  } catch (err) {
    const why = (err as { stderr?: string }).stderr?.split("\n").find((l) => l.includes("error")) ?? String(err);
    return { kind: "node", note: `C floor not built (${why.trim()}): plain Node dgram+crypto floor used` };
  }
}

/** `regs=... wall=... regs_per_s=... cpu=... (user .. sys ..) cpu_per_1000=... retrans=...` */
function parseFloorLine(line: string, program: FloorProgram, window: number): FloorFigures {
  const num = (key: string): number => Number(new RegExp(`${key}=([0-9.]+)`).exec(line)?.[1] ?? NaN);
  return {
    program: program.kind,
    ...(program.note !== undefined && { note: program.note }),
    regs: num("regs"),
    wallS: num("wall"),
    regsPerS: num("regs_per_s"),
    cpuS: num("cpu"),
    cpuPer1000S: num("cpu_per_1000"),
    retrans: num("retrans"),
    window,
  };
}

export async function runFloor(
  program: FloorProgram,
  registrarPort: number,
  naor: number,
  window: number,
  total: number,
): Promise<FloorFigures> {
  const args = [String(registrarPort), String(await freePort()), String(naor), String(window), String(total)];
  const child =
    program.kind === "c"
      ? spawn(program.path!, ["127.0.0.1", ...args], { stdio: ["ignore", "pipe", "inherit"] })
      : fork(fileURLToPath(import.meta.url), ["--node-floor", ...args], {
          stdio: ["ignore", "pipe", "inherit", "ipc"],
        });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), Math.max(120_000, total * 2));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  clearTimeout(timer);
  const line = out.split("\n").find((l) => l.startsWith("regs="));
  if (code !== 0 || line === undefined) throw new Error(`floor exited ${code}: ${out.trim()}`);
  return parseFloorLine(line, program, window);
}

/** The Node floor: register-floor.c's loop, line for line in dgram + crypto (no registrantd code). */
function nodeFloor(dstPort: number, localPort: number, naor: number, window: number, total: number): void {
  const md5 = (s: string) => createHash("md5").update(s).digest("hex");
  const sock = createSocket("udp4");
  const run = randomBytes(4).toString("hex");
  const cseqs = new Int32Array(naor);
  const slots = Array.from({ length: window }, () => ({ aor: 0, cseq: 0, state: 0, sent: 0, buf: "" }));
  const uri = `sip:127.0.0.1:${dstPort}`;
  let started = 0;
  let done = 0;
  let retrans = 0;
  let nextAor = 0;
  const send = (si: number, auth: string): void => {
    const s = slots[si]!;
    const a = s.aor;
    s.buf =
      `REGISTER ${uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${localPort};branch=z9hG4bK${randomBytes(4).toString("hex")}.${si}\r\n` +
      `To: <sip:u${a}@perf.test>\r\nFrom: <sip:u${a}@perf.test>;tag=${run}${a}\r\nCSeq: ${s.cseq} REGISTER\r\n` +
      `Call-ID: floor${run}-${a}-${si}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\nUser-Agent: floor\r\n` +
      `Contact: <sip:u${a}@127.0.0.1:${localPort}>;expires=300\r\n${auth}\r\n`;
    sock.send(s.buf, dstPort, "127.0.0.1");
    s.sent = performance.now();
  };
  const start = (si: number): void => {
    const s = slots[si]!;
    s.aor = nextAor;
    nextAor = (nextAor + 1) % naor;
    s.cseq = ++cseqs[s.aor]!;
    s.state = 1;
    started++;
    send(si, "");
  };
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const scan = setInterval(() => {
    const t = performance.now();
    for (const s of slots) {
      if (s.state !== 0 && t - s.sent > 1000) {
        sock.send(s.buf, dstPort, "127.0.0.1");
        s.sent = t;
        retrans++;
      }
    }
  }, 200);
  sock.on("message", (m) => {
    const text = m.toString("latin1");
    const code = Number(text.slice(8, 11));
    const c = /\r\nCall-ID: floor[0-9a-f]+-\d+-(\d+)/.exec(text);
    const cs = /\r\nCSeq: (\d+)/.exec(text);
    if (c === null || cs === null) return;
    const si = Number(c[1]);
    const s = slots[si];
    if (s === undefined || Number(cs[1]) !== s.cseq) return;
    if (code === 401 && s.state === 1) {
      const wa = /WWW-Authenticate: Digest (.*)\r\n/.exec(text)?.[1] ?? "";
      const realm = /realm="([^"]*)"/.exec(wa)?.[1] ?? "";
      const nonce = /nonce="([^"]*)"/.exec(wa)?.[1] ?? "";
      const user = `u${s.aor}`;
      const cnonce = randomBytes(4).toString("hex");
      const ha1 = md5(`${user}:${realm}:${LOAD_PASSWORD}`);
      const resp = md5(`${ha1}:${nonce}:00000001:${cnonce}:auth:${md5(`REGISTER:${uri}`)}`);
      s.cseq = ++cseqs[s.aor]!;
      s.state = 2;
      send(
        si,
        `Authorization: Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", qop=auth, ` +
          `nc=00000001, cnonce="${cnonce}", response="${resp}", algorithm=MD5\r\n`,
      );
    } else if (code === 200 && s.state === 2) {
      done++;
      if (started < total) start(si);
      else s.state = 0;
      if (done === total) {
        const wall = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(cpu0);
        const cpuS = (cpu.user + cpu.system) / 1e6;
        process.stdout.write(
          `regs=${done} wall=${wall.toFixed(3)} regs_per_s=${Math.round(done / wall)} cpu=${cpuS.toFixed(3)} ` +
            `(user ${(cpu.user / 1e6).toFixed(3)} sys ${(cpu.system / 1e6).toFixed(3)}) ` +
            `cpu_per_1000=${((cpuS * 1000) / done).toFixed(4)} retrans=${retrans}\n`,
        );
        clearInterval(scan);
        sock.close();
        process.exit(0);
      }
    }
  });
  sock.bind(localPort, "127.0.0.1", () => {
    for (let i = 0; i < window && started < total; i++) start(i);
  });
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const a = process.argv.slice(2);
  if (a[0] === "--node-floor") {
    const [dst, local, naor, window, total] = a.slice(1).map(Number) as [number, number, number, number, number];
    nodeFloor(dst, local, naor, window, total);
  } else {
    const [dst, naor, window, total] = a.map(Number) as [number, number, number, number];
    const program = await buildFloor();
    console.log(JSON.stringify(await runFloor(program, dst, naor, window, total)));
  }
}
