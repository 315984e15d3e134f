import { isIP } from "node:net";
import { DnsError, SipUriError } from "../../errors.js";
import type { Clock } from "../../clock.js";
import { systemClock } from "../../clock.js";
import type { SipUri } from "../uri.js";
import { uriParam } from "../uri.js";
import type { DnsAnswer, DnsResolver, DnsResult, NaptrRecord, SrvRecord } from "./dns-resolver.js";
import { canonicalIpv6 } from "./socket-spec.js";
import type { TransportProto } from "./socket-spec.js";

/** One place a request can be sent to. */
export interface Target {
  readonly transport: TransportProto;
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** The URI's host: TLS server name (RFC 5922 §7.1) and what logs show. */
  readonly hostname: string;
}

type LocateFailure = { readonly ok: false; readonly error: DnsError | SipUriError };

export type LocateResult = { readonly ok: true; readonly targets: readonly Target[] } | LocateFailure;

export interface LocateOptions {
  /** Transports we have a socket for, and the address families of those sockets. */
  readonly available: ReadonlyMap<TransportProto, ReadonlySet<4 | 6>>;
  /** Protocol of the record's forced socket: decides the transport when the URI leaves it open. */
  readonly preferred?: TransportProto;
}

const DEFAULT_PORT: Readonly<Record<TransportProto, number>> = { udp: 5060, tcp: 5060, tls: 5061 };

/** RFC 3263 §4.1 NAPTR service → transport. */
const NAPTR_SERVICE: Readonly<Record<string, TransportProto>> = {
  "sip+d2u": "udp",
  "sip+d2t": "tcp",
  "sips+d2t": "tls",
};

function srvPrefix(t: TransportProto): string {
  return t === "tls" ? "_sips._tcp." : t === "tcp" ? "_sip._tcp." : "_sip._udp.";
}

interface CacheEntry {
  readonly expiresAt: number;
  readonly result: Promise<DnsResult<unknown>>;
}

/**
 * RFC 3263 server location for the next hop (proxy, else registrar), with a TTL cache. Unlike OpenSIPS, which
 * uses the first address only (issue #140), it returns every target in RFC order so the caller can fail over.
 *
 * - `;transport=` or `sips:` fixes the transport (§4.1); otherwise the forced socket's protocol, then NAPTR,
 *   then SRV for every transport we can send on, then A/AAAA with UDP (`sip:`) or TLS (`sips:`).
 * - A numeric host or an explicit port skips NAPTR and SRV (§4.2).
 * - SRV records are ordered by priority and weight (RFC 2782).
 */
export class ServerLocator {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(
    private readonly resolver: DnsResolver,
    opts: { readonly clock?: Clock; readonly random?: () => number } = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
  }

  /**
   * The target of a URI whose host is an IP literal, which needs no DNS (§4.2), or of a URI with a bad
   * transport; undefined when the answer needs DNS (then call `locate`, which gives the same answers).
   */
  static locateLiteral(uri: SipUri, opts: LocateOptions): LocateResult | undefined {
    const numeric = uri.hostKind === "ipv4" || uri.hostKind === "ipv6" || isIP(uri.host) !== 0;
    const choice = chooseTransport(uri, opts);
    if (!choice.ok) return choice;
    if (!numeric) return undefined;
    // §4.2: an explicit IP means no NAPTR/SRV; transport UDP for sip:, TLS for sips: unless fixed
    const transport = choice.chosen ?? (choice.secure ? "tls" : "udp");
    const port = uri.port ?? DEFAULT_PORT[transport];
    const family = uri.hostKind === "ipv6" || isIP(uri.host) === 6 ? 6 : 4;
    const address = family === 6 ? canonicalIpv6(uri.host) : uri.host;
    return { ok: true, targets: [{ transport, address, port, family, hostname: uri.host }] };
  }

  async locate(uri: SipUri, opts: LocateOptions): Promise<LocateResult> {
    const literal = ServerLocator.locateLiteral(uri, opts);
    if (literal !== undefined) return literal;
    const choice = chooseTransport(uri, opts);
    if (!choice.ok) return choice;
    const { secure, chosen } = choice;

    if (uri.port !== undefined) {
      // §4.2: an explicit port means no NAPTR/SRV; transport UDP for sip:, TLS for sips: unless fixed
      const transport = chosen ?? (secure ? "tls" : "udp");
      return this.addressTargets(uri.host, transport, uri.port, opts);
    }

    const transports = chosen !== undefined ? [chosen] : this.candidateTransports(secure, opts);
    // §4.1: NAPTR only when the transport is not already known
    let srvNames: { name: string; transport: TransportProto }[] = [];
    if (chosen === undefined) {
      const naptr = await this.cached<NaptrRecord>("NAPTR", uri.host, (n) => this.resolver.naptr(n));
      if (!naptr.ok) return naptr;
      srvNames = [...naptr.answer.records]
        .filter((r) => r.flags.toLowerCase() === "s")
        .sort((x, y) => x.order - y.order || x.preference - y.preference)
        .flatMap((r) => {
          const t = NAPTR_SERVICE[r.service.toLowerCase()];
          return t !== undefined && transports.includes(t) ? [{ name: r.replacement, transport: t }] : [];
        });
    }
    if (srvNames.length === 0) srvNames = transports.map((t) => ({ name: srvPrefix(t) + uri.host, transport: t }));

    const targets: Target[] = [];
    let lastError: DnsError | undefined;
    for (const { name, transport } of srvNames) {
      const srv = await this.cached<SrvRecord>("SRV", name, (n) => this.resolver.srv(n));
      if (!srv.ok) {
        lastError = srv.error;
        continue;
      }
      for (const rec of this.orderSrv(srv.answer.records)) {
        if (rec.name === "" || rec.name === ".") continue; // RFC 2782: "." = service not available
        const r = await this.addressTargets(rec.name, transport, rec.port, opts, uri.host);
        if (r.ok) targets.push(...r.targets);
        else lastError = r.error instanceof DnsError ? r.error : lastError;
      }
    }
    if (targets.length > 0) return { ok: true, targets };
    // §4.2: no SRV records (or none that resolved): A/AAAA of the host, default port; UDP for sip:, TLS for sips:
    const transport = chosen ?? (secure ? "tls" : opts.available.has("udp") ? "udp" : (transports[0] ?? "udp"));
    const r = await this.addressTargets(uri.host, transport, DEFAULT_PORT[transport], opts);
    if (r.ok && r.targets.length === 0 && lastError !== undefined) return { ok: false, error: lastError };
    return r;
  }

