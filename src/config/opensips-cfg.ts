import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { ConfigError } from "../errors.js";
import { redactDbUrl } from "../store/db-url.js";

/**
 * Reads an existing opensips.cfg (`registrantd --opensips-cfg`) and keeps what registrantd does the job of:
 * `modparam("uac_registrant", ...)`, core `db_default_url`, `socket=`/`listen=` (+ `port=`), `user_agent_header`,
 * tm's `fr_timeout`/`T1_timer`/`T2_timer`, httpd + mi_http, mi_fifo, mi_datagram (each enabled when its module is
 * loaded) and `subscribe_event("E_REGISTRANT_...", "rabbitmq:...")` in the startup_route. Everything else is
 * listed in `ignored`. The result is a raw config object: validateConfig() judges the values.
 *
 * The lexing follows OpenSIPS's cfg.lex: `#` comments to the end of the line, nestable block comments, "..."
 * strings with C escapes and '...' strings taken literally. Preprocessor lines as used with `opensips -p` or
 * Kamailio-style configs (`#!define`, `#!ifdef`..., and their cpp `#define` forms) are applied first.
 */
export interface OpensipsCfg {
  /** config keys taken from the file, shaped like the JSON config */
  readonly config: Record<string, unknown>;
  /** JSON pointer → `file:line: statement`, so a refused value names where it came from */
  readonly origins: Map<string, string>;
  /** what was left out, grouped (`modules: sl, rr`, ...) for the one info line */
  readonly ignored: readonly string[];
  /** things registrantd cannot do as the file asks (logged at warn) */
  readonly warnings: readonly string[];
}

/** `list`: every modparam line adds one string (OpenSIPS modparams that may repeat, like clusterer's sharing_tag) */
type ValueKind = "int" | "str" | "list";

interface Target {
  readonly pointer: string;
  readonly kind: ValueKind;
}

const REGISTRANT_INTS = [
  "hash_size",
  "timer_interval",
  "failure_retry_interval",
  "enable_clustering",
  "default_expires",
  "reregister_expiry_percentage",
];
const REGISTRANT_STRS = [
  "db_url",
  "table_name",
  "registrar_column",
  "proxy_column",
  "aor_column",
  "third_party_registrant_column",
  "username_column",
  "password_column",
  "binding_URI_column",
  "binding_params_column",
  "expiry_column",
  "forced_socket_column",
  "cluster_shtag_column",
  "state_column",
];

/** (module, modparam) → config key */
const MODPARAMS: Record<string, Record<string, Target>> = {
  uac_registrant: Object.fromEntries([
    ...REGISTRANT_INTS.map((p) => [p, { pointer: `/${p}`, kind: "int" as const }]),
    ...REGISTRANT_STRS.map((p) => [p, { pointer: `/${p}`, kind: "str" as const }]),
  ]) as Record<string, Target>,
  tm: {
    fr_timeout: { pointer: "/tm/fr_timeout", kind: "int" },
    T1_timer: { pointer: "/tm/t1", kind: "int" },
    T2_timer: { pointer: "/tm/t2", kind: "int" },
  },
  httpd: {
    ip: { pointer: "/mi_http/ip", kind: "str" },
    port: { pointer: "/mi_http/port", kind: "int" },
    auth_username: { pointer: "/mi_http/auth/username", kind: "str" },
    auth_password: { pointer: "/mi_http/auth/password", kind: "str" },
  },
  mi_http: { root: { pointer: "/mi_http/root", kind: "str" } },
  mi_fifo: {
    fifo_name: { pointer: "/mi_fifo/fifo_name", kind: "str" },
    reply_dir: { pointer: "/mi_fifo/reply_dir", kind: "str" },
  },
  mi_datagram: { socket_name: { pointer: "/mi_datagram/socket_name", kind: "str" } },
  clusterer: { sharing_tag: { pointer: "/sharing_tag", kind: "list" } },
};

/** MI transport modules: loaded in opensips.cfg = enabled here */
const MI_MODULES = ["mi_http", "mi_fifo", "mi_datagram"] as const;

