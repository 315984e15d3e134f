import { setTimeout as sleep } from "node:timers/promises";

/**
 * Polls `probe` until it returns a truthy value or `timeoutMs` passes; returns that value or throws with
 * `what` in the message. Tests wait on conditions, never on fixed sleeps.
 */
export async function until<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
