/**
 * How a feature adds an MI command: the dispatcher (mi/dispatch.ts) finds it by name or alias, matches the
 * params against its recipes with OpenSIPS's rules (reference uac-registrant §7.2) and calls the handler.
 */
export interface MiParam {
  readonly name: string;
  /** "int" accepts numbers and numeric strings; "string" accepts strings and numbers (as OpenSIPS) */
  readonly type: "string" | "int" | "array";
}

export type MiParams = Readonly<Record<string, string | number | readonly unknown[]>>;

export interface MiCommand {
  /** full 4.0 name, e.g. "uac_registrant:list", or a plain core name such as "version" */
  readonly name: string;
  /** other names that resolve to it, e.g. "reg_list", "sr_get_status" */
  readonly aliases?: readonly string[];
  /** each recipe is an exact list of params; [] means "no params" */
  readonly recipes: readonly (readonly MiParam[])[];
  /** returns the `result` (undefined → "OK"); throws MiError for an OpenSIPS error reply */
  handler(params: MiParams): unknown;
}
