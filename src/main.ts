#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { Config } from "./config/config.js";
import { redactConfig, resolveConfig } from "./config/load.js";
import type { ResolvedConfig } from "./config/load.js";
import { runCheck } from "./check.js";
import { startDaemon } from "./daemon.js";
import { ConfigError } from "./errors.js";
import { createLogger } from "./log.js";
import type { Logger } from "./log.js";

/** Exit codes: 0 ok, 1 runtime failure or --check found problems, 2 bad command line or configuration. */
const EXIT_FAILURE = 1;
const EXIT_CONFIG = 2;

const USAGE = `Usage: registrantd [options]

Keeps SIP registrations alive like OpenSIPS's uac_registrant, as a standalone daemon.

Options:
  --config FILE         JSON configuration (schemas/config.schema.json); without it the built-in defaults
                        (embedded db_text store under ./data, SIP on udp:127.0.0.1:5060, MI on 127.0.0.1:8888)
  --opensips-cfg FILE   take uac_registrant, tm, socket, db_default_url, MI and subscribe_event settings from an
                        existing opensips.cfg (a --config file given too overrides them)
  --check               validate the configuration and every registrant row, print what would be skipped and
                        why, then exit (1 if anything is wrong); binds no SIP socket, sends nothing
  --print-config        print the effective configuration as JSON (secrets hidden) and exit
  --version             print the version and exit
  -h, --help            print this help and exit

Signals: SIGTERM or SIGINT stops gracefully (unregister_on_shutdown=1 unREGISTERs first); a second one exits at once.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

function fail(message: string, code: number): never {
  process.stderr.write(`registrantd: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let values: { [k: string]: string | boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: "string" },
        "opensips-cfg": { type: "string" },
        check: { type: "boolean" },
        "print-config": { type: "boolean" },
        version: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    fail(`${(err as Error).message}\n\n${USAGE}`, EXIT_CONFIG);
  }
  if (values["help"] === true) {
    process.stdout.write(USAGE);
    return;
  }
  if (values["version"] === true) {
    process.stdout.write(`registrantd ${version()}\n`);
    return;
  }

  let resolved: ResolvedConfig;
  try {
    resolved = await resolveConfig({
      ...(typeof values["config"] === "string" ? { config: values["config"] } : {}),
      ...(typeof values["opensips-cfg"] === "string" ? { opensipsCfg: values["opensips-cfg"] } : {}),
    });
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, EXIT_CONFIG);
    throw err;
  }
  const { config } = resolved;
  if (values["print-config"] === true) {
    process.stdout.write(`${JSON.stringify(redactConfig(config), null, 2)}\n`);
    return;
  }

  const log = createLogger(process.env["REGISTRANTD_LOG_LEVEL"] ?? config.log_level);
  for (const warning of resolved.warnings) log.warn(warning);
  if (resolved.ignored.length > 0) {
    log.info({ ignored: resolved.ignored }, "opensips.cfg: ignored what registrantd does not do");
  }

  if (values["check"] === true) {
    process.exitCode = await runCheck(config, log, process.stdout);
    return;
  }
  await run(config, log);
}

async function run(config: Config, log: Logger): Promise<void> {
  const daemon = await startDaemon(config, log).catch((err: unknown) => {
    log.fatal({ err }, "start-up failed");
    process.exit(err instanceof ConfigError ? EXIT_CONFIG : EXIT_FAILURE);
  });
  // the process lives until a signal, even while nothing else holds the event loop
  const keepAlive = setInterval(() => undefined, 1 << 30);
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // second signal: the operator wants out now
      log.warn({ signal }, "second signal: exiting at once");
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    stopping = true;
    log.info({ signal }, "stopping");
    daemon
      .stop({ unregister: config.unregister_on_shutdown === 1 })
      .then(() => {
        clearInterval(keepAlive);
        process.exit(0);
      })
      .catch((err: unknown) => {
        log.error({ err }, "graceful stop failed");
        process.exit(EXIT_FAILURE);
      });
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

main().catch((err: unknown) => {
  fail(err instanceof Error ? (err.stack ?? err.message) : String(err), EXIT_FAILURE);
});
