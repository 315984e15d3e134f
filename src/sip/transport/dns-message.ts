/**
 * The slice of the DNS wire format (RFC 1035 §4) RFC 3263 needs: one question out, the answer records of
 * A, AAAA (RFC 3596), SRV (RFC 2782), NAPTR (RFC 3403) and CNAME back, with their TTLs (node:dns drops the TTLs
 * of SRV and NAPTR, and RFC 3263 caching needs them). Decoding is bounds-checked and never throws: a reply
 * from the network is untrusted input.
 */
import type { NaptrRecord, SrvRecord } from "./dns-resolver.js";

export const DnsType = { A: 1, CNAME: 5, SOA: 6, AAAA: 28, SRV: 33, NAPTR: 35, OPT: 41 } as const;
export type DnsTypeName = "A" | "AAAA" | "SRV" | "NAPTR";

export type DnsRecordData =
  | { readonly type: "A" | "AAAA"; readonly address: string }
  | { readonly type: "SRV"; readonly srv: SrvRecord }
  | { readonly type: "NAPTR"; readonly naptr: NaptrRecord }
  | { readonly type: "CNAME"; readonly target: string };

export interface DnsRecord {
  readonly name: string;
  readonly ttl: number;
  readonly data: DnsRecordData;
}

export interface DnsReply {
  readonly id: number;
  /** RFC 1035 RCODE: 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN... */
  readonly rcode: number;
  /** TC bit: the answer did not fit a datagram (retry over TCP) */
  readonly truncated: boolean;
  readonly question: string;
  readonly questionType: number;
  readonly answers: readonly DnsRecord[];
  /** RFC 2308 §5: negative answers are cached for min(SOA TTL, SOA MINIMUM) when an SOA came along */
  readonly negativeTtl: number | undefined;
}

export type DecodeResult =
  { readonly ok: true; readonly reply: DnsReply } | { readonly ok: false; readonly error: string };

