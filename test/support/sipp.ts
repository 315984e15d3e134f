import type { ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./ports.js";
import type { Cleanup } from "./cleanups.js";
import { killGroup, spawnGroup } from "./process-group.js";
import { until } from "./until.js";

const SCENARIO_DIR = fileURLToPath(new URL("../sipp/", import.meta.url));

export interface SippOptions {
  /** file name under test/sipp/ */
  readonly scenario: string;
  readonly transport: "udp" | "tcp";
  /** `@name@` placeholders in the scenario are replaced by these values */
  readonly vars?: Readonly<Record<string, string | number>>;
  /** `-key name value`: sipp keywords such as [user] and [password] */
  readonly keys?: Readonly<Record<string, string>>;
  /** calls to handle before exiting (default 1) */
  readonly calls?: number;
  /** sipp's own global timeout, seconds (default 60) */
  readonly timeoutSec?: number;
}

export interface SippExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * A sipp UAS (the registrar side) on 127.0.0.1, one process group per instance so `stop()` leaves nothing
 * behind. `exited` settles when sipp ends on its own (after `calls` calls or its timeout).
 */
export class SippServer {
  private constructor(
    readonly port: number,
    readonly transport: "udp" | "tcp",
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly exited: Promise<SippExit>,
  ) {}

  static async start(opts: SippOptions): Promise<SippServer> {
    const dir = await mkdtemp(join(tmpdir(), "registrantd-sipp-"));
    let xml = await readFile(join(SCENARIO_DIR, opts.scenario), "utf8");
    for (const [k, v] of Object.entries(opts.vars ?? {})) xml = xml.replaceAll(`@${k}@`, String(v));
    const scenario = join(dir, opts.scenario);
    await writeFile(scenario, xml);
    const port = await freePort();
    const args = [
      "-sf",
      scenario,
      "-i",
      "127.0.0.1",
      "-p",
      String(port),
      "-t",
      opts.transport === "udp" ? "u1" : "t1",
      "-m",
      String(opts.calls ?? 1),
      "-nostdin",
      "-nd",
      "-timeout",
      `${opts.timeoutSec ?? 60}s`,
      "-trace_msg",
      "-message_file",
      join(dir, "messages.log"),
      "-trace_err",
      "-error_file",
      join(dir, "errors.log"),
    ];
    for (const [k, v] of Object.entries(opts.keys ?? {})) args.push("-key", k, v);
    const child = spawnGroup("sipp", args, dir);
    let out = "";
    let err = "";
    child.stdout?.on(
      "data",
      (d: Buffer) => (out += d.toString("latin1")).length > 200_000 && (out = out.slice(-100_000)),
    );
    child.stderr?.on("data", (d: Buffer) => (err += d.toString("latin1")));
    const exited = new Promise<SippExit>((resolve) => {
      child.once("exit", (code, signal) => resolve({ code, signal, stdout: out, stderr: err }));
      child.once("error", (e) => resolve({ code: -1, signal: null, stdout: out, stderr: `${err}${e.message}` }));
    });
    const sipp = new SippServer(port, opts.transport, child, dir, exited);
    // sipp is ready once it has bound its port: a TCP connect succeeds / the message log exists
    await until(
      `sipp ${opts.scenario} listening on ${port}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`sipp exited early: ${err}`);
        const logged = await readFile(join(dir, "messages.log")).then(
          () => true,
          () => false,
        );
        // over TCP the log appears before listen(): wait until the kernel shows the port listening
        return logged && (opts.transport === "udp" || (await tcpListening(port)));
      },
      20_000,
      50,
    ).catch(async (e: unknown) => {
      await sipp.stop();
      throw e;
    });
    return sipp;
  }

  /** The URI of this registrar. */
  uri(user?: string): string {
    const u = user === undefined ? "" : `${user}@`;
    return `sip:${u}127.0.0.1:${this.port}${this.transport === "tcp" ? ";transport=tcp" : ""}`;
  }

  /** What sipp logged it sent and received (for failure messages). */
  async messages(): Promise<string> {
    return readFile(join(this.dir, "messages.log"), "latin1").catch(() => "");
  }

  /** Kills the whole process group (sipp may fork helpers) and removes its temp dir. */
  async stop(): Promise<void> {
    await killGroup(this.child, this.exited);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Starts a sipp UAS whose `stop()` runs with the test file's `cleanups`. */
export async function startSipp(opts: SippOptions, cleanups: Cleanup[]): Promise<SippServer> {
  const s = await SippServer.start(opts);
  cleanups.push(() => s.stop());
  return s;
}

/** Whether a socket is in LISTEN state on 127.0.0.1/any `port` (read from /proc, so no probe connection is made). */
async function tcpListening(port: number): Promise<boolean> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(table, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      // state 0A = TCP_LISTEN
      if (local?.endsWith(`:${hexPort}`) && state === "0A") return true;
    }
  }
  return false;
}
