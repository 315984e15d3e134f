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
import { REPORTS_KEPT, RegistrantReports } from "./registrant-reports.js";
import type { StoredReport } from "./registrant-reports.js";

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

/** The core group's identifiers (`main` only): few, so plain objects. */
interface CoreIdentifier {
  status: number;
  details: string;
  reports: StoredReport[];
}

/** a storm writes its reports within a few seconds: one ctime() per distinct second when they are read */
let lastDate = { sec: Number.NaN, text: "" };
function dateOf(sec: number): string {
  if (lastDate.sec !== sec) lastDate = { sec, text: ctime(sec) };
  return lastDate.text;
}

function withDates(reports: readonly StoredReport[]): SrReport[] {
  return reports.map((r) => ({ timestampSec: r.timestampSec, date: dateOf(r.timestampSec), log: r.log }));
}

function statusFor(state: RegStateValue): number {
  return state === RegState.REGISTERED_STATE ? SrStatus.READY : SrStatus.NOT_READY;
}

/**
 * The coordinates an identifier `aor=..;contact=..;registrar=..` was made from, split at the first markers;
 * `ambiguous` when a URI itself holds `;contact=` or `;registrar=`, so another split may be the right one.
 */
function coordsOfIdentifier(name: string): { coords: Coords; ambiguous: boolean } | undefined {
  const c = name.indexOf(";contact=");
  const r = name.indexOf(";registrar=", c);
  if (!name.startsWith("aor=") || c < 0 || r < 0) return undefined;
  const coords = { aor: name.slice(4, c), contact: name.slice(c + 9, r), registrar: name.slice(r + 11) };
  return { coords, ambiguous: name.lastIndexOf(";contact=") !== c || name.lastIndexOf(";registrar=") !== r };
}

/** A registrant's identifier; its reports (and their dates) are made only if the reader asks for them. */
class RegistrantIdentifierView implements SrIdentifierView {
  readonly name: string;
  readonly status: number;
  readonly details: string;

  constructor(
    private readonly store: RegistrantReports,
    private readonly slot: number,
  ) {
    const state = store.state(slot);
    this.name = srIdentifier(store.coords(slot));
    this.status = statusFor(state);
    this.details = stateName(state);
  }

  get reports(): readonly SrReport[] {
    return withDates(this.store.reports(this.slot));
  }
}

/**
 * OpenSIPS's Status/Report store as uac_registrant feeds it (reference uac-registrant §9): group
 * `uac_registrant`, one identifier `aor=..;contact=..;registrar=..` per record, READY (1) while REGISTERED
 * and NOT_READY (-1) otherwise, details = the state name, and a ring of the last 20 reports with
 * OpenSIPS's texts (including their trailing newline). Unlike OpenSIPS, an identifier is removed with its
 * record. The core group `core`/`main` is kept here too, so `sr_list_status` reads as OpenSIPS's.
 * Lists are newest-registered first, reports oldest first, as OpenSIPS prints them.
 * The registrants' identifiers live in a compact store (see RegistrantReports): a million records keep them.
 */
export class StatusReport {
  private readonly core = new Map<string, CoreIdentifier>();
  private readonly registrants = new RegistrantReports();

  constructor(private readonly clock: Clock = systemClock) {
    this.setStatus("main", -1, "initializing");
  }

  /** core/main: "running" (1) once the daemon serves, "shutting down" (-2) on the way out */
  setCoreStatus(details: "running" | "shutting down"): void {
    this.setStatus("main", details === "running" ? SrStatus.READY : SrStatus.SHUTTING_DOWN, details);
  }

  onTableChange(change: TableChange): void {
    const reports = this.registrants;
    let slot = reports.find(change.coords);
    if (change.kind === "removed") {
      if (slot >= 0) reports.remove(slot);
      reports.unbindRecord(change.recordId);
      return;
    }
    if (change.kind === "replaced") reports.unbindRecord(change.previousId);
    if (slot < 0) slot = reports.create(change.coords, this.clock.nowMs());
    reports.bindRecord(change.recordId, slot);
  }

  onStateChange(change: StateChange): void {
    const reports = this.registrants;
    let slot = reports.slotOfRecord(change.recordId, change.coords);
    if (slot < 0) {
      slot = reports.find(change.coords);
      if (slot < 0) slot = reports.create(change.coords, this.clock.nowMs());
      reports.bindRecord(change.recordId, slot);
    }
    reports.changeState(slot, change.to, change.atMs);
  }

  groupNames(): readonly string[] {
    return [UAC_REGISTRANT_GROUP, CORE_GROUP];
  }

  /** undefined when the group does not exist */
  identifiers(group: string): readonly SrIdentifierView[] | undefined {
    if (group === UAC_REGISTRANT_GROUP) {
      const out: SrIdentifierView[] = [];
      for (const slot of this.registrants.slots()) out.push(new RegistrantIdentifierView(this.registrants, slot));
      return out;
    }
    if (group !== CORE_GROUP) return undefined;
    return [...this.core.entries()]
      .reverse()
      .map(([name, i]) => ({ name, status: i.status, details: i.details, reports: withDates(i.reports) }));
  }

  /**
   * One identifier of a group (undefined when the group or the identifier does not exist), found without
   * listing the group: a registrant's identifier is read back into its coordinates.
   */
  identifier(group: string, name: string): SrIdentifierView | undefined {
    if (group === UAC_REGISTRANT_GROUP) {
      const parsed = coordsOfIdentifier(name);
      const slot = parsed === undefined ? -1 : this.registrants.find(parsed.coords);
      if (slot >= 0) return new RegistrantIdentifierView(this.registrants, slot);
      if (parsed === undefined || !parsed.ambiguous) return undefined;
    }
    return this.identifiers(group)?.find((i) => i.name === name);
  }

  commands(): MiCommand[] {
    return statusReportCommands(this);
  }

  private setStatus(identifier: string, status: number, details: string): void {
    let ident = this.core.get(identifier);
    if (ident === undefined) {
      ident = { status, details, reports: [] };
      this.core.set(identifier, ident);
    }
    ident.status = status === 0 ? 1 : status;
    ident.details = details;
    ident.reports.push({ timestampSec: Math.floor(this.clock.nowMs() / 1000), log: details });
    if (ident.reports.length > REPORTS_KEPT) ident.reports.shift();
  }
}
