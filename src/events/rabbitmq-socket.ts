/**
 * Where a RabbitMQ subscription publishes, parsed from the two notations registrantd accepts:
 *
 * - OpenSIPS's event_rabbitmq socket (reference mi-and-events §7.4.3), unchanged:
 *   `rabbitmq:[USER[:PASSWORD]@]HOST[:PORT]/[PARAMS?]ROUTING_KEY`, PARAMS `;`-separated among
 *   `exchange=NAME`, `tls_domain=NAME`, `persistent`; `%XX` escapes allowed in values; vhost always `/`.
 * - An AMQP URI, which OpenSIPS cannot address (vhost, TLS without tls_mgm):
 *   `amqp[s]://[USER[:PASSWORD]@]HOST[:PORT][/VHOST]?routing_key=KEY[&exchange=NAME][&persistent]`
 *   (`heartbeat=SECONDS` is passed through to the connection).
 *
 * Input comes from the config and from MI, so parsing returns a result instead of throwing.
 */
export interface AmqpConnectionParams {
  readonly protocol: "amqp" | "amqps";
  readonly hostname: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  readonly vhost: string;
  /** seconds, 0 = off (OpenSIPS's `heartbeat` modparam default) */
  readonly heartbeat: number;
  /** event_rabbitmq's tls_domain: a key of the daemon's `tls` config */
  readonly tlsDomain?: string;
}

export interface RabbitmqTarget {
  readonly connection: AmqpConnectionParams;
  /** "" = the default exchange */
  readonly exchange: string;
  readonly routingKey: string;
  readonly persistent: boolean;
  /** the socket as `subscribers_list` prints it (no password) */
  readonly printed: string;
}

export type RabbitmqSocketResult = { ok: true; target: RabbitmqTarget } | { ok: false; error: string };

const AMQP_PORT = 5672;
const AMQPS_PORT = 5671;

export function isRabbitmqSocket(socket: string): boolean {
  return socket.startsWith("rabbitmq:") || socket.startsWith("amqp://") || socket.startsWith("amqps://");
}

export function parseRabbitmqSocket(socket: string): RabbitmqSocketResult {
  if (socket.startsWith("rabbitmq:")) return parseOpensipsForm(socket.slice("rabbitmq:".length));
  if (socket.startsWith("amqp://") || socket.startsWith("amqps://")) return parseAmqpUri(socket);
  return { ok: false, error: "not a rabbitmq socket" };
}

/**
 * The socket with its password replaced by `***`, for messages and printed configs (passwords are never shown).
 * The userinfo ends where the parsers end it, at the last `@` of the authority, so a password holding `@` is
 * hidden whole.
 */
export function redactRabbitmqSocket(socket: string): string {
  const opensipsForm = socket.startsWith("rabbitmq:");
  const start = opensipsForm ? "rabbitmq:".length : socket.indexOf("://") + 3;
  if (!opensipsForm && !(socket.startsWith("amqp://") || socket.startsWith("amqps://"))) return socket;
  const rest = socket.slice(start);
  // the OpenSIPS form's authority ends at the first '/'; a URI's at the first '/', '?' or '#'
  const end = rest.search(opensipsForm ? /\// : /[/?#]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  const at = authority.lastIndexOf("@");
  const colon = authority.indexOf(":");
  if (at < 0 || colon < 0 || colon > at) return socket;
  return `${socket.slice(0, start)}${authority.slice(0, colon)}:***${rest.slice(at)}`;
}

/** one string per broker login: subscriptions that share it share one connection and one outbox */
export function connectionKey(c: AmqpConnectionParams): string {
  return [c.protocol, c.username, c.password, c.hostname, c.port, c.vhost, c.heartbeat, c.tlsDomain ?? ""].join("\n");
}

function unescape(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

function parseHostPort(s: string, defaultPort: number): { host: string; port: number } | undefined {
  let host = s;
  let portText: string | undefined;
  if (s.startsWith("[")) {
    const close = s.indexOf("]");
    if (close < 0) return undefined;
    host = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest !== "") {
      if (!rest.startsWith(":")) return undefined;
      portText = rest.slice(1);
    }
  } else {
    const colon = s.lastIndexOf(":");
    if (colon >= 0) {
      host = s.slice(0, colon);
      portText = s.slice(colon + 1);
    }
  }
  if (host === "") return undefined;
  if (portText === undefined) return { host, port: defaultPort };
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65535) return undefined;
  return { host, port };
}

