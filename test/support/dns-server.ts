import { createSocket } from "node:dgram";
import type { Socket } from "node:dgram";

/**
 * A tiny authoritative DNS server on 127.0.0.1 for tests (RFC 1035 wire format, UDP only): answers A, AAAA, SRV
 * (RFC 2782) and NAPTR (RFC 3403) from an in-memory zone, NXDOMAIN for unknown names, and records every query
 * so tests can check caching. No recursion, no compression in answers except the question-name pointer.
 */
export type ZoneRecord =
  | { readonly type: "A"; readonly address: string; readonly ttl?: number }
  | { readonly type: "AAAA"; readonly address: string; readonly ttl?: number }
  | {
      readonly type: "SRV";
      readonly priority: number;
      readonly weight: number;
      readonly port: number;
      readonly target: string;
      readonly ttl?: number;
    }
  | {
      readonly type: "NAPTR";
      readonly order: number;
      readonly preference: number;
      readonly flags: string;
      readonly service: string;
      readonly regexp: string;
      readonly replacement: string;
      readonly ttl?: number;
    };

const TYPE_CODE = { A: 1, AAAA: 28, SRV: 33, NAPTR: 35 } as const;
const CODE_TYPE = new Map<number, string>(Object.entries(TYPE_CODE).map(([k, v]) => [v, k]));

export interface DnsQueryLog {
  readonly name: string;
  readonly type: string;
}

export class TestDnsServer {
  readonly queries: DnsQueryLog[] = [];
  private readonly zone = new Map<string, ZoneRecord[]>();

  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {}

  static async start(zone: Record<string, readonly ZoneRecord[]> = {}): Promise<TestDnsServer> {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(0, "127.0.0.1", () => resolve());
    });
    const server = new TestDnsServer(socket, socket.address().port);
    for (const [name, records] of Object.entries(zone)) server.set(name, records);
    socket.on("message", (msg, rinfo) => {
      const reply = server.answer(msg);
      if (reply) socket.send(reply, rinfo.port, rinfo.address);
    });
    return server;
  }

  /** `127.0.0.1:PORT`, for DnsClient `servers`. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  set(name: string, records: readonly ZoneRecord[]): void {
    this.zone.set(name.toLowerCase().replace(/\.$/, ""), [...records]);
  }

  count(name: string, type: string): number {
    const n = name.toLowerCase();
    return this.queries.filter((q) => q.name === n && q.type === type).length;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  private answer(msg: Buffer): Buffer | undefined {
    if (msg.length < 12) return undefined;
    const id = msg.readUInt16BE(0);
    const qd = msg.readUInt16BE(4);
    if (qd !== 1) return undefined;
    const q = readName(msg, 12);
    if (q === undefined || q.end + 4 > msg.length) return undefined;
    const qtype = msg.readUInt16BE(q.end);
    const question = msg.subarray(12, q.end + 4);
    const name = q.name.toLowerCase();
    const typeName = CODE_TYPE.get(qtype) ?? String(qtype);
    this.queries.push({ name, type: typeName });
    const records = this.zone.get(name);
    const answers = (records ?? []).filter((r) => TYPE_CODE[r.type] === qtype).map((r) => encodeRecord(r));
    const header = Buffer.alloc(12);
    header.writeUInt16BE(id, 0);
    // QR, AA, RD copied, RA; RCODE 3 = NXDOMAIN when the name is unknown
    header.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x0100) | 0x0080 | (records === undefined ? 3 : 0), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    return Buffer.concat([header, question, ...answers]);
  }
}

function readName(msg: Buffer, start: number): { name: string; end: number } | undefined {
  const labels: string[] = [];
  let i = start;
  for (let guard = 0; guard < 128; guard++) {
    if (i >= msg.length) return undefined;
    const len = msg[i] ?? 0;
    if (len === 0) return { name: labels.join("."), end: i + 1 };
    if (len >= 0xc0) return undefined; // queries never compress
    labels.push(msg.toString("latin1", i + 1, i + 1 + len));
    i += 1 + len;
  }
  return undefined;
}

function encodeName(name: string): Buffer {
  const parts = name
    .replace(/\.$/, "")
    .split(".")
    .filter((p) => p !== "");
  return Buffer.concat([
    ...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, "latin1")])),
    Buffer.from([0]),
  ]);
}

function charString(s: string): Buffer {
  return Buffer.concat([Buffer.from([s.length]), Buffer.from(s, "latin1")]);
}

function ipv6Bytes(text: string): Buffer {
  const [head = "", tail] = text.split("::");
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function encodeRecord(r: ZoneRecord): Buffer {
  let rdata: Buffer;
  switch (r.type) {
    case "A":
      rdata = Buffer.from(r.address.split(".").map(Number));
      break;
    case "AAAA":
      rdata = ipv6Bytes(r.address);
      break;
    case "SRV": {
      const fixed = Buffer.alloc(6);
      fixed.writeUInt16BE(r.priority, 0);
      fixed.writeUInt16BE(r.weight, 2);
      fixed.writeUInt16BE(r.port, 4);
      rdata = Buffer.concat([fixed, encodeName(r.target)]);
      break;
    }
    case "NAPTR": {
      const fixed = Buffer.alloc(4);
      fixed.writeUInt16BE(r.order, 0);
      fixed.writeUInt16BE(r.preference, 2);
      rdata = Buffer.concat([
        fixed,
        charString(r.flags),
        charString(r.service),
        charString(r.regexp),
        encodeName(r.replacement),
      ]);
      break;
    }
  }
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0xc00c, 0); // pointer to the question name
  head.writeUInt16BE(TYPE_CODE[r.type], 2);
  head.writeUInt16BE(1, 4); // IN
  head.writeUInt32BE(r.ttl ?? 300, 6);
  head.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([head, rdata]);
}
