import { RowError } from "../errors.js";
import type { Logger } from "../log.js";
import { parseUri } from "../sip/uri.js";
import type { RecordSpec, RegistrantRow, ShtagRef } from "./record-spec.js";

/** A column of the registrant table, by OpenSIPS's default name (the key of RegistrantRow). */
export type RowColumn = Exclude<keyof RegistrantRow, "id">;

export interface RowCheckContext {
  /** `timer_interval`: a given expiry must be larger (OpenSIPS "Please decrease timer_interval") */
  readonly timerInterval: number;
  /** `default_expires`: what a NULL expiry becomes (OpenSIPS rejects such rows: reference §11.1) */
  readonly defaultExpires: number;
  /** does `[proto:]host[:port]` name one of our listeners? */
  hasSocket(spec: string): boolean;
  /** the name to show for a column (the configured `*_column`, or an MI parameter name); default: its own name */
  columnName?(column: RowColumn): string;
  /** "mi" for upserts: the spec then carries no dbId. Default "db". */
  readonly source?: "db" | "mi";
}

export type RowCheckResult = { ok: true; spec: RecordSpec } | { ok: false; error: RowError };

/** OpenSIPS's CLUSTER_ID is a C int */
const MAX_CLUSTER_ID = 2 ** 31 - 1;
/** OpenSIPS keeps the expiry in an unsigned int */
const MAX_EXPIRY = 2 ** 32 - 1;

/**
 * OpenSIPS's per-row load checks (reference §3.1, reg_db_handler.c), in its order and with its log texts; the
 * first failure rejects the row. Differences, on purpose (reference §11): a NULL expiry takes default_expires, the
 * unique-binding flag is computed for this row alone, an invalid cluster id rejects only this row, and
 * binding_params must start with `;` (OpenSIPS would send a malformed Contact).
 */
export function checkRow(row: RegistrantRow, ctx: RowCheckContext): RowCheckResult {
  const name = (c: RowColumn): string => ctx.columnName?.(c) ?? c;
  const reject = (column: RowColumn, reason: string): { ok: false; error: RowError } => ({
    ok: false,
    error: new RowError(row.id, name(column), reason),
  });

  // 1. the three key columns
  const { registrar, aor, binding_URI: contact } = row;
  if (registrar === null || aor === null || contact === null) {
    const column = registrar === null ? "registrar" : aor === null ? "aor" : "binding_URI";
    return reject(
      column,
      `columns [${name("registrar")}] or/and [${name("aor")}] or/and [${name("binding_URI")}] cannot be null -> skipping`,
    );
  }

  // 2. registrar: a URI without user part
  const registrarUri = parseUri(registrar);
  if (!registrarUri.ok) return reject("registrar", `cannot parse registrar uri [${registrar}]`);
  if (registrarUri.uri.user) return reject("registrar", `registrant uri must not have user [${registrarUri.uri.user}]`);

  // 3. proxy (optional): a URI without user part
  const proxy = nonEmpty(row.proxy);
  if (proxy !== undefined) {
    const proxyUri = parseUri(proxy);
    if (!proxyUri.ok) return reject("proxy", `cannot parse proxy uri [${proxy}]`);
    if (proxyUri.uri.user) return reject("proxy", `proxy uri must not have user [${proxyUri.uri.user}]`);
  }

  // 4. aor
  if (!parseUri(aor).ok) return reject("aor", `cannot parse aor uri [${aor}]`);

  // 5. third party registrant (optional)
  const thirdParty = nonEmpty(row.third_party_registrant);
  if (thirdParty !== undefined && !parseUri(thirdParty).ok) {
    return reject("third_party_registrant", `cannot parse third party registrant uri [${thirdParty}]`);
  }

  // 6. binding URI
  if (!parseUri(contact).ok) return reject("binding_URI", `cannot parse contact uri [${contact}]`);

  // 7. username and password are not checked; empty means "not provisioned"
  const username = nonEmpty(row.username);
  const password = nonEmpty(row.password);

  // 8. binding params: OpenSIPS's parse_params; reg-id + +sip.instance make a unique binding (§6.6)
  const bindingParams = nonEmpty(row.binding_params);
  let uniqueBinding = false;
  if (bindingParams !== undefined) {
    const names = bindingParams.startsWith(";") ? contactParamNames(bindingParams) : undefined;
    if (names === undefined) return reject("binding_params", `Bogus params [${bindingParams}]`);
    // fresh per row: OpenSIPS's loader never reset these markers (§11.2)
    uniqueBinding = names.some((n) => n.startsWith("reg-id")) && names.some((n) => n.startsWith("+sip.instance"));
  }

  // 9. expiry: NULL takes default_expires (§11.1); a given value must exceed timer_interval
  let expirySec: number;
  if (row.expiry === null) {
    expirySec = ctx.defaultExpires;
  } else {
    const expiry = toInteger(row.expiry);
    if (expiry === undefined || expiry > MAX_EXPIRY) return reject("expiry", `invalid expiry [${String(row.expiry)}]`);
    if (expiry <= ctx.timerInterval) {
      return reject(
        "expiry",
        `Please decrease timer_interval=[${ctx.timerInterval}] - requested expires=[${expiry}] to small for AOR=[${aor}]`,
      );
    }
    expirySec = expiry;
  }

  // 10. forced socket (optional): must be one of our listeners
  const forcedSocket = nonEmpty(row.forced_socket);
  if (forcedSocket !== undefined && !ctx.hasSocket(forcedSocket)) {
    return reject("forced_socket", `invalid forced socket [${forcedSocket}]`);
  }

  // 11. sharing tag (optional): name/cluster_id; a bad id skips this row only (§11.5)
  let shtag: ShtagRef | undefined;
  const shtagText = nonEmpty(row.cluster_shtag);
  if (shtagText !== undefined) {
    const slash = shtagText.indexOf("/");
    if (slash < 0) {
      return reject("cluster_shtag", `Bad naming for sharing tag <${shtagText}>, <name/cluster_id> expected`);
    }
    const tag = trimSpaces(shtagText.slice(0, slash));
    const idText = trimSpaces(shtagText.slice(slash + 1));
    const clusterId = /^\d+$/.test(idText) ? Number(idText) : NaN;
    if (!(clusterId <= MAX_CLUSTER_ID)) {
      return reject("cluster_shtag", `Invalid cluster id <${idText}> for sharing tag <${tag}>`);
    }
    shtag = { tag, clusterId };
  }

  // 12. state: 0 enabled, anything else disabled (NULL reads as 0)
  const state = row.state === null ? 0 : toInteger(row.state);
  if (state === undefined) return reject("state", `invalid state [${String(row.state)}]`);

  const spec: RecordSpec = {
    aor,
    contact,
    registrar,
    ...((ctx.source ?? "db") === "db" ? { dbId: row.id } : {}),
    ...(proxy !== undefined ? { proxy } : {}),
    ...(thirdParty !== undefined ? { thirdPartyRegistrant: thirdParty } : {}),
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(bindingParams !== undefined ? { bindingParams } : {}),
    expirySec,
    ...(forcedSocket !== undefined ? { forcedSocket } : {}),
    ...(shtag !== undefined ? { shtag } : {}),
    enabled: state === 0,
    uniqueBinding,
  };
  return { ok: true, spec };
}

