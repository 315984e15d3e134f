import { isAbsolute, resolve } from "node:path";
import { ConfigError } from "../errors.js";

/** A MariaDB/MySQL server as OpenSIPS's `db_url` names it: `mysql://user:pass@host[:port]/db`. */
export interface MysqlUrl {
  readonly kind: "mysql";
  readonly user: string;
  readonly password: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
}

/** An OpenSIPS db_text database: a directory with one file per table (`text:///path/to/dir`). */
export interface TextUrl {
  readonly kind: "text";
  readonly dir: string;
}

export type DbUrl = MysqlUrl | TextUrl;

const MYSQL_DEFAULT_PORT = 3306;

/**
 * Parses a `db_url`. Like OpenSIPS, nothing is percent-decoded; the userinfo ends at the last `@`, so a password
 * may contain `@`. A relative db_text path (`text://dir`) is resolved against `baseDir` (OpenSIPS uses CFG_DIR).
 */
export function parseDbUrl(url: string, baseDir = process.cwd()): DbUrl {
  const sep = url.indexOf("://");
  if (sep <= 0) throw new ConfigError(`db_url: expected scheme://..., got ${redactDbUrl(url)}`);
  const scheme = url.slice(0, sep).toLowerCase();
  const rest = url.slice(sep + 3);
  if (scheme === "text") {
    if (rest === "") throw new ConfigError("db_url: text:// needs a directory");
    return { kind: "text", dir: isAbsolute(rest) ? rest : resolve(baseDir, rest) };
  }
  if (scheme !== "mysql") {
    throw new ConfigError(`db_url: scheme ${scheme}:// is not supported (use mysql:// or text://)`);
  }
  return parseMysql(rest, url);
}

function parseMysql(rest: string, url: string): MysqlUrl {
  const at = rest.lastIndexOf("@");
  const userinfo = at >= 0 ? rest.slice(0, at) : "";
  const hostPart = at >= 0 ? rest.slice(at + 1) : rest;
  const slash = hostPart.indexOf("/");
  if (slash < 0) throw new ConfigError(`db_url: missing /database in ${redactDbUrl(url)}`);
  const hostPort = hostPart.slice(0, slash);
  const database = hostPart.slice(slash + 1);
  if (database === "" || database.includes("/")) {
    throw new ConfigError(`db_url: bad database name in ${redactDbUrl(url)}`);
  }
  const colon = userinfo.indexOf(":");
  const user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
  const password = colon >= 0 ? userinfo.slice(colon + 1) : "";
  const { host, port } = splitHostPort(hostPort, url);
  return { kind: "mysql", user, password, host, port, database };
}

function splitHostPort(hostPort: string, url: string): { host: string; port: number } {
  let host = hostPort;
  let portText: string | undefined;
  if (hostPort.startsWith("[")) {
    const close = hostPort.indexOf("]");
    if (close < 0) throw new ConfigError(`db_url: unterminated IPv6 address in ${redactDbUrl(url)}`);
    host = hostPort.slice(1, close);
    const after = hostPort.slice(close + 1);
    if (after.startsWith(":")) portText = after.slice(1);
    else if (after !== "") throw new ConfigError(`db_url: bad host in ${redactDbUrl(url)}`);
  } else {
    const colon = hostPort.lastIndexOf(":");
    if (colon >= 0) {
      host = hostPort.slice(0, colon);
      portText = hostPort.slice(colon + 1);
    }
  }
  if (host === "") throw new ConfigError(`db_url: missing host in ${redactDbUrl(url)}`);
  if (portText === undefined) return { host, port: MYSQL_DEFAULT_PORT };
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port > 0 && port < 65536)) throw new ConfigError(`db_url: bad port "${portText}" in ${redactDbUrl(url)}`);
  return { host, port };
}

/** The URL with its password replaced, for logs and error messages (passwords are never logged). */
export function redactDbUrl(url: string): string {
  const sep = url.indexOf("://");
  if (sep < 0) return url;
  const rest = url.slice(sep + 3);
  const at = rest.lastIndexOf("@");
  if (at < 0) return url;
  const userinfo = rest.slice(0, at);
  const colon = userinfo.indexOf(":");
  if (colon < 0) return url;
  return `${url.slice(0, sep + 3)}${userinfo.slice(0, colon)}:***${rest.slice(at)}`;
}