/** A recursive query (RD) for one name and type, with an EDNS0 OPT record offering 4096-byte replies. */
export function encodeQuery(id: number, name: string, type: DnsTypeName): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4); // QDCOUNT
  header.writeUInt16BE(1, 10); // ARCOUNT: the OPT record
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(DnsType[type], 0);
  tail.writeUInt16BE(1, 2); // IN
  // RFC 6891 OPT: root name, type 41, class = UDP payload size, TTL 0, no options
  const opt = Buffer.from([0, 0, DnsType.OPT, 0x10, 0x00, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([header, encodeName(name), tail, opt]);
}

function encodeName(name: string): Buffer {
  const labels = name
    .replace(/\.$/, "")
    .split(".")
    .filter((l) => l !== "");
  const parts: Buffer[] = [];
  for (const l of labels) {
    const b = Buffer.from(l, "latin1");
    parts.push(Buffer.from([Math.min(b.length, 63)]), b.subarray(0, 63));
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

class Malformed extends Error {}

/** Reads a possibly compressed name (RFC 1035 §4.1.4); returns it and the offset after it at `start`. */
function readName(buf: Buffer, start: number): { name: string; end: number } {
  const labels: string[] = [];
  let i = start;
  let end = -1;
  for (let hops = 0; hops < 64; hops++) {
    if (i >= buf.length) throw new Malformed("name runs past the message");
    const len = buf[i] ?? 0;
    if (len === 0) {
      return { name: labels.join("."), end: end < 0 ? i + 1 : end };
    }
    if ((len & 0xc0) === 0xc0) {
      if (i + 1 >= buf.length) throw new Malformed("truncated name pointer");
      if (end < 0) end = i + 2;
      i = ((len & 0x3f) << 8) | (buf[i + 1] ?? 0);
      continue;
    }
    if ((len & 0xc0) !== 0) throw new Malformed("bad label type");
    if (i + 1 + len > buf.length) throw new Malformed("label runs past the message");
    labels.push(buf.toString("latin1", i + 1, i + 1 + len));
    i += 1 + len;
  }
  throw new Malformed("name with too many labels or a pointer loop");
}

function u16(buf: Buffer, at: number): number {
  if (at + 2 > buf.length) throw new Malformed("short message");
  return buf.readUInt16BE(at);
}

function u32(buf: Buffer, at: number): number {
  if (at + 4 > buf.length) throw new Malformed("short message");
  return buf.readUInt32BE(at);
}

function charString(buf: Buffer, at: number): { text: string; end: number } {
  const len = buf[at];
  if (len === undefined || at + 1 + len > buf.length) throw new Malformed("short character-string");
  return { text: buf.toString("latin1", at + 1, at + 1 + len), end: at + 1 + len };
}

function ipv6(buf: Buffer, at: number): string {
  const groups: string[] = [];
  for (let g = 0; g < 8; g++) groups.push(buf.readUInt16BE(at + g * 2).toString(16));
  // RFC 5952: compress the longest run of zero groups
  let bestStart = -1;
  let bestLen = 0;
  for (let s = 0; s < 8;) {
    if (groups[s] !== "0") {
      s++;
      continue;
    }
    let e = s;
    while (e < 8 && groups[e] === "0") e++;
    if (e - s > bestLen && e - s > 1) {
      bestStart = s;
      bestLen = e - s;
    }
    s = e;
  }
  if (bestStart < 0) return groups.join(":");
  return `${groups.slice(0, bestStart).join(":")}::${groups.slice(bestStart + bestLen).join(":")}`;
}

function readRecordData(buf: Buffer, type: number, at: number, len: number): DnsRecordData | undefined {
  const end = at + len;
  if (end > buf.length) throw new Malformed("record data runs past the message");
  switch (type) {
    case DnsType.A:
      if (len !== 4) throw new Malformed("A record of the wrong size");
      return { type: "A", address: `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}` };
    case DnsType.AAAA:
      if (len !== 16) throw new Malformed("AAAA record of the wrong size");
      return { type: "AAAA", address: ipv6(buf, at) };
    case DnsType.SRV:
      return {
        type: "SRV",
        srv: {
          priority: u16(buf, at),
          weight: u16(buf, at + 2),
          port: u16(buf, at + 4),
          name: readName(buf, at + 6).name,
        },
      };
    case DnsType.NAPTR: {
      const flags = charString(buf, at + 4);
      const service = charString(buf, flags.end);
      const regexp = charString(buf, service.end);
      return {
        type: "NAPTR",
        naptr: {
          order: u16(buf, at),
          preference: u16(buf, at + 2),
          flags: flags.text,
          service: service.text,
          regexp: regexp.text,
          replacement: readName(buf, regexp.end).name,
        },
      };
    }
    case DnsType.CNAME:
      return { type: "CNAME", target: readName(buf, at).name };
    default:
      return undefined;
  }
}

export function decodeReply(buf: Buffer): DecodeResult {
  try {
    if (buf.length < 12) return { ok: false, error: "DNS reply shorter than its header" };
    const id = u16(buf, 0);
    const flags = u16(buf, 2);
    if ((flags & 0x8000) === 0) return { ok: false, error: "not a DNS reply" };
    const qd = u16(buf, 4);
    const an = u16(buf, 6);
    const ns = u16(buf, 8);
    if (qd !== 1) return { ok: false, error: "DNS reply without exactly one question" };
    const q = readName(buf, 12);
    const questionType = u16(buf, q.end);
    let at = q.end + 4;
    const answers: DnsRecord[] = [];
    let negativeTtl: number | undefined;
    for (let i = 0; i < an + ns; i++) {
      const rr = readName(buf, at);
      const type = u16(buf, rr.end);
      const ttl = u32(buf, rr.end + 4);
      const len = u16(buf, rr.end + 8);
      const dataAt = rr.end + 10;
      if (i < an) {
        const data = readRecordData(buf, type, dataAt, len);
        if (data !== undefined) answers.push({ name: rr.name, ttl, data });
      } else if (type === DnsType.SOA) {
        // the SOA MINIMUM is the last 32-bit field of its data
        const minimum = u32(buf, dataAt + len - 4);
        negativeTtl = Math.min(ttl, minimum);
      }
      at = dataAt + len;
      if (at > buf.length) throw new Malformed("record runs past the message");
    }
    return {
      ok: true,
      reply: {
        id,
        rcode: flags & 0x000f,
        truncated: (flags & 0x0200) !== 0,
        question: q.name,
        questionType,
        answers,
        negativeTtl,
      },
    };
  } catch (err) {
    return { ok: false, error: err instanceof Malformed ? err.message : "malformed DNS reply" };
  }
}