const SUPPORTED_PROTOS = new Set(["udp", "tcp", "tls"]);
const MAX_INCLUDE_DEPTH = 10;

export function readOpensipsCfg(path: string): OpensipsCfg {
  return parseOpensipsCfg(readSource(path), path);
}

/** Parses cfg text; `readInclude` resolves `include_file`/`import_file` (default: the file system). */
export function parseOpensipsCfg(
  text: string,
  file: string,
  readInclude: (path: string) => string | undefined = tryReadSource,
): OpensipsCfg {
  const pre = preprocess(text, file, readInclude);
  return new CfgReader(lex(pre.text), pre.lineOrigin, pre.warnings).read();
}

function readSource(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read OpenSIPS config ${path}: ${(err as Error).message}`, { cause: err });
  }
}

function tryReadSource(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Preprocessing: directives, #define substitution, comments, include_file. Output keeps one line per source line
// so every token can be traced back to file:line.

interface Preprocessed {
  readonly text: string;
  /** output line (0-based) → "file:line" */
  readonly lineOrigin: string[];
  readonly warnings: string[];
}

const DIRECTIVE = /^\s*#!?(define|trydef|undef|ifdef|ifndef|else|endif|substdef|defenv|defexp|subst)\b(.*)$/;
const INCLUDE = /^\s*(include_file|import_file)\s+(?:"([^"]*)"|'([^']*)')\s*;?\s*$/;
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;

function preprocess(text: string, file: string, readInclude: (path: string) => string | undefined): Preprocessed {
  const defines = new Map<string, string>();
  const out: string[] = [];
  const lineOrigin: string[] = [];
  const warnings: string[] = [];

  const expand = (name: string, depth: number): string => {
    const value = defines.get(name) ?? name;
    if (depth > 10 || !defines.has(name)) return value;
    return value.replace(/(?<![A-Za-z0-9_])[A-Za-z_][A-Za-z0-9_]*/g, (id) =>
      defines.has(id) ? expand(id, depth + 1) : id,
    );
  };

  const run = (source: string, name: string, depth: number): void => {
    const lines = source.split(/\r?\n/);
    const active: boolean[] = [];
    const isActive = (): boolean => active.every(Boolean);
    let mode: "code" | "block" | "dq" | "sq" = "code";
    let nest = 0;
    let current = "";
    let lineNo = 0;
    for (const rawLine of lines) {
      lineNo++;
      const origin = `${name}:${lineNo}`;
      if (mode === "code") {
        const dm = DIRECTIVE.exec(rawLine);
        if (dm) {
          applyDirective(dm[1] ?? "", (dm[2] ?? "").trim(), active, defines, isActive, warnings, origin);
          out.push(current);
          lineOrigin.push(origin);
          current = "";
          continue;
        }
        if (!isActive()) {
          out.push("");
          lineOrigin.push(origin);
          continue;
        }
        const im = INCLUDE.exec(rawLine);
        if (im) {
          out.push(current);
          lineOrigin.push(origin);
          current = "";
          const target = im[2] ?? im[3] ?? "";
          const path = isAbsolute(target) ? target : resolve(dirname(name), target);
          const included = depth < MAX_INCLUDE_DEPTH ? readInclude(path) : undefined;
          if (included === undefined) {
            if (im[1] === "include_file") warnings.push(`${origin}: cannot read include_file "${target}"`);
          } else {
            run(included, path, depth + 1);
          }
          continue;
        }
      }
      // scan the line, tracking strings and comments across lines
      let i = 0;
      while (i < rawLine.length) {
        const c = rawLine[i] ?? "";
        if (mode === "block") {
          if (rawLine.startsWith("*/", i)) {
            nest--;
            i += 2;
            if (nest === 0) mode = "code";
          } else if (rawLine.startsWith("/*", i)) {
            nest++;
            i += 2;
          } else i++;
          continue;
        }
        if (mode === "dq" || mode === "sq") {
          current += c;
          if (mode === "dq" && c === "\\" && i + 1 < rawLine.length) {
            current += rawLine[i + 1] ?? "";
            i += 2;
            continue;
          }
          if ((mode === "dq" && c === '"') || (mode === "sq" && c === "'")) mode = "code";
          i++;
          continue;
        }
        if (c === "#") break;
        if (rawLine.startsWith("/*", i)) {
          mode = "block";
          nest = 1;
          i += 2;
          current += " ";
          continue;
        }
        if (c === '"' || c === "'") {
          mode = c === '"' ? "dq" : "sq";
          current += c;
          i++;
          continue;
        }
        const prev = i > 0 ? (rawLine[i - 1] ?? "") : "";
        if (/[A-Za-z_]/.test(c) && !/[A-Za-z0-9_]/.test(prev)) {
          IDENT.lastIndex = i;
          const id = IDENT.exec(rawLine)?.[0] ?? c;
          current += defines.has(id) ? expand(id, 0) : id;
          i += id.length;
          continue;
        }
        current += c;
        i++;
      }
      // a string or block comment left open continues on the next line; the lexer counts the newline
      out.push(current);
      lineOrigin.push(origin);
      current = "";
    }
    if (active.length > 0) warnings.push(`${name}: ${active.length} #ifdef block(s) not closed`);
  };

  run(text, file, 0);
  return { text: out.join("\n"), lineOrigin, warnings };
}

