import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { Ajv } from "ajv";
import type { ErrorObject, ValidateFunction } from "ajv";
import { ConfigError } from "../errors.js";
import type { Config } from "./config.js";
import { parseRabbitmqSocket, redactRabbitmqSocket } from "../events/rabbitmq-socket.js";
import { redactDbUrl } from "../store/db-url.js";
import { formatSocketSpec, parseSocketSpec } from "../sip/transport/socket-spec.js";
import { DEFAULT_CONFIG } from "./defaults.js";
import { readOpensipsCfg } from "./opensips-cfg.js";

/** Where a value came from, for error messages: JSON pointer → e.g. `opensips.cfg:42: modparam(...)`. */
export type Origins = ReadonlyMap<string, string>;

export interface ValidatedConfig {
  readonly config: Config;
  /** OpenSIPS start-up complaints that do not stop it (logged at warn by the caller) */
  readonly warnings: readonly string[];
}

const SCHEMA_URL = new URL("../../schemas/config.schema.json", import.meta.url);

let validator: ValidateFunction | undefined;

function compiledSchema(): ValidateFunction {
  if (validator) return validator;
  const schema = JSON.parse(readFileSync(SCHEMA_URL, "utf8")) as Record<string, unknown>;
  const ajv = new Ajv({ allErrors: true, strict: true, useDefaults: true, verbose: true });
  // annotation only: a human wording of a `pattern`, used in error messages
  ajv.addKeyword({ keyword: "x-hint", schemaType: "string" });
  validator = ajv.compile(schema);
  return validator;
}

/**
 * Validates a parsed config against schemas/config.schema.json, fills every default, then applies OpenSIPS's
 * start-up checks (reference §2, §3.6). Throws one ConfigError listing every problem, each line starting with
 * the key's JSON pointer.
 */
export function validateConfig(input: unknown, origins: Origins = new Map()): ValidatedConfig {
  const data: unknown = structuredClone(input ?? {});
  const validate = compiledSchema();
  if (!validate(data)) {
    throw problemsError(
      (validate.errors ?? []).map((e) => describeAjvError(e)),
      origins,
    );
  }
  const { $schema: _ignored, ...rest } = data as Config & { $schema?: string };
  const config = normalize(rest);
  const { problems, warnings } = startupChecks(config);
  if (problems.length > 0) throw problemsError(problems, origins);
  return { config, warnings };
}

/** Reads a JSON file; a syntax error names the file, line and column. */
export async function readJsonConfig(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ConfigError(`${path}: not valid JSON: ${jsonSyntaxWhere(text, (err as Error).message)}`, {
      cause: err,
    });
  }
}

/** Deep merge of plain objects (arrays and scalars of `over` replace those of `base`). */
export function mergeConfig(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = mergeConfig(base[key], value);
  return out;
}

interface Problem {
  readonly pointer: string;
  readonly text: string;
}

function problemsError(problems: readonly Problem[], origins: Origins): ConfigError {
  const lines = problems.map((p) => {
    const origin = originOf(p.pointer, origins);
    return `${p.pointer || "/"}: ${p.text}${origin ? ` (from ${origin})` : ""}`;
  });
  const head =
    problems.length === 1 ? "invalid configuration: " : `invalid configuration (${problems.length} problems):\n  `;
  return new ConfigError(head + lines.join("\n  "));
}

function originOf(pointer: string, origins: Origins): string | undefined {
  for (let p = pointer; p !== ""; p = p.slice(0, p.lastIndexOf("/"))) {
    const origin = origins.get(p);
    if (origin !== undefined) return origin;
  }
  return undefined;
}

// OpenSIPS's own start-up messages (registrant.c mod_init), quoted so operators can grep for them
const OPENSIPS_SAYS: Record<string, (value: unknown) => string> = {
  "/timer_interval": (v) => `timer_interval to short: [${String(v)}]<10`,
  "/default_expires": (v) => `default_expires to short: [${String(v)}]<15`,
  "/reregister_expiry_percentage": () => "Earlier reregistration expiry percentage needs to be in the (0...100] range",
  "/hash_size": (v) => `Wrong hash size: 20<[${String(v)}]<1`,
};

const SECRET_KEYS = /(^|\/)(password|token)$/;

