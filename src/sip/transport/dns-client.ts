import { createSocket } from "node:dgram";
import { getServers } from "node:dns";
import { readFileSync } from "node:fs";
import { connect, isIP } from "node:net";
import { randomInt } from "node:crypto";
import { DnsError } from "../../errors.js";
import type { DnsAnswer, DnsResolver, DnsResult, NaptrRecord, SrvRecord } from "./dns-resolver.js";
import { decodeReply, encodeQuery } from "./dns-message.js";
import type { DnsRecordData, DnsReply, DnsTypeName } from "./dns-message.js";
import { canonicalIpv6 } from "./socket-spec.js";

export interface DnsClientOptions {
  /** `ip`, `ip:port`, `[ip6]:port`; default: the system's resolvers (`/etc/resolv.conf` via node:dns). */
  readonly servers?: readonly string[];
  /** per try and server (default 2 s) */
  readonly timeoutMs?: number;
  /** rounds over the server list (default 2) */
  readonly tries?: number;
  /** A/AAAA names are looked up here first, as the system resolver does; false = DNS only (tests). */
  readonly hostsFile?: string | false;
  /** Cache time of a negative answer that came without an SOA (RFC 2308), seconds (default 30). */
  readonly negativeTtlSec?: number;
}

interface Server {
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
}

/** TTL given to /etc/hosts entries (the file is read once). */
const HOSTS_TTL_SEC = 60;

/**
 * A small stub resolver over UDP (TCP when the reply is truncated) that keeps every record's TTL, which
 * node:dns does not report for SRV and NAPTR. Replies are accepted only from the server asked, with the query's
 * id and question; a lame or failing server is skipped for the next one.
 */
export class DnsClient implements DnsResolver {
  private readonly servers: readonly Server[];
  private readonly timeoutMs: number;
  private readonly tries: number;
  private readonly negativeTtlSec: number;
  private readonly hostsFile: string | false;
  private hosts: Map<string, string[]> | undefined;
  private readonly inflight = new Set<() => void>();

  constructor(opts: DnsClientOptions = {}) {
    const list = opts.servers ?? getServers();
    this.servers = list.flatMap((s) => {
      const server = parseServer(s);
      return server === undefined ? [] : [server];
    });
    this.timeoutMs = opts.timeoutMs ?? 2_000;
    this.tries = opts.tries ?? 2;
    this.negativeTtlSec = opts.negativeTtlSec ?? 30;
    this.hostsFile = opts.hostsFile ?? "/etc/hosts";
  }

  naptr(name: string): Promise<DnsResult<NaptrRecord>> {
    return this.lookup(name, "NAPTR", (d) => (d.type === "NAPTR" ? d.naptr : undefined));
  }

  srv(name: string): Promise<DnsResult<SrvRecord>> {
    return this.lookup(name, "SRV", (d) => (d.type === "SRV" ? d.srv : undefined));
  }

  a(name: string): Promise<DnsResult<string>> {
    const local = this.fromHosts(name, 4);
    if (local !== undefined) return Promise.resolve(local);
    return this.lookup(name, "A", (d) => (d.type === "A" ? d.address : undefined));
  }

  aaaa(name: string): Promise<DnsResult<string>> {
    const local = this.fromHosts(name, 6);
    if (local !== undefined) return Promise.resolve(local);
    return this.lookup(name, "AAAA", (d) => (d.type === "AAAA" ? d.address : undefined));
  }

  /** Abandons the queries in flight (they resolve with a DnsError). */
  close(): void {
    for (const cancel of [...this.inflight]) cancel();
  }

  private async lookup<T>(
    name: string,
    type: DnsTypeName,
    pick: (d: DnsRecordData) => T | undefined,
  ): Promise<DnsResult<T>> {
    if (this.servers.length === 0) return fail(type, name, "no DNS server configured");
    let lastError = "no answer";
    for (let round = 0; round < this.tries; round++) {
      for (const server of this.servers) {
        const r = await this.ask(server, name, type);
        if (typeof r === "string") {
          lastError = r;
          continue;
        }
        // RFC 1035: 0 NOERROR, 3 NXDOMAIN are answers; SERVFAIL, REFUSED... mean "ask someone else"
        if (r.rcode !== 0 && r.rcode !== 3) {
          lastError = `rcode ${r.rcode} from ${server.address}`;
          continue;
        }
        return { ok: true, answer: this.answer(r, pick) };
      }
    }
    return fail(type, name, lastError);
  }

  private answer<T>(reply: DnsReply, pick: (d: DnsRecordData) => T | undefined): DnsAnswer<T> {
    const records: T[] = [];
    let ttl = Infinity;
    for (const rr of reply.answers) {
      const v = pick(rr.data);
      // the TTL of a CNAME on the way counts too
      if (v !== undefined || rr.data.type === "CNAME") ttl = Math.min(ttl, rr.ttl);
      if (v !== undefined) records.push(v);
    }
    if (records.length === 0) return { records, ttlSec: reply.negativeTtl ?? this.negativeTtlSec };
    return { records, ttlSec: Number.isFinite(ttl) ? ttl : 0 };
  }

