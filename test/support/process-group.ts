import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";

/**
 * Spawns `cmd` detached, as the leader of its own process group, with stdout/stderr piped, so that
 * `killGroup` also reaches every helper process it forks.
 */
export function spawnGroup(cmd: string, args: readonly string[], cwd: string): ChildProcess {
  return spawn(cmd, args, { cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] });
}

/**
 * SIGKILLs the whole process group of `child` if it is still running, then waits for `exited` (at most 5 s,
 * so a stuck teardown cannot hang the suite).
 */
export async function killGroup(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // already gone
  }
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
}