function describeAjvError(e: ErrorObject): Problem {
  const at = e.instancePath;
  const params = e.params as Record<string, unknown>;
  const shown = SECRET_KEYS.test(at) ? "(value hidden)" : show(e.data, at);
  switch (e.keyword) {
    case "required":
      return { pointer: `${at}/${String(params["missingProperty"])}`, text: "is required" };
    case "additionalProperties": {
      const key = String(params["additionalProperty"]);
      const known = Object.keys((e.parentSchema?.["properties"] as Record<string, unknown> | undefined) ?? {});
      const near = closest(key, known);
      return { pointer: `${at}/${key}`, text: `unknown key${near ? ` (did you mean "${near}"?)` : ""}` };
    }
    case "type":
      return { pointer: at, text: `must be ${article(String(params["type"]))}, got ${shown}` };
    case "enum":
      return {
        pointer: at,
        text: `must be one of ${(params["allowedValues"] as unknown[]).map((v) => JSON.stringify(v)).join(", ")}, got ${shown}`,
      };
    case "minimum":
    case "maximum": {
      const opensips = OPENSIPS_SAYS[at];
      const bound = `must be ${e.keyword === "minimum" ? ">=" : "<="} ${String(params["limit"])}, got ${shown}`;
      if (!opensips) return { pointer: at, text: bound };
      // OpenSIPS only logs a bad hash_size and goes on; 2^21+ buckets is memory for nothing, so we refuse
      const verb = at === "/hash_size" ? "OpenSIPS only logs" : "OpenSIPS refuses it too";
      return { pointer: at, text: `${bound}; ${verb}: "${opensips(e.data)}"` };
    }
    case "pattern": {
      const hint: unknown = e.parentSchema?.["x-hint"];
      return {
        pointer: at,
        text: `must be ${typeof hint === "string" ? hint : `like ${String(params["pattern"])}`}, got ${shown}`,
      };
    }
    case "minLength":
      return { pointer: at, text: params["limit"] === 1 ? "must not be empty" : (e.message ?? "is too short") };
    case "uniqueItems":
      return {
        pointer: at,
        text: `lists the same entry twice (items ${String(params["j"])} and ${String(params["i"])})`,
      };
    default:
      return { pointer: at, text: e.message ?? e.keyword };
  }
}

/** Socket defaults as OpenSIPS applies them: no port means 5060, or 5061 for TLS. */
function normalizeSocket(socket: string): string {
  const m = /^(udp|tcp|tls):(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(socket);
  if (!m || m[3] !== undefined) return socket;
  return `${socket}:${m[1] === "tls" ? 5061 : 5060}`;
}

function normalize(config: Config): Config {
  const tls: Record<string, Config["tls"][string]> = {};
  for (const [key, options] of Object.entries(config.tls)) tls[normalizeSocket(key)] = options;
  return orderLike({ ...config, listen: config.listen.map(normalizeSocket), tls }, DEFAULT_CONFIG);
}

/** Keys in the order of the built-in defaults (the schema's order), so printed configs read the same way. */
function orderLike<T>(value: T, template: unknown): T {
  if (!isPlainObject(value) || !isPlainObject(template)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(template)) if (key in value) out[key] = orderLike(value[key], template[key]);
  for (const key of Object.keys(value)) if (!(key in out)) out[key] = value[key];
  return out as T;
}

function startupChecks(config: Config): { problems: Problem[]; warnings: string[] } {
  const problems: Problem[] = [];
  const warnings: string[] = [];
  // registrant.c mod_init: hash_size outside 1..20 is only logged; 0 still gives 2^0 = 1 bucket
  if (config.hash_size === 0) warnings.push(`hash_size: ${OPENSIPS_SAYS["/hash_size"]?.(0)} (using 1 bucket)`);
  const buckets = 2 ** config.hash_size;
  // the bucket timer runs every floor(TI / 2^hash_size) s; 0 stops OpenSIPS at start-up (reference §3.6)
  if (Math.floor(config.timer_interval / buckets) === 0) {
    problems.push({
      pointer: "/timer_interval",
      text:
        `must be at least 2^hash_size = ${buckets}, got ${config.timer_interval}; OpenSIPS refuses it: ` +
        `"timer_interval=[${config.timer_interval}] MUST be at least as big as reg_hsize=[${buckets}]"`,
    });
  }
  const seen = new Set<string>();
  config.listen.forEach((socket, i) => {
    const parsed = parseSocketSpec(socket);
    if (!parsed.ok) problems.push({ pointer: `/listen/${i}`, text: parsed.error.message });
    else if (seen.has(formatSocketSpec(parsed.spec))) {
      problems.push({ pointer: `/listen/${i}`, text: `${socket} is listed twice` });
    } else seen.add(formatSocketSpec(parsed.spec));
  });
  config.events.subscribe.forEach((subscription, i) => {
    const parsed = parseRabbitmqSocket(subscription.socket);
    if (!parsed.ok) problems.push({ pointer: `/events/subscribe/${i}/socket`, text: parsed.error });
    else if (parsed.target.connection.tlsDomain !== undefined) {
      const domain = parsed.target.connection.tlsDomain;
      if (!(domain in config.tls)) {
        problems.push({ pointer: `/events/subscribe/${i}/socket`, text: `tls_domain=${domain} has no entry in tls` });
      }
    }
  });
  for (const key of Object.keys(config.tls)) {
    if (!key.startsWith("tls:")) continue;
    const parsed = parseSocketSpec(key);
    if (!parsed.ok || !seen.has(formatSocketSpec(parsed.spec))) {
      problems.push({ pointer: `/tls/${escapePointer(key)}`, text: `${key} is not one of the listen sockets` });
    }
  }
  const ws = config.events.websocket;
  const mi = config.mi_http;
  if (ws.enabled && mi.enabled && ws.port !== 0 && ws.port === mi.port && ws.ip === mi.ip) {
    problems.push({
      pointer: "/events/websocket/port",
      text: `${ws.ip}:${ws.port} is also mi_http's address; pick another port`,
    });
  }
  return { problems, warnings };
}

function escapePointer(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}

function show(value: unknown, pointer: string): string {
  if (pointer === "/db_url" && typeof value === "string") return JSON.stringify(redactDbUrl(value));
  if (/^\/events\/subscribe\/\d+\/socket$/.test(pointer) && typeof value === "string") {
    return JSON.stringify(redactRabbitmqSocket(value));
  }
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The known key nearest to a misspelt one (edit distance ≤ 3), for "did you mean". */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, sub));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** Where JSON.parse stopped, from V8's message ("at position N", or a context snippet), as "line L column C: ...". */
function jsonSyntaxWhere(text: string, message: string): string {
  const pos = jsonErrorOffset(text, message);
  if (pos === undefined) return message;
  const before = text.slice(0, pos);
  const line = before.split("\n").length;
  const column = pos - before.lastIndexOf("\n");
  return `line ${line} column ${column}: ${message}`;
}