function applyDirective(
  kind: string,
  rest: string,
  active: boolean[],
  defines: Map<string, string>,
  isActive: () => boolean,
  warnings: string[],
  origin: string,
): void {
  const [name = "", ...valueParts] = rest.split(/\s+/);
  const value = rest.slice(name.length).trim();
  switch (kind) {
    case "ifdef":
      active.push(defines.has(name));
      return;
    case "ifndef":
      active.push(!defines.has(name));
      return;
    case "else":
      if (active.length > 0) active.push(!(active.pop() ?? true));
      return;
    case "endif":
      active.pop();
      return;
    default:
      break;
  }
  if (!isActive()) return;
  if (kind === "define" || (kind === "trydef" && !defines.has(name))) {
    // Kamailio allows a trailing comment-free value; an empty value defines the name for #!ifdef only
    defines.set(name, valueParts.length > 0 ? value : "");
  } else if (kind === "undef") {
    defines.delete(name);
  } else if (kind !== "trydef") {
    warnings.push(`${origin}: preprocessor directive #!${kind} is not supported; line ignored`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Lexing (after preprocessing): strings, punctuation, and words (any other run of non-space characters).

type Token =
  | { readonly t: "str"; readonly v: string; readonly line: number }
  | { readonly t: "punct"; readonly v: string; readonly line: number; readonly at: number }
  | { readonly t: "word"; readonly v: string; readonly line: number; readonly at: number; readonly end: number };

const PUNCT = "(){}[],;=";

function lex(text: string): { tokens: Token[]; text: string } {
  const tokens: Token[] = [];
  let line = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? "";
    if (c === "\n") {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '"' || c === "'") {
      const startLine = line;
      let v = "";
      i++;
      while (i < text.length && text[i] !== c) {
        const ch = text[i] ?? "";
        if (ch === "\n") line++;
        if (c === '"' && ch === "\\" && i + 1 < text.length) {
          const [decoded, used] = unescape(text, i);
          if (text[i + 1] === "\n") line++;
          v += decoded;
          i += used;
          continue;
        }
        v += ch;
        i++;
      }
      i++;
      tokens.push({ t: "str", v, line: startLine });
    } else if (PUNCT.includes(c)) {
      tokens.push({ t: "punct", v: c, line, at: i });
      i++;
    } else {
      const start = i;
      while (
        i < text.length &&
        !/\s/.test(text[i] ?? "") &&
        !PUNCT.includes(text[i] ?? "") &&
        !"\"'".includes(text[i] ?? "")
      )
        i++;
      tokens.push({ t: "word", v: text.slice(start, i), line, at: start, end: i });
    }
  }
  return { tokens, text };
}

/** OpenSIPS STRING1 escapes: \n \r \a \t \" \\ \xHH \ooo and an escaped newline (eaten). */
function unescape(text: string, i: number): [string, number] {
  const n = text[i + 1] ?? "";
  const simple: Record<string, string> = { n: "\n", r: "\r", a: "\x07", t: "\t", '"': '"', "\\": "\\", "\n": "" };
  if (n in simple) return [simple[n] ?? "", 2];
  const hex = /^x([0-9A-Fa-f]{1,2})/.exec(text.slice(i + 1, i + 4));
  if (hex) return [String.fromCharCode(parseInt(hex[1] ?? "0", 16)), 1 + hex[0].length];
  const oct = /^[0-7]{2,3}/.exec(text.slice(i + 1, i + 4));
  if (oct) return [String.fromCharCode(parseInt(oct[0], 8)), 1 + oct[0].length];
  return [`\\${n}`, 2];
}

// ---------------------------------------------------------------------------------------------------------------
// Statements

const ROUTE_BLOCKS = new Set([
  "route",
  "onreply_route",
  "failure_route",
  "branch_route",
  "local_route",
  "error_route",
  "event_route",
  "timer_route",
  "startup_route",
  "request_route",
  "reply_route",
]);

class CfgReader {
  private readonly tokens: Token[];
  private readonly text: string;
  private pos = 0;
  private readonly config: Record<string, unknown> = {};
  private readonly origins = new Map<string, string>();
  private readonly warnings: string[];
  private readonly ignoredCore = new Set<string>();
  private readonly ignoredModules = new Set<string>();
  private readonly ignoredModparams = new Map<string, Set<string>>();
  private readonly ignoredBlocks = new Map<string, number>();
  private readonly ignoredEvents: string[] = [];
  private readonly loaded = new Set<string>();
  private readonly sockets: { raw: string; origin: string }[] = [];
  private defaultPort: number | undefined;
  private dbDefaultUrl: { value: string; origin: string } | undefined;
  private subscriptions = 0;
  private unixDatagram: string | undefined;
  private otherStatements = 0;

  constructor(
    lexed: { tokens: Token[]; text: string },
    private readonly lineOrigin: string[],
    warnings: string[],
  ) {
    this.tokens = lexed.tokens;
    this.text = lexed.text;
    this.warnings = [...warnings];
  }

  read(): OpensipsCfg {
    while (this.pos < this.tokens.length) this.statement();
    this.finish();
    return { config: this.config, origins: this.origins, ignored: this.ignoredSummary(), warnings: this.warnings };
  }

  private statement(): void {
    const tok = this.tokens[this.pos];
    if (!tok) return;
    const next = this.tokens[this.pos + 1];
    if (tok.t === "word" && tok.v === "loadmodule" && next?.t === "str") {
      this.pos += 2;
      this.loadModule(next.v);
      return;
    }
    if (tok.t === "word" && tok.v === "modparam" && next?.t === "punct" && next.v === "(") {
      this.modparam(tok.line);
      return;
    }
    if (tok.t === "word" && ROUTE_BLOCKS.has(tok.v)) {
      this.block(tok.v);
      return;
    }
    if (tok.t === "word" && next?.t === "punct" && next.v === "=") {
      this.assignment(tok);
      return;
    }
    if (tok.t === "punct" && tok.v === ";") {
      this.pos++;
      return;
    }
    if (tok.t === "punct" && tok.v === "{") {
      this.skipBraces();
      return;
    }
    this.otherStatements++;
    this.pos++;
  }

  private loadModule(path: string): void {
    const base = path.slice(path.lastIndexOf("/") + 1).replace(/\.so$/, "");
    this.loaded.add(base);
    if (base !== "uac_registrant" && !(base in MODPARAMS) && base !== "httpd" && base !== "uac_auth") {
      this.ignoredModules.add(base);
    }
  }

  private modparam(line: number): void {
    this.pos += 2; // modparam (
    const args: { v: string; quoted: boolean }[] = [];
    while (this.pos < this.tokens.length) {
      const tok = this.tokens[this.pos++];
      if (!tok) break;
      if (tok.t === "punct" && tok.v === ")") break;
      if (tok.t === "punct" && tok.v === ",") continue;
      if (tok.t === "punct") continue;
      args.push({ v: tok.v, quoted: tok.t === "str" });
    }
    if (this.tokens[this.pos]?.t === "punct" && this.tokens[this.pos]?.v === ";") this.pos++;
    const [mod, param, value] = args;
    const origin = this.where(line);
    if (!mod || !param || !value || args.length !== 3) {
      this.warnings.push(`${origin}: modparam with ${args.length} arguments not understood`);
      return;
    }
    const modules = moduleNamesMatching(mod.v);
    let used = false;
    for (const module of modules) {
      const target = MODPARAMS[module]?.[param.v];
      if (!target) continue;
      used = true;
      const shown = /password|db_url/.test(param.v) ? maskSecret(value.v) : value.quoted ? `"${value.v}"` : value.v;
      this.take(target, value, `${origin}: modparam("${module}", "${param.v}", ${shown})`);
    }
    if (!used) {
      const group = this.ignoredModparams.get(mod.v) ?? new Set<string>();
      group.add(param.v);
      this.ignoredModparams.set(mod.v, group);
      if (mod.v === "uac_registrant") {
        this.warnings.push(`${origin}: uac_registrant has no modparam "${param.v}" (OpenSIPS would not start)`);
      }
    }
  }

  private take(target: Target, value: { v: string; quoted: boolean }, origin: string): void {
    let v: unknown = value.v;
    if (target.kind === "int") {
      // OpenSIPS converts a numeric string given to an INT modparam; anything else stays a string for the schema
      if (/^-?[0-9]+$/.test(value.v.trim())) v = Number(value.v.trim());
      else if (!value.quoted) this.warnings.push(`${origin}: ${value.v} is not a number (an undefined #!define?)`);
    }
    if (target.pointer === "/mi_datagram/socket_name" && typeof v === "string" && !v.startsWith("udp:")) {
      // Node has no AF_UNIX datagram sockets: mi_datagram stays off rather than failing the whole start
      this.unixDatagram = origin;
      return;
    }
    if (target.kind === "list") {
      // list targets are top-level keys
      const key = target.pointer.slice(1);
      const list = Array.isArray(this.config[key]) ? (this.config[key] as unknown[]) : [];
      this.origins.set(`${target.pointer}/${list.length}`, origin);
      this.config[key] = [...list, v];
      return;
    }
    this.set(target.pointer, v, origin);
  }

  private set(pointer: string, value: unknown, origin: string): void {
    const parts = pointer.split("/").slice(1);
    let obj = this.config;
    for (const part of parts.slice(0, -1)) {
      const child = obj[part];
      if (typeof child === "object" && child !== null && !Array.isArray(child)) obj = child as Record<string, unknown>;
      else {
        const fresh: Record<string, unknown> = {};
        obj[part] = fresh;
        obj = fresh;
      }
    }
    obj[parts[parts.length - 1] ?? ""] = value;
    this.origins.set(pointer, origin);
  }

  private assignment(name: Extract<Token, { t: "word" }>): void {
    const eq = this.tokens[this.pos + 1];
    this.pos += 2;
    const valueTokens: Token[] = [];
    while (this.pos < this.tokens.length) {
      const tok = this.tokens[this.pos];
      if (!tok || tok.line !== name.line) break;
      this.pos++;
      if (tok.t === "punct" && tok.v === ";") break;
      valueTokens.push(tok);
    }
    const origin = this.where(name.line);
    const first = valueTokens[0];
    const str = first?.t === "str" ? first.v : undefined;
    switch (name.v) {
      case "socket":
      case "listen": {
        const last = valueTokens[valueTokens.length - 1];
        const start = first && first.t !== "str" ? first.at : undefined;
        const end = last && last.t === "word" ? last.end : last && last.t === "punct" ? last.at + 1 : undefined;
        if (start !== undefined && end !== undefined) this.sockets.push({ raw: this.text.slice(start, end), origin });
        else this.warnings.push(`${origin}: ${name.v}= line not understood`);
        return;
      }
      case "port":
        if (first?.t === "word" && /^[0-9]+$/.test(first.v)) this.defaultPort = Number(first.v);
        return;
      case "db_default_url":
        if (str !== undefined)
          this.dbDefaultUrl = { value: str, origin: `${origin}: db_default_url=${maskSecret(str)}` };
        return;
      case "user_agent_header":
        if (str !== undefined) {
          this.set("/user_agent", str.replace(/^\s*User-Agent\s*:\s*/i, ""), `${origin}: user_agent_header`);
        }
        return;
      case "mpath":
        return;
      default:
        if (eq) this.ignoredCore.add(name.v);
    }
  }

  /** `name[...] { ... }`: only the startup_route is read, for subscribe_event calls. */
  private block(kind: string): void {
    const line = this.tokens[this.pos]?.line ?? 0;
    this.pos++;
    let label = "";
    if (this.tokens[this.pos]?.t === "punct" && this.tokens[this.pos]?.v === "[") {
      this.pos++;
      while (
        this.pos < this.tokens.length &&
        !(this.tokens[this.pos]?.t === "punct" && this.tokens[this.pos]?.v === "]")
      ) {
        label += this.tokens[this.pos]?.v ?? "";
        this.pos++;
      }
      this.pos++;
    }
    if (!(this.tokens[this.pos]?.t === "punct" && this.tokens[this.pos]?.v === "{")) return;
    const from = this.pos;
    this.skipBraces();
    const to = this.pos;
    if (kind === "startup_route") {
      this.startupRoute(from, to);
      return;
    }
    if (kind === "event_route" && label.startsWith("E_REGISTRANT_")) {
      this.warnings.push(
        `${this.where(line)}: event_route[${label}] is script; registrantd runs no script, subscribe a socket instead`,
      );
    }
    const key = label && kind === "event_route" ? `${kind}[${label}]` : kind;
    this.ignoredBlocks.set(key, (this.ignoredBlocks.get(key) ?? 0) + 1);
  }

  private startupRoute(from: number, to: number): void {
    for (let i = from; i < to; i++) {
      const tok = this.tokens[i];
      // also `!subscribe_event(...)` and `x&&subscribe_event(...)` inside conditions
      if (tok?.t !== "word" || !/(^|[^A-Za-z0-9_$])subscribe_event$/.test(tok.v)) continue;
      const event = this.tokens[i + 2];
      const socket = this.tokens[i + 4];
      const origin = this.where(tok.line);
      if (event?.t !== "str" || socket?.t !== "str") {
        this.warnings.push(`${origin}: subscribe_event call not understood`);
        continue;
      }
      if (!event.v.startsWith("E_REGISTRANT_")) {
        this.ignoredEvents.push(event.v);
        continue;
      }
      if (!/^rabbitmq:/.test(socket.v)) {
        this.warnings.push(
          `${origin}: subscribe_event("${event.v}", "${hideSocketPassword(socket.v)}"): only rabbitmq: sockets are served; not subscribed`,
        );
        continue;
      }
      const n = this.subscriptions++;
      this.set(`/events/subscribe/${n}`, { event: event.v, socket: socket.v }, `${origin}: subscribe_event`);
    }
  }

  private skipBraces(): void {
    let depth = 0;
    while (this.pos < this.tokens.length) {
      const tok = this.tokens[this.pos++];
      if (tok?.t !== "punct") continue;
      if (tok.v === "{") depth++;
      else if (tok.v === "}" && --depth === 0) return;
    }
  }

  private finish(): void {
    // subscriptions were set as an object keyed by index; turn them into the array the schema expects
    const events = this.config["events"] as Record<string, unknown> | undefined;
    if (events?.["subscribe"]) events["subscribe"] = Object.values(events["subscribe"] as Record<string, unknown>);

    const listen: string[] = [];
    this.sockets.forEach(({ raw, origin }) => {
      for (const socket of this.socketsOf(raw, origin)) {
        this.origins.set(`/listen/${listen.length}`, `${origin}: ${raw}`);
        listen.push(socket);
      }
    });
    if (listen.length > 0) this.config["listen"] = listen;

    if (this.config["db_url"] === undefined && this.dbDefaultUrl) {
      this.set("/db_url", this.dbDefaultUrl.value, this.dbDefaultUrl.origin);
    }
    for (const module of MI_MODULES) this.set(`/${module}/enabled`, this.loaded.has(module), "loadmodule lines");
    if (this.unixDatagram !== undefined) {
      this.set("/mi_datagram/enabled", false, this.unixDatagram);
      this.warnings.push(`${this.unixDatagram}: UNIX datagram sockets are not served; mi_datagram is off`);
    }
    if (!this.loaded.has("uac_registrant")) this.warnings.push("the file does not loadmodule uac_registrant");
  }

  /** One `socket=`/`listen=` value → registrantd sockets; OpenSIPS's extras (as, tag, workers...) are dropped. */
  private socketsOf(raw: string, origin: string): string[] {
    const [spec = "", ...extras] = raw.trim().split(/\s+/);
    if (extras.length > 0) this.ignoredCore.add(`socket options (${extras.join(" ")})`);
    const m = /^(?:([a-z_]+):)?(\[[^\]]+\]|[^:[\]]+)(?::([0-9]+))?$/.exec(spec);
    if (!m) {
      this.warnings.push(`${origin}: socket "${spec}" not understood`);
      return [];
    }
    const proto = m[1] ?? "udp";
    if (!SUPPORTED_PROTOS.has(proto)) {
      this.ignoredCore.add(`${proto}: sockets`);
      return [];
    }
    const port = m[3] ?? String(this.defaultPort ?? (proto === "tls" ? 5061 : 5060));
    return [`${proto}:${m[2] ?? ""}:${port}`];
  }

  private where(line: number): string {
    return this.lineOrigin[line] ?? `line ${line + 1}`;
  }

  private ignoredSummary(): string[] {
    const out: string[] = [];
    if (this.ignoredModules.size > 0) out.push(`modules: ${[...this.ignoredModules].join(", ")}`);
    if (this.ignoredModparams.size > 0) {
      const parts = [...this.ignoredModparams].map(([mod, params]) => `${mod}(${[...params].join(", ")})`);
      out.push(`modparams: ${parts.join(", ")}`);
    }
    if (this.ignoredCore.size > 0) out.push(`core: ${[...this.ignoredCore].join(", ")}`);
    if (this.ignoredBlocks.size > 0) {
      const parts = [...this.ignoredBlocks].map(([kind, n]) => (n > 1 ? `${kind} x${n}` : kind));
      out.push(`script: ${parts.join(", ")}`);
    }
    if (this.ignoredEvents.length > 0) out.push(`subscriptions: ${this.ignoredEvents.join(", ")}`);
    if (this.otherStatements > 0) out.push(`${this.otherStatements} other tokens`);
    return out;
  }
}

/**
 * modparam's module argument is a regular expression in OpenSIPS (`modparam("mi_fifo|mi_datagram", ...)`);
 * a plain name is the common case.
 */
function moduleNamesMatching(pattern: string): string[] {
  if (/^[A-Za-z0-9_]+$/.test(pattern)) return [pattern];
  try {
    const re = new RegExp(`^(?:${pattern})$`);
    return Object.keys(MODPARAMS).filter((m) => re.test(m));
  } catch {
    return [];
  }
}

/** An unserved subscribe_event socket for a warning: the password of a `scheme:[//]user:pass@` as ***. */
function hideSocketPassword(socket: string): string {
  // up to the last '@' before the first '/', as the socket parsers end the userinfo
  return socket.replace(/^([A-Za-z][\w+.-]*:(?:\/\/)?[^:@/]*:)[^/]*@/, "$1***@");
}

/** A password or a db URL's password shown as *** in messages. */
function maskSecret(value: string): string {
  return /^[a-z]+:\/\//.test(value) ? `"${redactDbUrl(value)}"` : '"***"';
}
