import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DnsError } from "../../../src/errors.js";
import type { DnsResolver, DnsResult, NaptrRecord, SrvRecord } from "../../../src/sip/transport/dns-resolver.js";
import { ServerLocator } from "../../../src/sip/transport/locate.js";
import type { LocateOptions } from "../../../src/sip/transport/locate.js";
import { parseUri } from "../../../src/sip/uri.js";

/** A resolver answering from a table; names missing from it are NXDOMAIN, "fail." names are SERVFAIL. */
function fakeResolver(
  table: Record<string, { srv?: SrvRecord[]; naptr?: NaptrRecord[]; a?: string[]; aaaa?: string[] }>,
) {
  const asked: string[] = [];
  function answer<T>(name: string, kind: "srv" | "naptr" | "a" | "aaaa"): Promise<DnsResult<T>> {
    asked.push(`${kind} ${name}`);
    if (name.startsWith("fail.")) return Promise.resolve({ ok: false, error: new DnsError(`SERVFAIL ${name}`) });
    const records = (table[name]?.[kind] ?? []) as T[];
    return Promise.resolve({ ok: true, answer: { records, ttlSec: 60 } });
  }
  const resolver: DnsResolver = {
    srv: (n) => answer<SrvRecord>(n, "srv"),
    naptr: (n) => answer<NaptrRecord>(n, "naptr"),
    a: (n) => answer<string>(n, "a"),
    aaaa: (n) => answer<string>(n, "aaaa"),
  };
  return { resolver, asked };
}

function uri(text: string) {
  const r = parseUri(text);
  assert.ok(r.ok, text);
  return r.uri;
}

const UDP_TCP: LocateOptions = {
  available: new Map([
    ["udp", new Set<4 | 6>([4])],
    ["tcp", new Set<4 | 6>([4])],
  ]),
};

describe("ServerLocator ordering rules (RFC 3263, RFC 2782)", () => {
  it("SRV: ascending priority, weighted choice inside one priority", async () => {
    const srv: SrvRecord[] = [
      { priority: 20, weight: 0, port: 5003, name: "c.test" },
      { priority: 10, weight: 1, port: 5001, name: "a.test" },
      { priority: 10, weight: 99, port: 5002, name: "b.test" },
    ];
    const { resolver } = fakeResolver({
      "_sip._udp.reg.test": { srv },
      "a.test": { a: ["192.0.2.1"] },
      "b.test": { a: ["192.0.2.2"] },
      "c.test": { a: ["192.0.2.3"] },
    });
    // random() = 0.5 → point 50 of 100 falls in b's weight: b first
    const r = await new ServerLocator(resolver, { random: () => 0.5 }).locate(uri("sip:reg.test"), UDP_TCP);
    assert.ok(r.ok);
    assert.deepEqual(
      r.targets.map((t) => t.port),
      [5002, 5001, 5003],
    );
    // random() = 0 → point 0 falls in a's weight (the smallest weight is listed first)
    const r0 = await new ServerLocator(resolver, { random: () => 0 }).locate(uri("sip:reg.test"), UDP_TCP);
    assert.ok(r0.ok);
    assert.deepEqual(
      r0.targets.map((t) => t.port),
      [5001, 5002, 5003],
    );
  });

  it("the forced socket's protocol decides when the URI does not; the URI's transport wins otherwise", async () => {
    const { resolver, asked } = fakeResolver({
      "_sip._tcp.reg.test": { srv: [{ priority: 1, weight: 0, port: 5070, name: "t.test" }] },
      "t.test": { a: ["192.0.2.7"] },
    });
    const loc = new ServerLocator(resolver);
    const r = await loc.locate(uri("sip:reg.test"), { ...UDP_TCP, preferred: "tcp" });
    assert.ok(r.ok);
    assert.deepEqual(
      r.targets.map((t) => `${t.transport}:${t.port}`),
      ["tcp:5070"],
    );
    assert.ok(!asked.includes("naptr reg.test"), "no NAPTR when the transport is known");
    const u = await loc.locate(uri("sip:192.0.2.9;transport=udp"), { ...UDP_TCP, preferred: "tcp" });
    assert.ok(u.ok);
    assert.equal(u.targets[0]?.transport, "udp");
  });

  it("sips: only _sips._tcp and TLS; no SRV → A with port 5061", async () => {
    const { resolver, asked } = fakeResolver({ "secure.test": { a: ["192.0.2.5"] } });
    const r = await new ServerLocator(resolver).locate(uri("sips:secure.test"), {
      available: new Map([["tls", new Set<4 | 6>([4])]]),
    });
    assert.ok(r.ok);
    assert.deepEqual(r.targets, [
      { transport: "tls", address: "192.0.2.5", port: 5061, family: 4, hostname: "secure.test" },
    ]);
    assert.ok(asked.includes("srv _sips._tcp.secure.test"));
    assert.ok(!asked.some((q) => q.includes("_sip._udp")));
  });

  it("a DNS failure with nothing to fall back on is a DnsError; results are cached between calls", async () => {
    const { resolver, asked } = fakeResolver({ "ok.test": { a: ["192.0.2.8"] } });
    const loc = new ServerLocator(resolver);
    const bad = await loc.locate(uri("sip:fail.test"), UDP_TCP);
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.equal(bad.error.code, "SIP_DNS");
    await loc.locate(uri("sip:ok.test:5080"), UDP_TCP);
    const n = asked.length;
    await loc.locate(uri("sip:ok.test:5080"), UDP_TCP);
    assert.equal(asked.length, n, "second look-up served from the cache");
  });
});

describe("ServerLocator.locateLiteral (an IP literal needs no DNS)", () => {
  it("answers what locate answers for IP literals, without asking the resolver, and undefined for names", async () => {
    const { resolver, asked } = fakeResolver({ "reg.test": { a: ["192.0.2.7"] } });
    const loc = new ServerLocator(resolver);
    const preferTcp: LocateOptions = { ...UDP_TCP, preferred: "tcp" };
    for (const [text, opts] of [
      ["sip:192.0.2.1", UDP_TCP],
      ["sip:192.0.2.1:5080;transport=tcp", UDP_TCP],
      ["sips:192.0.2.1", UDP_TCP],
      ["sip:[2001:DB8::1]:5070", UDP_TCP],
      ["sip:192.0.2.1", preferTcp],
      ["sip:192.0.2.1;transport=sctp", UDP_TCP],
      ["sips:192.0.2.1;transport=udp", UDP_TCP],
    ] as const) {
      const literal = ServerLocator.locateLiteral(uri(text), opts);
      assert.ok(literal !== undefined, text);
      assert.deepEqual(literal, await loc.locate(uri(text), opts), text);
    }
    assert.deepEqual(asked, []);
    assert.equal(ServerLocator.locateLiteral(uri("sip:reg.test"), UDP_TCP), undefined);
    assert.equal(ServerLocator.locateLiteral(uri("sip:reg.test:5080"), UDP_TCP), undefined);
    const named = ServerLocator.locateLiteral(uri("sip:reg.test;transport=sctp"), UDP_TCP);
    assert.ok(named !== undefined && !named.ok, "a bad transport is refused before any DNS");
  });
});
