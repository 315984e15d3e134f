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
}

export type RowCheckResult = { ok: true; spec: RecordSpec } | { ok: false; error: RowError };

/** OpenSIPS's CLUSTER_ID is a C int */
const MAX_CLUSTER_ID = 2 ** 31 - 1;
/** OpenSIPS keeps the expiry in an unsigned int */
const MAX_EXPIRY = 2 ** 32 - 1;

/** What checking one text of a column gave: the string specs keep, and why the row is refused (undefined: fine). */
interface Checked<T = undefined> {
  readonly text: string;
  readonly refusal: string | undefined;
  readonly value: T;
}

/** Distinct texts remembered per column; past it, a new text is checked for its row alone. */
const MEMO_LIMIT = 1024;

/**
 * One column's check, remembered per distinct text: a trunk table repeats a handful of registrars, proxies,
 * sockets, tags and credentials over thousands of rows, so each is parsed once and every spec holding it shares
 * one string (a million specs, one registrar string). Bounded; and a column whose texts keep being new (usernames
 * of a table of subscribers) stops being looked up, since the lookup of a fresh string would then cost more than
 * it saves.
 */
class ColumnMemo<V> {
  private readonly seen = new Map<string, V>();
  /** misses since the memo is full */
  private missesWhenFull = 0;

  constructor(
    private readonly check: (text: string) => V,
    private readonly limit: number,
  ) {}

  get(text: string): V {
    if (this.missesWhenFull > this.limit) return this.check(text);
    let checked = this.seen.get(text);
    if (checked === undefined) {
      checked = this.check(text);
      if (this.seen.size < this.limit) this.seen.set(text, checked);
      else this.missesWhenFull++;
    }
    return checked;
  }
}

/** the credentials are not checked, only shared */
const same = (text: string): string => text;

const fine = (text: string): Checked => ({ text, refusal: undefined, value: undefined });

/** a URI without user part: the registrar and the proxy */
function hostUriCheck(what: "registrant" | "proxy", column: string): (text: string) => Checked {
  return (text) => {
    const parsed = parseUri(text);
    if (!parsed.ok) return { text, refusal: `cannot parse ${column} uri [${text}]`, value: undefined };
    const user = parsed.uri.user;
    return user ? { text, refusal: `${what} uri must not have user [${user}]`, value: undefined } : fine(text);
  };
}

/** The checks of the columns whose values repeat, remembered over one checker's rows (see ColumnMemo). */
class RepeatingColumns {
  readonly registrar: ColumnMemo<Checked>;
  readonly proxy: ColumnMemo<Checked>;
  readonly thirdParty: ColumnMemo<Checked>;
  readonly username: ColumnMemo<string>;
  readonly password: ColumnMemo<string>;
  /** value: reg-id + +sip.instance make a unique binding (§6.6) */
  readonly bindingParams: ColumnMemo<Checked<boolean>>;
  readonly forcedSocket: ColumnMemo<Checked>;
  readonly shtag: ColumnMemo<Checked<ShtagRef | undefined>>;

