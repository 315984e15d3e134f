import type { Coords } from "../registrant/coords.js";
import { RegState } from "../registrant/state.js";
import type { RegStateValue } from "../registrant/state.js";
import type { StateChange } from "../registrant/state-change.js";

/**
 * The nine events uac_registrant publishes (reference uac-registrant §8), in OpenSIPS's registration order.
 * The ids are the ones a stock OpenSIPS 4.0 build gives them (core events take 0-5), so `events_list`
 * reads the same; clients should match on names anyway.
 */
export const REGISTRANT_EVENTS = [
  "E_REGISTRANT_REGISTERING",
  "E_REGISTRANT_AUTHENTICATING",
  "E_REGISTRANT_REGISTERED",
  "E_REGISTRANT_REGISTER_TIMEOUT",
  "E_REGISTRANT_INTERNAL_ERROR",
  "E_REGISTRANT_WRONG_CREDENTIALS",
  "E_REGISTRANT_REGISTRAR_ERROR",
  "E_REGISTRANT_UNREGISTERING",
  "E_REGISTRANT_AUTHENTICATING_UNREGISTER",
] as const;

export type RegistrantEventName = (typeof REGISTRANT_EVENTS)[number];

/** Events of other OpenSIPS modules that registrantd also raises (through `Events.raise`). */
export const OTHER_EVENTS = [
  /** clusterer (reference mi-and-events §7.5): params name, cluster, state, reason */
  "E_CLUSTERER_SHARING_TAG_CHANGED",
] as const;

export type PublishedEventName = RegistrantEventName | (typeof OTHER_EVENTS)[number];

export function isPublishedEvent(name: string): name is PublishedEventName {
  return isRegistrantEvent(name) || (OTHER_EVENTS as readonly string[]).includes(name);
}

const FIRST_EVENT_ID = 6;

export function eventId(name: RegistrantEventName): number {
  return FIRST_EVENT_ID + REGISTRANT_EVENTS.indexOf(name);
}

export function isRegistrantEvent(name: string): name is RegistrantEventName {
  return (REGISTRANT_EVENTS as readonly string[]).includes(name);
}

/** OpenSIPS raises no event for NOT_REGISTERED (a finished unREGISTER, a shtag turning backup). */
const BY_STATE: Readonly<Record<RegStateValue, RegistrantEventName | undefined>> = {
  [RegState.NOT_REGISTERED_STATE]: undefined,
  [RegState.REGISTERING_STATE]: "E_REGISTRANT_REGISTERING",
  [RegState.AUTHENTICATING_STATE]: "E_REGISTRANT_AUTHENTICATING",
  [RegState.REGISTERED_STATE]: "E_REGISTRANT_REGISTERED",
  [RegState.REGISTER_TIMEOUT_STATE]: "E_REGISTRANT_REGISTER_TIMEOUT",
  [RegState.INTERNAL_ERROR_STATE]: "E_REGISTRANT_INTERNAL_ERROR",
  [RegState.WRONG_CREDENTIALS_STATE]: "E_REGISTRANT_WRONG_CREDENTIALS",
  [RegState.REGISTRAR_ERROR_STATE]: "E_REGISTRANT_REGISTRAR_ERROR",
  [RegState.UNREGISTERING_STATE]: "E_REGISTRANT_UNREGISTERING",
  [RegState.AUTHENTICATING_UNREGISTER_STATE]: "E_REGISTRANT_AUTHENTICATING_UNREGISTER",
};

export function eventForState(state: RegStateValue): RegistrantEventName | undefined {
  return BY_STATE[state];
}

/** One raised event, ready for every sink: `body` is the exact bytes OpenSIPS would put on the wire. */
export interface RegistrantEvent {
  readonly name: RegistrantEventName;
  readonly coords: Coords;
  readonly recordId: number;
  readonly atMs: number;
  readonly body: string;
}

/**
 * StateChange → event. Params are `aor`, `contact`, `registrar` in that order, all strings (OpenSIPS's
 * evi builder, compact cJSON, no trailing newline); JSON.stringify escapes the same characters. With
 * `extendedParams` the SIP cause is appended after them (never on by default: strict consumers).
 */
export function buildEvent(change: StateChange, extendedParams = false): RegistrantEvent | undefined {
  const name = eventForState(change.to);
  if (name === undefined) return undefined;
  const params: Record<string, string | number> = {
    aor: change.coords.aor,
    contact: change.coords.contact,
    registrar: change.coords.registrar,
  };
  if (extendedParams) {
    const cause = change.cause;
    if (cause?.status !== undefined) params["status"] = cause.status;
    if (cause?.reason !== undefined) params["reason"] = cause.reason;
    if (cause?.expiresSec !== undefined) params["expires"] = cause.expiresSec;
    if (cause?.destination !== undefined) params["destination"] = cause.destination;
    params["record_id"] = change.recordId;
  }
  const body = JSON.stringify({ jsonrpc: "2.0", method: name, params });
  return { name, coords: change.coords, recordId: change.recordId, atMs: change.atMs, body };
}