function parseOpensipsForm(rest: string): RabbitmqSocketResult {
  const slash = rest.indexOf("/");
  if (slash < 0) return { ok: false, error: "missing '/' before the routing key" };
  const authority = rest.slice(0, slash);
  const path = rest.slice(slash + 1);

  let username = "guest";
  let password = "guest";
  let hostPart = authority;
  const at = authority.lastIndexOf("@");
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    hostPart = authority.slice(at + 1);
    const colon = userinfo.indexOf(":");
    const u = unescape(colon >= 0 ? userinfo.slice(0, colon) : userinfo);
    const p = colon >= 0 ? unescape(userinfo.slice(colon + 1)) : "guest";
    if (u === undefined || p === undefined || u === "") return { ok: false, error: "bad user or password" };
    username = u;
    password = p;
  }

  let exchange = "";
  let tlsDomain: string | undefined;
  let persistent = false;
  let keyText = path;
  const q = path.indexOf("?");
  if (q >= 0) {
    keyText = path.slice(q + 1);
    for (const token of path.slice(0, q).split(";")) {
      if (token === "") continue;
      if (token === "persistent") {
        persistent = true;
        continue;
      }
      const eq = token.indexOf("=");
      const name = eq >= 0 ? token.slice(0, eq) : token;
      const value = eq >= 0 ? unescape(token.slice(eq + 1)) : undefined;
      if (value === undefined || value === "") return { ok: false, error: `bad parameter '${token}'` };
      if (name === "exchange") exchange = value;
      else if (name === "tls_domain") tlsDomain = value;
      else return { ok: false, error: `unknown parameter '${name}'` };
    }
  }
  const routingKey = unescape(keyText);
  if (routingKey === undefined) return { ok: false, error: "bad routing key" };
  if (routingKey === "" && exchange === "")
    return { ok: false, error: "a routing key is needed with the default exchange" };

  const defaultPort = tlsDomain === undefined ? AMQP_PORT : AMQPS_PORT;
  const hp = parseHostPort(hostPart, defaultPort);
  if (hp === undefined) return { ok: false, error: "bad host or port" };
  // OpenSIPS prints `rabbitmq:USER@HOST/[EXCHANGE?]ROUTING_KEY`; we add `:PORT` only when it is not the default
  const printedHost = hp.port === defaultPort ? hp.host : `${hp.host}:${hp.port}`;
  const printed = `rabbitmq:${username}@${printedHost}/${exchange === "" ? "" : `${exchange}?`}${routingKey}`;
  return {
    ok: true,
    target: {
      connection: {
        protocol: tlsDomain === undefined ? "amqp" : "amqps",
        hostname: hp.host,
        port: hp.port,
        username,
        password,
        vhost: "/",
        heartbeat: 0,
        ...(tlsDomain === undefined ? {} : { tlsDomain }),
      },
      exchange,
      routingKey,
      persistent,
      printed,
    },
  };
}

function parseAmqpUri(socket: string): RabbitmqSocketResult {
  let url: URL;
  try {
    url = new URL(socket);
  } catch {
    return { ok: false, error: "bad AMQP URI" };
  }
  const protocol = url.protocol === "amqps:" ? "amqps" : "amqp";
  if (url.hostname === "") return { ok: false, error: "missing host" };
  const username = url.username === "" ? "guest" : unescape(url.username);
  const password = url.password === "" ? "guest" : unescape(url.password);
  if (username === undefined || password === undefined) return { ok: false, error: "bad user or password" };
  // AMQP URI spec: the path, minus its leading '/', is the vhost; an empty path means the default '/'
  const vhostText = url.pathname === "" || url.pathname === "/" ? "/" : unescape(url.pathname.slice(1));
  if (vhostText === undefined) return { ok: false, error: "bad vhost" };

  let exchange = "";
  let routingKey: string | undefined;
  let persistent = false;
  let heartbeat = 0;
  for (const [name, value] of url.searchParams) {
    if (name === "exchange") exchange = value;
    else if (name === "routing_key") routingKey = value;
    else if (name === "persistent") persistent = value === "" || value === "1" || value === "true";
    else if (name === "heartbeat") {
      if (!/^\d+$/.test(value)) return { ok: false, error: "bad heartbeat" };
      heartbeat = Number(value);
    } else return { ok: false, error: `unknown parameter '${name}'` };
  }
  if (routingKey === undefined) return { ok: false, error: "missing routing_key" };
  if (routingKey === "" && exchange === "")
    return { ok: false, error: "a routing key is needed with the default exchange" };
  const port = url.port === "" ? (protocol === "amqps" ? AMQPS_PORT : AMQP_PORT) : Number(url.port);

  const printedUrl = new URL(socket);
  printedUrl.password = "";
  return {
    ok: true,
    target: {
      connection: {
        protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ""),
        port,
        username,
        password,
        vhost: vhostText,
        heartbeat,
      },
      exchange,
      routingKey,
      persistent,
      printed: printedUrl.toString(),
    },
  };
}
