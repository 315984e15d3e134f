import type { Config } from "./config/config.js";
import type { Logger } from "./log.js";

/** A running registrantd: what main.ts stops on a signal. */
export interface Daemon {
  stop(opts?: { unregister?: boolean }): Promise<void>;
}

/** Builds and starts the object graph. Placeholder until the engine is wired: it only logs. */
export async function startDaemon(config: Config, log: Logger): Promise<Daemon> {
  log.info({ listen: config.listen }, "started");
  return Promise.resolve({
    stop: async () => {
      log.info("stopped");
      return Promise.resolve();
    },
  });
}
