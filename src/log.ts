import { pino } from "pino";
import type { Logger } from "pino";

export type { Logger };

/** Second line of defence: records' toJSON() already leaves secrets out. */
export const LOG_REDACTION = {
  paths: ["password", "*.password", "auth_password", "*.authorization", "authorization", "*.auth_password"],
  censor: "[redacted]",
};

export function createLogger(level = process.env["REGISTRANTD_LOG_LEVEL"] ?? "info"): Logger {
  return pino({ level, redact: LOG_REDACTION, base: { name: "registrantd" } });
}

/** Tests and library users that want no output. */
export const silentLogger: Logger = pino({ level: "silent" });
