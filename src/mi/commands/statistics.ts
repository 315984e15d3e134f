import { MiError } from "../../errors.js";
import type { StatInfo, Statistics } from "../../statistics.js";
import type { RegistrantOperations } from "../../registrant/operations.js";
import type { StateChangeListener } from "../../registrant/state-change.js";
import { RegState, stateName } from "../../registrant/state.js";
import type { RegStateName } from "../../registrant/state.js";
import type { MiCommand, MiParam } from "../command.js";

const NONE: readonly MiParam[] = [];
const STATS: readonly MiParam[] = [{ name: "statistics", type: "array" }];

/** `group:name`, as statistics are addressed and printed */
const statKey = (s: StatInfo): string => `${s.group}:${s.name}`;

const notFound = (): MiError => new MiError(404, "Statistics Not Found");

/**
 * Which statistics an item names (reference mi-and-events §6): `all`, `group:` (unknown groups skipped),
 * `group:name`, or a bare name looked up in every group.
 */
function select(all: readonly StatInfo[], item: string): StatInfo[] {
  if (item === "all") return [...all];
  const colon = item.indexOf(":");
  if (colon < 0) return all.filter((s) => s.name === item);
  const group = item.slice(0, colon);
  const name = item.slice(colon + 1);
  return all.filter((s) => s.group === group && (name === "" || s.name === name));
}

/** `statistics:get|list|reset|reset_all` and their 3.x names, over registrantd's own statistics. */
export function statisticsCommands(stats: Statistics): MiCommand[] {
  return [
    {
      name: "statistics:get",
      aliases: ["get_statistics"],
      recipes: [STATS],
      handler: (p) => {
        const all = stats.list();
        const keys: string[] = [];
        for (const item of p["statistics"] as string[]) {
          for (const s of select(all, item)) keys.push(statKey(s));
        }
        const values = stats.read([...new Set(keys)]);
        if (values.size === 0) throw notFound();
        return Object.fromEntries(values);
      },
    },
    {
      name: "statistics:list",
      aliases: ["list_statistics"],
      recipes: [NONE, STATS],
      handler: (p) => {
        const all = stats.list();
        const items = p["statistics"] as string[] | undefined;
        const out: Record<string, string> = {};
        if (items === undefined) {
          for (const s of all) out[statKey(s)] = s.kind;
        } else {
          for (const item of items) {
            // a bare name is listed without its group (OpenSIPS does the same)
            for (const s of select(all, item)) out[item.includes(":") || item === "all" ? statKey(s) : s.name] = s.kind;
          }
        }
        if (Object.keys(out).length === 0) throw notFound();
        return out;
      },
    },
    {
      name: "statistics:reset",
      aliases: ["reset_statistics"],
      recipes: [STATS],
      handler: (p) => {
        const all = stats.list();
        let done = 0;
        for (const item of p["statistics"] as string[]) {
          // bare names only, as OpenSIPS
          for (const s of all.filter((x) => x.name === item)) if (stats.reset(statKey(s))) done++;
        }
        if (done === 0) throw notFound();
        return "OK";
      },
    },
    {
      name: "statistics:reset_all",
      aliases: ["reset_all_statistics"],
      recipes: [NONE],
      handler: () => {
        for (const s of stats.list()) stats.reset(statKey(s));
        return "OK";
      },
    },
  ];
}

/** Gauges `uac_registrant:records` and `uac_registrant:records_<state>` (one pass over the table per read). */
export function registrantGauges(stats: Statistics, ops: Pick<RegistrantOperations, "list">): void {
  const names = ["records", "records_disabled", ...STATE_NAMES.map(gaugeName)];
  stats.gauges("uac_registrant", names, () => {
    const counts: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
    for (const r of ops.list()) {
      counts["records"]!++;
      if (!r.enabled) counts["records_disabled"]!++;
      counts[gaugeName(stateName(r.state))]!++;
    }
    return counts;
  });
}

const STATE_NAMES = Object.keys(RegState) as RegStateName[];

/** `REGISTERED_STATE` → `records_registered` */
function gaugeName(state: RegStateName): string {
  return `records_${state.slice(0, -"_STATE".length).toLowerCase()}`;
}

/**
 * Counters fed by the engine's StateChange stream (pass the result to `service.onStateChange`):
 * `uac_registrant:register_sent` and `unregister_sent` (every entry into a sending state is one request on the
 * wire), `replies_1xx`…`replies_6xx` (final answers behind a change), `timeouts`, `state_changes`.
 */
export function registrantCounters(stats: Statistics): StateChangeListener {
  const g = "uac_registrant";
  const registerSent = stats.counter(g, "register_sent");
  const unregisterSent = stats.counter(g, "unregister_sent");
  const timeouts = stats.counter(g, "timeouts");
  const changes = stats.counter(g, "state_changes");
  const replies = [1, 2, 3, 4, 5, 6].map((c) => stats.counter(g, `replies_${c}xx`));
  return (change) => {
    changes.inc();
    const to = change.to;
    if (to === RegState.REGISTERING_STATE || to === RegState.AUTHENTICATING_STATE) registerSent.inc();
    else if (to === RegState.UNREGISTERING_STATE || to === RegState.AUTHENTICATING_UNREGISTER_STATE)
      unregisterSent.inc();
    else if (to === RegState.REGISTER_TIMEOUT_STATE) timeouts.inc();
    const status = change.cause?.status;
    if (status !== undefined && status >= 100 && status < 700) replies[Math.floor(status / 100) - 1]!.inc();
  };
}