  /** One query to one server: the reply, or why there is none. */
  private async ask(server: Server, name: string, type: DnsTypeName): Promise<DnsReply | string> {
    const id = randomInt(0, 0x10000);
    const query = encodeQuery(id, name, type);
    const udp = await this.exchangeUdp(server, query, (reply) => matches(reply, id, name));
    if (typeof udp === "string" || !udp.truncated) return udp;
    return this.exchangeTcp(server, query, (reply) => matches(reply, id, name));
  }

  private exchangeUdp(server: Server, query: Buffer, accept: (r: DnsReply) => boolean): Promise<DnsReply | string> {
    return new Promise((resolve) => {
      const socket = createSocket(server.family === 6 ? "udp6" : "udp4");
      let done = false;
      const finish = (r: DnsReply | string): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.inflight.delete(cancel);
        try {
          socket.close();
        } catch {
          // already closed
        }
        resolve(r);
      };
      const cancel = (): void => finish("resolver closed");
      const timer = setTimeout(() => finish(`timeout from ${server.address}`), this.timeoutMs);
      this.inflight.add(cancel);
      socket.on("error", (err) => finish(`${server.address}: ${err.message}`));
      socket.on("message", (msg, rinfo) => {
        // only the server we asked may answer (a forged reply from elsewhere is ignored)
        if (normalize(rinfo.address) !== server.address || rinfo.port !== server.port) return;
        const decoded = decodeReply(msg);
        if (decoded.ok && accept(decoded.reply)) finish(decoded.reply);
      });
      socket.send(query, server.port, server.address, (err) => {
        if (err) finish(`${server.address}: ${err.message}`);
      });
    });
  }

  /** RFC 1035 §4.2.2: the same query with a two-byte length prefix, for replies too big for a datagram. */
  private exchangeTcp(server: Server, query: Buffer, accept: (r: DnsReply) => boolean): Promise<DnsReply | string> {
    return new Promise((resolve) => {
      const socket = connect({ host: server.address, port: server.port });
      let buf = Buffer.alloc(0);
      let done = false;
      const finish = (r: DnsReply | string): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.inflight.delete(cancel);
        socket.destroy();
        resolve(r);
      };
      const cancel = (): void => finish("resolver closed");
      const timer = setTimeout(() => finish(`tcp timeout from ${server.address}`), this.timeoutMs);
      this.inflight.add(cancel);
      socket.on("error", (err) => finish(`${server.address} (tcp): ${err.message}`));
      socket.on("close", () => finish(`${server.address} (tcp): closed`));
      socket.on("data", (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length < 2) return;
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) return;
        const decoded = decodeReply(buf.subarray(2, 2 + len));
        finish(decoded.ok && accept(decoded.reply) ? decoded.reply : "bad tcp reply");
      });
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(query.length, 0);
      socket.write(Buffer.concat([prefix, query]));
    });
  }

  private fromHosts(name: string, family: 4 | 6): DnsResult<string> | undefined {
    if (this.hostsFile === false) return undefined;
    if (this.hosts === undefined) this.hosts = readHosts(this.hostsFile);
    const all = this.hosts.get(name.toLowerCase().replace(/\.$/, ""));
    if (all === undefined) return undefined;
    const records = all.filter((a) => isIP(a) === family);
    if (records.length === 0) return undefined;
    return { ok: true, answer: { records, ttlSec: HOSTS_TTL_SEC } };
  }
}

function matches(reply: DnsReply, id: number, name: string): boolean {
  return reply.id === id && reply.question.toLowerCase() === name.toLowerCase().replace(/\.$/, "");
}

function fail<T>(type: string, name: string, why: string): DnsResult<T> {
  return { ok: false, error: new DnsError(`DNS ${type} ${name}: ${why}`) };
}

function normalize(address: string): string {
  if (address.startsWith("::ffff:") && isIP(address.slice(7)) === 4) return address.slice(7);
  return isIP(address) === 6 ? canonicalIpv6(address) : address;
}

function parseServer(text: string): Server | undefined {
  let host = text;
  let port = 53;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket !== null) {
    host = bracket[1] ?? "";
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else if (isIP(text) === 0) {
    const i = text.lastIndexOf(":");
    if (i > 0) {
      host = text.slice(0, i);
      port = Number(text.slice(i + 1));
    }
  }
  const family = isIP(host);
  if ((family !== 4 && family !== 6) || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { address: family === 6 ? canonicalIpv6(host) : host, port, family };
}

/** `/etc/hosts`: `address name [aliases...]`, `#` comments. A missing file is an empty table. */
function readHosts(path: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return map;
  }
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    if (line === "") continue;
    const [address, ...names] = line.split(/\s+/);
    if (address === undefined || isIP(address) === 0) continue;
    const canonical = isIP(address) === 6 ? canonicalIpv6(address) : address;
    for (const n of names) {
      const key = n.toLowerCase();
      const list = map.get(key);
      if (list === undefined) map.set(key, [canonical]);
      else if (!list.includes(canonical)) list.push(canonical);
    }
  }
  return map;
}
