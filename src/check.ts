import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Config } from "./config/config.js";
import { redactConfig } from "./config/load.js";
import { RegistrantdError } from "./errors.js";
import type { Logger } from "./log.js";
import { coordsKey } from "./registrant/coords.js";
import { checkRow } from "./registrant/row-check.js";
import { columnLabeler, REGISTRANT_TABLE_VERSION } from "./store/columns.js";
import { openStore } from "./store/open-store.js";
import { loadAllRows } from "./store/store.js";
import type { RegistrantStore } from "./store/store.js";
import { formatSocketSpec, parseSocketSpec } from "./sip/transport/socket-spec.js";

/** Where the report goes (process.stdout in the bin). */
export interface ReportSink {
  write(text: string): unknown;
}

export interface CheckDeps {
  readonly openStore: (config: Config, log: Logger) => Promise<RegistrantStore>;
}

/**
 * `registrantd --check`: the configuration has already been validated by the caller. Opens the store (version row
 * and columns checked), runs every row through the load checks the daemon applies (registrant/row-check.ts) and
 * prints what would be skipped and why. Sends nothing, binds no SIP socket. Returns the exit code: 0 when every row
 * would load, 1 otherwise.
 */
export async function runCheck(
  config: Config,
  log: Logger,
  out: ReportSink,
  deps: CheckDeps = { openStore },
): Promise<number> {
  const line = (text: string): void => void out.write(`${text}\n`);
  const shown = redactConfig(config);
  const buckets = 2 ** config.hash_size;
  line(
    `config: ok (timer_interval ${config.timer_interval}, ${buckets} bucket${buckets === 1 ? "" : "s"}, ` +
      `listen ${config.listen.join(" ")})`,
  );

  const where = shown.db_url ?? `embedded db_text in ${resolve(config.data_dir)}`;
  if (config.db_url === undefined && !existsSync(resolve(config.data_dir))) {
    line(`store: ${where} does not exist yet; it is created on first start with an empty ${config.table_name} table`);
    line("result: ok, nothing to check");
    return 0;
  }

  let store: RegistrantStore;
  try {
    // store chatter (opened, loading [n] records) would interleave with the report
    store = await deps.openStore(config, log.child({ mod: "check" }, { level: "warn" }));
  } catch (err) {
    line(`store: ${where}: FAILED: ${describe(err)}`);
    line("result: FAILED");
    return 1;
  }
  try {
    const rows = await loadAllRows(store);
    line(
      `store: ${where}: table ${config.table_name}, version ${REGISTRANT_TABLE_VERSION}, ${rows.length} row${rows.length === 1 ? "" : "s"}`,
    );
    const hasSocket = socketMatcher(config.listen);
    const ctx = {
      timerInterval: config.timer_interval,
      defaultExpires: config.default_expires,
      hasSocket,
      columnName: columnLabeler(config),
    };
    let skipped = 0;
    let enabled = 0;
    let gated = 0;
    const seen = new Map<string, string>();
    const notes: string[] = [];
    for (const row of rows) {
      const result = checkRow(row, ctx);
      if (!result.ok) {
        skipped++;
        line(`  skip ${result.error.message}`);
        continue;
      }
      const { spec } = result;
      if (spec.enabled) enabled++;
      const key = coordsKey(spec);
      const first = seen.get(key);
      if (first !== undefined) {
        // no unique key (db_text, or a dropped constraint): OpenSIPS would load both as separate records
        notes.push(`  note: row id=${row.id} has the same aor, binding_URI and registrar as row id=${first}`);
      } else seen.set(key, row.id);
      // reference §10: a tagged record registers only on a clustered node where its tag is active
      if (spec.shtag !== undefined && spec.shtag.clusterId > 0 && config.enable_clustering === 0) gated++;
    }
    for (const note of notes) line(note);
    if (gated > 0) {
      line(`  note: ${gated} row(s) have a cluster_shtag but enable_clustering=0: OpenSIPS never registers them`);
    }
    const loaded = rows.length - skipped;
    line(`rows: ${loaded} would load (${enabled} enabled, ${loaded - enabled} disabled), ${skipped} would be skipped`);
    line(skipped === 0 ? "result: ok" : `result: FAILED (${skipped} row${skipped === 1 ? "" : "s"} would be skipped)`);
    return skipped === 0 ? 0 : 1;
  } catch (err) {
    line(`store: ${where}: FAILED reading ${config.table_name}: ${describe(err)}`);
    line("result: FAILED");
    return 1;
  } finally {
    await store.close().catch(() => undefined);
  }
}

/** Same rule as the SIP stack's forced_socket lookup, on the configured (not bound) sockets. */
function socketMatcher(listen: readonly string[]): (spec: string) => boolean {
  const names = new Set<string>();
  for (const socket of listen) {
    const parsed = parseSocketSpec(socket);
    if (parsed.ok) names.add(formatSocketSpec(parsed.spec));
  }
  return (spec) => {
    const parsed = parseSocketSpec(spec);
    return parsed.ok && names.has(formatSocketSpec(parsed.spec));
  };
}

function describe(err: unknown): string {
  if (err instanceof RegistrantdError) return `${err.message} [${err.code}]`;
  return err instanceof Error ? err.message : String(err);
}
