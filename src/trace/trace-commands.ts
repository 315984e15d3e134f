import { MiError } from "../errors.js";
import type { MiCommand, MiParams } from "../mi/command.js";
import type { Coords } from "../registrant/coords.js";
import type { SipTrace, TraceEntry, TraceMode } from "./sip-trace.js";

/**
 * MI commands of registrantd's own namespace for the per-registrant trace. OpenSIPS has none (its
 * `sip_trace` MI command switches the siptrace module globally), so the names live under `registrantd:`
 * and the record is named as every uac_registrant command names it: aor, contact, registrar.
 */
export interface TraceCommandDeps {
  readonly trace: SipTrace;
  /** whether the record is in memory (RegistrantOperations.find) */
  readonly exists: (coords: Coords) => boolean;
}

const COORDS = [
  { name: "aor", type: "string" },
  { name: "contact", type: "string" },
  { name: "registrar", type: "string" },
] as const;

export function traceCommands(deps: TraceCommandDeps): MiCommand[] {
  const { trace } = deps;
  return [
    {
      name: "registrantd:trace",
      recipes: [[], [{ name: "trace_mode", type: "string" }]],
      handler(params: MiParams) {
        if (params["trace_mode"] !== undefined) trace.setGlobal(onOff(params["trace_mode"]) === "on");
        return { trace_mode: trace.globalEnabled ? "on" : "off", traced_records: trace.ringCount };
      },
    },
    {
      name: "registrantd:record_trace",
      recipes: [[...COORDS], [...COORDS, { name: "trace_mode", type: "string" }]],
      handler(params: MiParams) {
        const coords = {
          aor: String(params["aor"]),
          contact: String(params["contact"]),
          registrar: String(params["registrar"]),
        };
        if (!deps.exists(coords)) throw new MiError(404, "No such registrant");
        const mode = params["trace_mode"];
        if (mode !== undefined) trace.setRecordMode(coords, mode === "default" ? undefined : onOff(mode));
        return {
          trace_mode: trace.recordMode(coords) ?? "default",
          global_trace_mode: trace.globalEnabled ? "on" : "off",
          traced: trace.isTraced(coords),
          max_messages: trace.maxEntries,
          Messages: trace.entries(coords).map(entryView),
        };
      },
    },
  ];
}

function onOff(value: unknown): TraceMode {
  if (value === "on" || value === "off") return value;
  throw new MiError(400, "Bad trace_mode: expected on, off or default");
}

export function entryView(e: TraceEntry): Record<string, string | number> {
  const view: Record<string, string | number> = {
    timestamp: e.atMs / 1000,
    date: new Date(e.atMs).toISOString(),
    kind: e.kind,
  };
  if (e.peer !== undefined) view["peer"] = e.peer;
  if (e.message !== undefined) view["message"] = e.message;
  if (e.detail !== undefined) view["detail"] = e.detail;
  return view;
}
