import type { Coords } from "./coords.js";
import type { RegStateValue } from "./state.js";

/**
 * Emitted by the machine on every state change, including a change into the same state (OpenSIPS raises the
 * event again then). Events, Status/Report, metrics and logs hang on this; none of them calls back into the
 * engine.
 */
export interface StateChange {
  readonly coords: Coords;
  /** stable in-memory id of the record (a replaced record gets a new one) */
  readonly recordId: number;
  readonly from: RegStateValue;
  readonly to: RegStateValue;
  /** wall-clock ms */
  readonly atMs: number;
  /** the SIP answer behind the change, when there is one */
  readonly cause?: {
    readonly status?: number;
    readonly reason?: string;
    readonly expiresSec?: number;
    readonly destination?: string;
    readonly detail?: string;
  };
}

export type StateChangeListener = (change: StateChange) => void;

/**
 * A record added to or removed from the table (Status/Report identifiers, dashboard). `replaced`: a reload or
 * upsert rebuilt the record under the same coordinates with a new id (OpenSIPS keeps its SR identifier then).
 * `removed` comes once the engine has forgotten the record, i.e. after the unREGISTER of a deleted record ends.
 */
export type TableChange =
  | { readonly kind: "added"; readonly coords: Coords; readonly recordId: number }
  | { readonly kind: "replaced"; readonly coords: Coords; readonly recordId: number; readonly previousId: number }
  | { readonly kind: "removed"; readonly coords: Coords; readonly recordId: number };
