import type { Clock } from "../clock.js";
import { systemClock } from "../clock.js";
import { srIdentifier } from "../registrant/coords.js";
import type { Coords } from "../registrant/coords.js";
import type { StateChange, TableChange } from "../registrant/state-change.js";
import { RegState, stateName } from "../registrant/state.js";
import type { RegStateValue } from "../registrant/state.js";
import type { MiCommand } from "../mi/command.js";
import { ctime } from "../mi/ctime.js";
import { statusReportCommands } from "../mi/commands/status-report.js";

/** OpenSIPS's pre-defined SR values (reference mi-and-events §8); 0 is never stored. */
export const SrStatus = {
  READY: 1,
  /** uac_registrant names the waiting states LOADING_DATA, but it is the same number as NOT_READY */
  LOADING_DATA: -1,
  NOT_READY: -1,
  SHUTTING_DOWN: -2,
} as const;

export const UAC_REGISTRANT_GROUP = "uac_registrant";
export const CORE_GROUP = "core";
const REPORTS_KEPT = 20;

export interface SrReport {
  readonly timestampSec: number;
  /** C ctime() text, local time, without the newline */
  readonly date: string;
  readonly log: string;
}

export interface SrIdentifierView {
  readonly name: string;
  readonly status: number;
  readonly details?: string;
  readonly reports: readonly SrReport[];
}

/**
 * Reports are kept as two parallel arrays, the times and the texts, and the ctime() date is made only when the
 * reports are read: a registration storm writes three reports per record and a million records keep twenty each,
 * so a report object with its own date string per entry was most of the memory per registrant
 * (docs/performance.md).
 */
interface Identifier {
  status: number;
  details: string | undefined;
  /** unix seconds, oldest first */
  times: number[];
  /** the texts, shared strings (see `internLog`) */
  logs: string[];
}

const stateLogs = new Map<string, string>();

/** One string per text, so a million identifiers share a handful of them. */
function internLog(text: string): string {
  let log = stateLogs.get(text);
  if (log === undefined) {
    log = text;
    stateLogs.set(text, log);
  }
  return log;
}

function reportsOf(ident: Identifier): SrReport[] {
  return ident.times.map((t, i) => ({ timestampSec: t, date: ctime(t), log: ident.logs[i]! }));
}

function statusFor(state: RegStateValue): number {
  return state === RegState.REGISTERED_STATE ? SrStatus.READY : SrStatus.NOT_READY;
}

/**
 * OpenSIPS's Status/Report store as uac_registrant feeds it (reference uac-registrant §9): group
 * `uac_registrant`, one identifier `aor=..;contact=..;registrar=..` per record, READY (1) while REGISTERED
 * and NOT_READY (-1) otherwise, details = the state name, and a ring of the last 20 reports with
 * OpenSIPS's texts (including their trailing newline). Unlike OpenSIPS, an identifier is removed with its
 * record. The core group `core`/`main` is kept here too, so `sr_list_status` reads as OpenSIPS's.
 * Lists are newest-registered first, reports oldest first, as OpenSIPS prints them.
 */
export class StatusReport {
  private readonly groups = new Map<string, Map<string, Identifier>>();

  constructor(private readonly clock: Clock = systemClock) {
    this.groups.set(CORE_GROUP, new Map());
    this.setStatus(CORE_GROUP, "main", -1, "initializing");
    this.groups.set(UAC_REGISTRANT_GROUP, new Map());
  }

  /** core/main: "running" (1) once the daemon serves, "shutting down" (-2) on the way out */
  setCoreStatus(details: "running" | "shutting down"): void {
    this.setStatus(CORE_GROUP, "main", details === "running" ? SrStatus.READY : SrStatus.SHUTTING_DOWN, details);
  }

  onTableChange(change: TableChange): void {
    const group = this.groups.get(UAC_REGISTRANT_GROUP)!;
    const name = srIdentifier(change.coords);
    if (change.kind === "removed") {
      group.delete(name);
      return;
    }
    if (!group.has(name)) this.create(change.coords);
  }

  onStateChange(change: StateChange): void {
    const group = this.groups.get(UAC_REGISTRANT_GROUP)!;
    const ident = group.get(srIdentifier(change.coords)) ?? this.create(change.coords);
    const name = stateName(change.to);
    ident.status = statusFor(change.to);
    ident.details = name;
    this.addReport(ident, change.atMs, internLog(`state changed to ${name}\n`));
  }

  groupNames(): readonly string[] {
    return [...this.groups.keys()].reverse();
  }

  /** undefined when the group does not exist */
  identifiers(group: string): readonly SrIdentifierView[] | undefined {
    const g = this.groups.get(group);
    if (g === undefined) return undefined;
    return [...g.entries()].reverse().map(([name, i]) => ({
      name,
      status: i.status,
      ...(i.details === undefined ? {} : { details: i.details }),
      reports: reportsOf(i),
    }));
  }

  commands(): MiCommand[] {
    return statusReportCommands(this);
  }

  private create(coords: Coords): Identifier {
    const name = stateName(RegState.NOT_REGISTERED_STATE);
    const ident: Identifier = { status: SrStatus.NOT_READY, details: name, times: [], logs: [] };
    this.groups.get(UAC_REGISTRANT_GROUP)!.set(srIdentifier(coords), ident);
    this.addReport(ident, this.clock.nowMs(), internLog(`created with state ${name}\n`));
    return ident;
  }

  private setStatus(group: string, identifier: string, status: number, details: string): void {
    const g = this.groups.get(group)!;
    let ident = g.get(identifier);
    if (ident === undefined) {
      ident = { status, details, times: [], logs: [] };
      g.set(identifier, ident);
    }
    ident.status = status === 0 ? 1 : status;
    ident.details = details;
    this.addReport(ident, this.clock.nowMs(), details);
  }

  private addReport(ident: Identifier, atMs: number, log: string): void {
    ident.times.push(Math.floor(atMs / 1000));
    ident.logs.push(log);
    if (ident.times.length > REPORTS_KEPT) {
      ident.times.shift();
      ident.logs.shift();
    }
  }
}
