import type { LevelWithSilent } from "pino";
import type { Clock } from "../../clock.js";
import { MiError } from "../../errors.js";
import type { MiCommand, MiParam } from "../command.js";
import { ctime } from "../ctime.js";
import type { MiRegistry } from "../registry.js";

export interface CoreContext {
  readonly registry: MiRegistry;
  readonly clock: Clock;
  readonly startedAtMs: number;
  /** registrantd's own version, shown next to the OpenSIPS version it imitates */
  readonly version: string;
  /** what `ps` lists as "Type", one entry per serving part: `attendant`, `MI FIFO`, `HTTPD 127.0.0.1:8888`… */
  readonly processes: () => readonly string[];
  /** applies a new level to the daemon's loggers */
  readonly setLogLevel: (level: LevelWithSilent) => void;
  /** the level at start: an OpenSIPS level (-3…4, 3 = L_INFO) or a pino `levelVal` (10…60), converted */
  readonly initialLogLevel?: number;
}

/**
 * The OpenSIPS version registrantd answers as: opensips-cli's `diagnose` matches `OpenSIPS \((\d)\.(\d)\.\d`,
 * and the MI surface it finds is 4.0's.
 */
export const IMITATED_OPENSIPS = "4.0.1";

const ARCH: Readonly<Record<string, string>> = { x64: "x86_64", arm64: "aarch64", ia32: "i386" };

export function serverString(version: string): string {
  return `OpenSIPS (${IMITATED_OPENSIPS} (${ARCH[process.arch] ?? process.arch}/${process.platform})) registrantd/${version}`;
}

/** pino's numeric levels (trace 10 … fatal 60) onto OpenSIPS's (L_ALERT -3 … L_DBG 4). */
export function opensipsLevelOf(pinoLevelVal: number): number {
  if (pinoLevelVal <= 10) return 5;
  if (pinoLevelVal <= 20) return 4;
  if (pinoLevelVal <= 30) return 3;
  if (pinoLevelVal <= 40) return 1;
  if (pinoLevelVal <= 50) return -1;
  return -2;
}

/** OpenSIPS levels (L_ALERT -3 … L_DBG 4) onto pino's. */
export function pinoLevelOf(level: number): LevelWithSilent {
  if (level <= -2) return "fatal";
  if (level === -1) return "error";
  if (level <= 1) return "warn";
  if (level <= 3) return "info";
  if (level === 4) return "debug";
  return "trace";
}

const NONE: readonly MiParam[] = [];
const int = (name: string): MiParam => ({ name, type: "int" });

/** Core commands opensips-cli and monitoring tools call (reference mi-and-events §6), 4.0 names + 3.x names. */
export function coreCommands(ctx: CoreContext): MiCommand[] {
  const initial = ctx.initialLogLevel ?? 3;
  let logLevel = initial >= 10 ? opensipsLevelOf(initial) : initial;
  const processes = () => ctx.processes().map((type, i) => ({ ID: i, PID: process.pid, Type: type }));
  return [
    {
      name: "core:which",
      aliases: ["which"],
      recipes: [NONE, [{ name: "command", type: "string" }]],
      handler: (p) => {
        const command = p["command"] as string | undefined;
        if (command === undefined) return ctx.registry.names();
        // 4.0: `module:` lists that module's commands
        if (command.endsWith(":") && command.length > 1) {
          const names = ctx.registry.moduleNames(command.slice(0, -1));
          if (names.length > 0) return names;
        }
        const found = ctx.registry.resolve(command);
        if (found.kind !== "found") throw new MiError(404, "unknown MI command");
        return found.command.recipes.map((r) => r.map((param) => param.name));
      },
    },
    {
      name: "core:version",
      aliases: ["version"],
      recipes: [NONE, [{ name: "revision", type: "string" }]],
      handler: (p) => {
        const out: Record<string, string> = { Server: serverString(ctx.version) };
        if (p["revision"] !== undefined) out["registrantd"] = ctx.version;
        return out;
      },
    },
    {
      name: "core:uptime",
      aliases: ["uptime"],
      recipes: [NONE],
      handler: () => {
        const now = ctx.clock.nowMs();
        return {
          Now: ctime(now / 1000),
          "Up since": ctime(ctx.startedAtMs / 1000),
          "Up time": `${Math.max(0, Math.floor((now - ctx.startedAtMs) / 1000))} [sec]`,
        };
      },
    },
    {
      name: "core:ps",
      aliases: ["ps"],
      recipes: [NONE],
      handler: () => ({ Processes: processes() }),
    },
    {
      name: "core:log_level",
      aliases: ["log_level"],
      recipes: [NONE, [int("level")], [int("level"), int("pid")]],
      handler: (p) => {
        const level = p["level"] as number | undefined;
        if (level === undefined) {
          return { Processes: processes().map((x) => ({ PID: x.PID, "Log level": logLevel, Type: x.Type })) };
        }
        const pid = p["pid"] as number | undefined;
        // one process: any other PID is OpenSIPS's "Bad PID"
        if (pid !== undefined && pid !== process.pid) throw new MiError(-32602, "Invalid params", "Bad PID");
        logLevel = level;
        ctx.setLogLevel(pinoLevelOf(level));
        return pid === undefined ? { "New global log level": level } : { "Log level": level };
      },
    },
  ];
}