  constructor(ctx: RowCheckContext, limit: number) {
    this.registrar = new ColumnMemo(hostUriCheck("registrant", "registrar"), limit);
    this.proxy = new ColumnMemo(hostUriCheck("proxy", "proxy"), limit);
    this.thirdParty = new ColumnMemo(
      (text) =>
        parseUri(text).ok
          ? fine(text)
          : { text, refusal: `cannot parse third party registrant uri [${text}]`, value: undefined },
      limit,
    );
    this.username = new ColumnMemo(same, limit);
    this.password = new ColumnMemo(same, limit);
    this.bindingParams = new ColumnMemo((text) => {
      // OpenSIPS's parse_params; binding_params must start with `;` (§11)
      const names = text.startsWith(";") ? contactParamNames(text) : undefined;
      if (names === undefined) return { text, refusal: `Bogus params [${text}]`, value: false };
      // fresh per row: OpenSIPS's loader never reset these markers (§11.2)
      const unique = names.some((n) => n.startsWith("reg-id")) && names.some((n) => n.startsWith("+sip.instance"));
      return { text, refusal: undefined, value: unique };
    }, limit);
    this.forcedSocket = new ColumnMemo(
      (text) =>
        ctx.hasSocket(text) ? fine(text) : { text, refusal: `invalid forced socket [${text}]`, value: undefined },
      limit,
    );
    this.shtag = new ColumnMemo((text) => {
      // name/cluster_id; a bad id skips this row only (§11.5)
      const slash = text.indexOf("/");
      if (slash < 0) {
        return { text, refusal: `Bad naming for sharing tag <${text}>, <name/cluster_id> expected`, value: undefined };
      }
      const tag = trimSpaces(text.slice(0, slash));
      const idText = trimSpaces(text.slice(slash + 1));
      const clusterId = /^\d+$/.test(idText) ? Number(idText) : NaN;
      if (!(clusterId <= MAX_CLUSTER_ID)) {
        return { text, refusal: `Invalid cluster id <${idText}> for sharing tag <${tag}>`, value: undefined };
      }
      return { text, refusal: undefined, value: { tag, clusterId } };
    }, limit);
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * OpenSIPS's per-row load checks (reference §3.1, reg_db_handler.c), in its order and with its log texts; the
 * first failure rejects the row. Differences, on purpose (reference §11): a NULL expiry takes default_expires, the
 * unique-binding flag is computed for this row alone, an invalid cluster id rejects only this row, and
 * binding_params must start with `;` (OpenSIPS would send a malformed Contact). For a whole load, `rowChecker`
 * gives the same verdicts faster.
 */
export function checkRow(row: RegistrantRow, ctx: RowCheckContext): RowCheckResult {
  return checkWith(row, ctx, new RepeatingColumns(ctx, 0));
}

/**
 * checkRow for the rows of whole loads: the columns whose values repeat are checked once per distinct text and
 * their strings shared between specs (see ColumnMemo); the memory stays bounded however many rows it sees.
 */
export function rowChecker(ctx: RowCheckContext): (row: RegistrantRow) => RowCheckResult {
  const repeating = new RepeatingColumns(ctx, MEMO_LIMIT);
  return (row) => checkWith(row, ctx, repeating);
}

function checkWith(row: RegistrantRow, ctx: RowCheckContext, repeating: RepeatingColumns): RowCheckResult {
  const name = (c: RowColumn): string => ctx.columnName?.(c) ?? c;
  const reject = (column: RowColumn, reason: string): { ok: false; error: RowError } => ({
    ok: false,
    error: new RowError(row.id, name(column), reason),
  });

  // 1. the three key columns
  const { aor, binding_URI: contact } = row;
  if (row.registrar === null || aor === null || contact === null) {
    const column = row.registrar === null ? "registrar" : aor === null ? "aor" : "binding_URI";
    return reject(
      column,
      `columns [${name("registrar")}] or/and [${name("aor")}] or/and [${name("binding_URI")}] cannot be null -> skipping`,
    );
  }

  // 2. registrar: a URI without user part
  const registrar = repeating.registrar.get(row.registrar);
  if (registrar.refusal !== undefined) return reject("registrar", registrar.refusal);

  // 3. proxy (optional): a URI without user part
  const proxy = optional(row.proxy, repeating.proxy);
  if (proxy?.refusal !== undefined) return reject("proxy", proxy.refusal);

  // 4. aor
  if (!parseUri(aor).ok) return reject("aor", `cannot parse aor uri [${aor}]`);

  // 5. third party registrant (optional)
  const thirdParty = optional(row.third_party_registrant, repeating.thirdParty);
  if (thirdParty?.refusal !== undefined) return reject("third_party_registrant", thirdParty.refusal);

  // 6. binding URI
  if (!parseUri(contact).ok) return reject("binding_URI", `cannot parse contact uri [${contact}]`);

  // 7. username and password are not checked; empty means "not provisioned"
  const username = optional(row.username, repeating.username);
  const password = optional(row.password, repeating.password);

  // 8. binding params: OpenSIPS's parse_params; reg-id + +sip.instance make a unique binding (§6.6)
  const bindingParams = optional(row.binding_params, repeating.bindingParams);
  if (bindingParams?.refusal !== undefined) return reject("binding_params", bindingParams.refusal);

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
  const forcedSocket = optional(row.forced_socket, repeating.forcedSocket);
  if (forcedSocket?.refusal !== undefined) return reject("forced_socket", forcedSocket.refusal);

  // 11. sharing tag (optional): name/cluster_id; a bad id skips this row only (§11.5)
  const shtag = optional(row.cluster_shtag, repeating.shtag);
  if (shtag?.refusal !== undefined) return reject("cluster_shtag", shtag.refusal);

  // 12. state: 0 enabled, anything else disabled (NULL reads as 0)
  const state = row.state === null ? 0 : toInteger(row.state);
  if (state === undefined) return reject("state", `invalid state [${String(row.state)}]`);

  // the optional fields are added only when set (no `undefined` keys), one by one: no spread of temporaries.
  // Credentials, which nearly every row has, are in the literal: V8 keeps a literal's fields in the object
  // itself, the ones added later in a separate array (24 B more per record).
  const enabled = state === 0;
  const uniqueBinding = bindingParams?.value ?? false;
  const spec: Mutable<RecordSpec> =
    username !== undefined && password !== undefined
      ? { aor, contact, registrar: registrar.text, username, password, expirySec, enabled, uniqueBinding }
      : { aor, contact, registrar: registrar.text, expirySec, enabled, uniqueBinding };
  if (proxy !== undefined) spec.proxy = proxy.text;
  if (thirdParty !== undefined) spec.thirdPartyRegistrant = thirdParty.text;
  if (username !== undefined && password === undefined) spec.username = username;
  if (password !== undefined && username === undefined) spec.password = password;
  if (bindingParams !== undefined) spec.bindingParams = bindingParams.text;
  if (forcedSocket !== undefined) spec.forcedSocket = forcedSocket.text;
  if (shtag?.value !== undefined) spec.shtag = shtag.value;
  return { ok: true, spec };
}

/**
 * A whole load: every row through the checks, in order. Each refused row is logged once (ERROR, as OpenSIPS) with
 * its id, column and reason; the other rows still load.
 */
export function checkRows(
  rows: readonly RegistrantRow[],
  ctx: RowCheckContext,
  log?: Logger,
): { specs: RecordSpec[]; errors: RowError[] } {
  const check = rowChecker(ctx);
  const specs: RecordSpec[] = [];
  const errors: RowError[] = [];
  for (const row of rows) {
    const r = check(row);
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

/** An optional column through its check; NULL and '' both mean "not set", as in OpenSIPS. */
function optional<V>(v: string | null, memo: ColumnMemo<V>): V | undefined {
  return v === null || v === "" ? undefined : memo.get(v);
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