  /** Forgets every cached answer. */
  clear(): void {
    this.cache.clear();
  }

  private candidateTransports(secure: boolean, opts: LocateOptions): TransportProto[] {
    if (secure) return ["tls"];
    const order: TransportProto[] = ["udp", "tcp", "tls"];
    return order.filter((t) => opts.available.has(t));
  }

  private async addressTargets(
    host: string,
    transport: TransportProto,
    port: number,
    opts: LocateOptions,
    hostname = host,
  ): Promise<LocateResult> {
    const families = opts.available.get(transport) ?? new Set<4 | 6>([4]);
    const targets: Target[] = [];
    let error: DnsError | undefined;
    if (families.has(4) || families.size === 0) {
      const a = await this.cached<string>("A", host, (n) => this.resolver.a(n));
      if (a.ok) for (const address of a.answer.records) targets.push({ transport, address, port, family: 4, hostname });
      else error = a.error;
    }
    if (families.has(6)) {
      const aaaa = await this.cached<string>("AAAA", host, (n) => this.resolver.aaaa(n));
      if (aaaa.ok)
        for (const address of aaaa.answer.records)
          targets.push({ transport, address: canonicalIpv6(address), port, family: 6, hostname });
      else error = aaaa.error;
    }
    if (targets.length === 0) {
      return { ok: false, error: error ?? new DnsError(`DNS: no address for ${host}`) };
    }
    return { ok: true, targets };
  }

  /** RFC 2782: ascending priority; within one priority a weighted random order (weight 0 last, rarely first). */
  private orderSrv(records: readonly SrvRecord[]): SrvRecord[] {
    const byPriority = new Map<number, SrvRecord[]>();
    for (const r of records) {
      const list = byPriority.get(r.priority);
      if (list) list.push(r);
      else byPriority.set(r.priority, [r]);
    }
    const out: SrvRecord[] = [];
    for (const priority of [...byPriority.keys()].sort((x, y) => x - y)) {
      const pool = [...(byPriority.get(priority) ?? [])].sort((x, y) => x.weight - y.weight);
      while (pool.length > 0) {
        const total = pool.reduce((s, r) => s + r.weight, 0);
        let pick = 0;
        if (total > 0) {
          let point = this.random() * total;
          pick = pool.findIndex((r) => (point -= r.weight) < 0);
          if (pick < 0) pick = pool.length - 1;
        }
        out.push(...pool.splice(pick, 1));
      }
    }
    return out;
  }

  /** One in-flight query per name and type; answers kept for their TTL, failures not kept. */
  private async cached<T>(
    type: string,
    name: string,
    query: (n: string) => Promise<DnsResult<T>>,
  ): Promise<DnsResult<T>> {
    const key = `${type} ${name.toLowerCase()}`;
    const now = this.clock.monoMs();
    const hit = this.cache.get(key);
    if (hit !== undefined && hit.expiresAt > now) return hit.result as Promise<DnsResult<T>>;
    const result = query(name);
    this.cache.set(key, { expiresAt: Infinity, result });
    const r = await result;
    if (r.ok) this.cache.set(key, { expiresAt: this.clock.monoMs() + ttlMs(r.answer), result });
    else this.cache.delete(key);
    return r;
  }
}

/**
 * §4.1: `;transport=` or `sips:` fixes the transport; otherwise the forced socket's protocol when we have a
 * socket of it; undefined leaves the choice to DNS.
 */
function chooseTransport(
  uri: SipUri,
  opts: LocateOptions,
): { readonly ok: true; readonly secure: boolean; readonly chosen: TransportProto | undefined } | LocateFailure {
  const secure = uri.scheme === "sips";
  const param = uriParam(uri, "transport");
  let fixed: TransportProto | undefined;
  if (typeof param === "string") {
    const p = param.toLowerCase();
    if (p === "udp" || p === "tcp" || p === "tls") fixed = secure ? "tls" : p;
    else return { ok: false, error: new SipUriError(`unsupported transport "${param}"`) };
  } else if (secure) fixed = "tls";
  if (secure && fixed === "udp") return { ok: false, error: new SipUriError("sips: over UDP is not allowed") };
  const chosen =
    fixed ?? (opts.preferred !== undefined && opts.available.has(opts.preferred) ? opts.preferred : undefined);
  return { ok: true, secure, chosen };
}

function ttlMs(answer: DnsAnswer<unknown>): number {
  return Math.max(0, answer.ttlSec) * 1000;
}
