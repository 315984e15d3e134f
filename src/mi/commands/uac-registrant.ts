import { isIPv6 } from "node:net";
import { MiError, RowError } from "../../errors.js";
import type { Coords } from "../../registrant/coords.js";
import type { RegistrantRow } from "../../registrant/record-spec.js";
import { checkRow } from "../../registrant/row-check.js";
import type { RowCheckContext, RowColumn } from "../../registrant/row-check.js";
import type { RecordView, RegistrantOperations } from "../../registrant/operations.js";
import { stateName } from "../../registrant/state.js";
import type { MiCommand, MiParam, MiParams } from "../command.js";
import { ctime } from "../ctime.js";
import { invalidParams } from "../reply.js";

export interface UacRegistrantContext {
  /** what the load checks (reference §3.1) need: timer_interval, default_expires, the listening sockets */
  readonly rowCheck: Omit<RowCheckContext, "source" | "columnName">;
}

const str = (name: string): MiParam => ({ name, type: "string" });
const COORDS: readonly MiParam[] = [str("aor"), str("contact"), str("registrar")];
const NONE: readonly MiParam[] = [];

/** reference §7.8: exactly these twelve, all required, in this order for positional calls */
const UPSERT: readonly MiParam[] = [
  ...COORDS,
  str("proxy"),
  str("third_party_registrant"),
  str("username"),
  str("password"),
  str("binding_params"),
  { name: "expiry", type: "int" },
  str("forced_socket"),
  str("cluster_shtag"),
  { name: "state", type: "int" },
];

const NO_SUCH_REGISTRANT = (): MiError => new MiError(404, "No such registrant");

function coordsOf(p: MiParams): Coords {
  return { aor: p["aor"] as string, contact: p["contact"] as string, registrar: p["registrar"] as string };
}

/** One `<record>` object, keys in OpenSIPS's order (reference §7.3, checked against the golden captures). */
export function recordJson(r: RecordView): Record<string, string | number> {
  const o: Record<string, string | number> = {
    AOR: r.aor,
    expires: r.expiresSec,
    state: stateName(r.state),
    enabled: r.enabled ? "yes" : "no",
    last_register_sent: ctime(r.lastRegisterSentSec),
    registration_t_out: ctime(r.registrationTimeoutSec),
    registrar: r.registrar,
    binding: r.contact,
  };
  if (r.bindingParams) o["binding_params"] = r.bindingParams;
  if (r.thirdPartyRegistrant) o["third_party_registrant"] = r.thirdPartyRegistrant;
  if (r.socket) o["socket"] = r.socket;
  if (r.proxy) o["proxy"] = r.proxy;
  if (r.dstIp) {
    o["dst_IP"] = isIPv6(r.dstIp) ? "IPv6" : "IPv4";
    o["ip"] = r.dstIp;
  }
  if (r.shtag) {
    o["shtag"] = r.shtag.tag;
    o["cluster_id"] = r.shtag.clusterId;
  }
  return o;
}

/** `uac_registrant:<name>` (alias `reg_<name>`) acting on one in-memory record: OK, or 404 when there is none. */
function onRecord(name: string, act: (coords: Coords) => boolean | Promise<boolean>): MiCommand {
  return {
    name: `uac_registrant:${name}`,
    aliases: [`reg_${name}`],
    recipes: [COORDS],
    handler: async (p) => {
      if (!(await act(coordsOf(p)))) throw NO_SUCH_REGISTRANT();
      return "OK";
    },
  };
}

/** MI names of the row columns, for error texts (the binding is `contact` in MI, `binding_URI` in the table). */
const paramOfColumn = (column: RowColumn): string => (column === "binding_URI" ? "contact" : column);

/** Upsert's twelve params as a table row: empty strings are NULL (unset), as OpenSIPS reads them. */
export function upsertRow(p: MiParams): RegistrantRow {
  const opt = (name: string): string | null => {
    const v = p[name] as string;
    return v === "" ? null : v;
  };
  return {
    id: "MI upsert",
    aor: p["aor"] as string,
    binding_URI: p["contact"] as string,
    registrar: p["registrar"] as string,
    proxy: opt("proxy"),
    third_party_registrant: opt("third_party_registrant"),
    username: opt("username"),
    password: opt("password"),
    binding_params: opt("binding_params"),
    expiry: p["expiry"] as number,
    forced_socket: opt("forced_socket"),
    cluster_shtag: opt("cluster_shtag"),
    state: p["state"] as number,
  };
}

/**
 * `uac_registrant:*` and the obsolete `reg_*` names (reference §7). Every reply shape and error text is
 * OpenSIPS's; a record that is not in memory answers 404 "No such registrant".
 */
export function uacRegistrantCommands(ops: RegistrantOperations, ctx: UacRegistrantContext): MiCommand[] {
  return [
    {
      name: "uac_registrant:list",
      aliases: ["reg_list"],
      recipes: [NONE, COORDS],
      handler: (p) => {
        if (p["aor"] === undefined) {
          const records: Record<string, string | number>[] = [];
          for (const r of ops.list()) records.push(recordJson(r));
          return { Records: records };
        }
        const r = ops.find(coordsOf(p));
        if (!r) throw NO_SUCH_REGISTRANT();
        return { Registrant: recordJson(r) };
      },
    },
    {
      name: "uac_registrant:reload",
      aliases: ["reg_reload"],
      recipes: [NONE, COORDS],
      handler: async (p) => {
        if (p["aor"] === undefined) {
          await ops.reloadAll();
          return "OK";
        }
        // reference §11.22: OpenSIPS answers OK for a row its checks refuse; we name the column and the reason
        const outcome = await ops.reloadOne(coordsOf(p)).catch((err: unknown) => {
          if (err instanceof RowError) throw new MiError(400, "Invalid registrant in database", err.message);
          throw err;
        });
        if (outcome === "not-in-db") throw new MiError(404, "No such registrant in database");
        return "OK";
      },
    },
    onRecord("enable", (c) => ops.enable(c)),
    onRecord("disable", (c) => ops.disable(c)),
    onRecord("force_register", (c) => ops.forceRegister(c)),
    {
      name: "uac_registrant:upsert",
      aliases: ["reg_upsert"],
      recipes: [UPSERT],
      handler: (p) => {
        const checked = checkRow(upsertRow(p), { ...ctx.rowCheck, columnName: paramOfColumn });
        if (!checked.ok) {
          // compatibility §21: OpenSIPS's answer varies here; ours always names the parameter
          const e = invalidParams(`Bad value for parameter '${checked.error.column}': ${checked.error.reason}`);
          throw new MiError(e.code, e.message, e.data);
        }
        ops.upsert(checked.spec);
        return "OK";
      },
    },
    onRecord("delete", (c) => ops.delete(c)),
  ];
}
