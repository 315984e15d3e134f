import { Resolver } from "node:dns/promises";
import { DnsError } from "../../errors.js";

export interface SrvRecord {
  readonly priority: number;
  readonly weight: number;
  readonly port: number;
  readonly name: string;
}

export interface NaptrRecord {
  readonly order: number;
  readonly preference: number;
  readonly flags: string;
  readonly service: string;
  readonly regexp: string;
  readonly replacement: string;
}

/** An answer and how long it may be cached. An empty `records` is a negative answer (NXDOMAIN / no data). */
export interface DnsAnswer<T> {
  readonly records: readonly T[];
  readonly ttlSec: number;
}

export type DnsResult<T> =
  { readonly ok: true; readonly answer: DnsAnswer<T> } | { readonly ok: false; readonly error: DnsError };

/** The four look-ups RFC 3263 needs; injectable so tests point the stack at a DNS server on loopback. */
export interface DnsResolver {
  naptr(name: string): Promise<DnsResult<NaptrRecord>>;
  srv(name: string): Promise<DnsResult<SrvRecord>>;
  a(name: string): Promise<DnsResult<string>>;
  aaaa(name: string): Promise<DnsResult<string>>;
}

export interface NodeDnsResolverOptions {
  /** `ip` or `ip:port` / `[ip6]:port`; default: the system's resolvers. */
  readonly servers?: readonly string[];
  readonly timeoutMs?: number;
  readonly tries?: number;
  /**
   * node:dns reports TTLs for A/AAAA only; SRV and NAPTR answers are cached this long (seconds).
   * Negative answers are cached this long too.
   */
  readonly srvTtlSec?: number;
}

/** Node's c-ares resolver behind the DnsResolver port. */
export class NodeDnsResolver implements DnsResolver {
  private readonly resolver: Resolver;
  private readonly srvTtlSec: number;

  constructor(opts: NodeDnsResolverOptions = {}) {
    this.resolver = new Resolver({ timeout: opts.timeoutMs ?? 2_000, tries: opts.tries ?? 2 });
    if (opts.servers !== undefined && opts.servers.length > 0) this.resolver.setServers([...opts.servers]);
    this.srvTtlSec = opts.srvTtlSec ?? 60;
  }

  naptr(name: string): Promise<DnsResult<NaptrRecord>> {
    return this.run("NAPTR", name, async () => ({
      records: await this.resolver.resolveNaptr(name),
      ttlSec: this.srvTtlSec,
    }));
  }

  srv(name: string): Promise<DnsResult<SrvRecord>> {
    return this.run("SRV", name, async () => ({
      records: await this.resolver.resolveSrv(name),
      ttlSec: this.srvTtlSec,
    }));
  }

  a(name: string): Promise<DnsResult<string>> {
    return this.run("A", name, async () => addresses(await this.resolver.resolve4(name, { ttl: true })));
  }

  aaaa(name: string): Promise<DnsResult<string>> {
    return this.run("AAAA", name, async () => addresses(await this.resolver.resolve6(name, { ttl: true })));
  }

  cancel(): void {
    this.resolver.cancel();
  }

  private async run<T>(type: string, name: string, query: () => Promise<DnsAnswer<T>>): Promise<DnsResult<T>> {
    try {
      return { ok: true, answer: await query() };
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      // NXDOMAIN and "no records of this type" are answers, not failures (RFC 3263 falls through to the next step)
      if (code === "ENOTFOUND" || code === "ENODATA")
        return { ok: true, answer: { records: [], ttlSec: this.srvTtlSec } };
      return {
        ok: false,
        error: new DnsError(`DNS ${type} ${name}: ${typeof code === "string" ? code : String(err)}`, { cause: err }),
      };
    }
  }
}

function addresses(rs: readonly { address: string; ttl: number }[]): DnsAnswer<string> {
  let ttl = Infinity;
  for (const r of rs) ttl = Math.min(ttl, r.ttl);
  return { records: rs.map((r) => r.address), ttlSec: Number.isFinite(ttl) ? ttl : 0 };
}