function jsonErrorOffset(text: string, message: string): number | undefined {
  const at = /position (\d+)/.exec(message);
  if (at) return Number(at[1]);
  if (/Unexpected end of JSON input/.test(message)) return text.length;
  // V8 shows up to 10 characters either side of the bad token: `Unexpected token 'x', ..."context"... is not valid JSON`
  const m = /^Unexpected token '([\s\S])', (\.\.\.)?"([\s\S]*)"(\.\.\.)? is not valid JSON$/.exec(message);
  if (!m) return undefined;
  const [, token = "", cutBefore, context = "", cutAfter] = m;
  const start = cutBefore ? text.indexOf(context) : 0;
  if (start < 0) return undefined;
  if (cutBefore) return start + 10;
  return cutAfter ? context.length - 10 : context.indexOf(token);
}

export interface ResolvedConfig extends ValidatedConfig {
  /** what an --opensips-cfg file held that registrantd does not use (for one info line) */
  readonly ignored: readonly string[];
}

/**
 * The config registrantd runs on: built-in defaults, then the values read from an opensips.cfg, then the JSON
 * config file on top (its keys win). Either file may be absent.
 */
export async function resolveConfig(files: { config?: string; opensipsCfg?: string }): Promise<ResolvedConfig> {
  let raw: unknown = {};
  const origins = new Map<string, string>();
  const warnings: string[] = [];
  let ignored: readonly string[] = [];
  if (files.opensipsCfg !== undefined) {
    const cfg = readOpensipsCfg(files.opensipsCfg);
    raw = cfg.config;
    for (const [pointer, origin] of cfg.origins) origins.set(pointer, origin);
    warnings.push(...cfg.warnings);
    ignored = cfg.ignored;
  }
  if (files.config !== undefined) {
    const json = await readJsonConfig(files.config);
    // a key set in the JSON file now comes from there, not from opensips.cfg
    for (const pointer of [...origins.keys()]) if (hasPointer(json, pointer)) origins.delete(pointer);
    raw = mergeConfig(raw, json);
  }
  const validated = validateConfig(raw, origins);
  return { config: validated.config, warnings: [...warnings, ...validated.warnings], ignored };
}

function hasPointer(value: unknown, pointer: string): boolean {
  let cur = value;
  for (const part of pointer.split("/").slice(1)) {
    if (!isPlainObject(cur) && !Array.isArray(cur)) return false;
    cur = (cur as Record<string, unknown>)[part];
    if (cur === undefined) return false;
  }
  return true;
}

/** The config with every secret replaced by `***`, for printing and MI/dashboard display. */
export function redactConfig(config: Config): Config {
  const { auth, ...miHttp } = config.mi_http;
  const { token, ...websocket } = config.events.websocket;
  return {
    ...config,
    ...(config.db_url !== undefined ? { db_url: redactDbUrl(config.db_url) } : {}),
    mi_http: { ...miHttp, ...(auth ? { auth: { username: auth.username, password: "***" } } : {}) },
    events: {
      ...config.events,
      subscribe: config.events.subscribe.map((s) => ({ event: s.event, socket: redactRabbitmqSocket(s.socket) })),
      websocket: { ...websocket, ...(token !== undefined ? { token: "***" } : {}) },
    },
  };
}
