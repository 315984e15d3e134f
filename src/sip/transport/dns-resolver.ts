import type { DnsError } from "../../errors.js";

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