/**
 * A whole load: every row through checkRow, in order. Each refused row is logged once (ERROR, as OpenSIPS) with its
 * id, column and reason; the other rows still load.
 */
export function checkRows(
  rows: readonly RegistrantRow[],
  ctx: RowCheckContext,
  log?: Logger,
): { specs: RecordSpec[]; errors: RowError[] } {
  const specs: RecordSpec[] = [];
  const errors: RowError[] = [];
  for (const row of rows) {
    const r = checkRow(row, ctx);
    if (r.ok) {
      specs.push(r.spec);
    } else {
      errors.push(r.error);
      log?.error(
        { code: r.error.code, rowId: r.error.rowId, column: r.error.column, reason: r.error.reason },
        r.error.message,
      );
    }
  }
  return { specs, errors };
}

/** NULL and '' both mean "not set" for the optional columns, as in OpenSIPS. */
function nonEmpty(v: string | null): string | undefined {
  return v === null || v === "" ? undefined : v;
}

function toInteger(v: number | string): number | undefined {
  if (typeof v === "number") return Number.isSafeInteger(v) ? v : undefined;
  const t = v.trim();
  return /^-?\d+$/.test(t) && Number.isSafeInteger(Number(t)) ? Number(t) : undefined;
}

const SPACES = " \t\r\n";

/** OpenSIPS's trim_spaces_lr */
function trimSpaces(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && SPACES.includes(s[a]!)) a++;
  while (b > a && SPACES.includes(s[b - 1]!)) b--;
  return s.slice(a, b);
}

/**
 * The parameter names of a Contact parameter list, parsed as OpenSIPS's parse_params does (looser than RFC 3261:
 * a name runs to whitespace, `;`, `,` or `=`; a value is a quoted string or runs to whitespace, `;` or `,`; a
 * `,` or `>` ends the list). Undefined when OpenSIPS would fail: a `;` with no name after it, a `=` with no value,
 * an unterminated quote, or any other character where `;` is expected.
 */
export function contactParamNames(text: string): string[] | undefined {
  const names: string[] = [];
  const n = text.length;
  const skipWs = (j: number): number => {
    while (j < n && SPACES.includes(text[j]!)) j++;
    return j;
  };
  let i = 0;
  for (;;) {
    const start = i;
    while (i < n && !" \t\r\n;,=".includes(text[i]!)) i++;
    names.push(text.slice(start, i));
    i = skipWs(i);
    if (i === n) return names;
    if (text[i] === "=") {
      i = skipWs(i + 1);
      if (i === n) return undefined;
      if (text[i] === '"') {
        const close = closingQuote(text, i + 1);
        if (close < 0) return undefined;
        i = close + 1;
      } else {
        const valueStart = i;
        while (i < n && !" \t\r\n;,".includes(text[i]!)) i++;
        if (i === valueStart) return undefined;
      }
      i = skipWs(i);
      if (i === n) return names;
    }
    if (text[i] === "," || text[i] === ">") return names;
    if (text[i] !== ";") return undefined;
    i = skipWs(i + 1);
    if (i === n) return undefined;
  }
}

/** OpenSIPS's q_memchr: the next `"` not escaped by a backslash. */
function closingQuote(text: string, from: number): number {
  for (let j = from; j < text.length; j++) {
    if (text[j] === "\\") j++;
    else if (text[j] === '"') return j;
  }
  return -1;
}
