import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../../src/clock.js";
import { DnsClient } from "../../src/sip/transport/dns-client.js";
import { ServerLocator } from "../../src/sip/transport/locate.js";
import type { LocateOptions } from "../../src/sip/transport/locate.js";
import type { TransportProto } from "../../src/sip/transport/socket-spec.js";
import { parseUri } from "../../src/sip/uri.js";
import { TestDnsServer } from "../support/dns-server.js";

function uri(text: string) {
  const r = parseUri(text);
  assert.ok(r.ok, text);
  return r.uri;
}

function avail(...ts: TransportProto[]): LocateOptions {
  return { available: new Map(ts.map((t) => [t, new Set<4 | 6>([4, 6])])) };
}

// Uses a DNS server on loopback (a UDP socket, no outside resolution): RFC 3263 against real wire answers.
describe("ServerLocator (RFC 3263)", () => {
  let dns: TestDnsServer;
  let clock: ManualClock;
  let locator: ServerLocator;

  before(async () => {
    dns = await TestDnsServer.start({
      "reg.test": [
        {
          type: "NAPTR",
          order: 10,
          preference: 10,
          flags: "S",
          service: "SIP+D2T",
          regexp: "",
          replacement: "_sip._tcp.reg.test",
        },
        {
          type: "NAPTR",
          order: 20,
          preference: 10,
          flags: "S",
          service: "SIP+D2U",
          regexp: "",
          replacement: "_sip._udp.reg.test",
        },
        { type: "A", address: "192.0.2.99", ttl: 30 },
      ],
      "_sip._tcp.reg.test": [{ type: "SRV", priority: 10, weight: 0, port: 5070, target: "tcp1.reg.test" }],
      "_sip._udp.reg.test": [
        { type: "SRV", priority: 20, weight: 0, port: 5062, target: "b.reg.test" },
        { type: "SRV", priority: 10, weight: 0, port: 5061, target: "a.reg.test" },
      ],
      "tcp1.reg.test": [{ type: "A", address: "192.0.2.10" }],
      "a.reg.test": [
        { type: "A", address: "192.0.2.1", ttl: 5 },
        { type: "AAAA", address: "2001:db8::1" },
      ],
      "b.reg.test": [{ type: "A", address: "192.0.2.2" }],
      "srvonly.test": [],
      "_sip._udp.srvonly.test": [{ type: "SRV", priority: 1, weight: 10, port: 5999, target: "a.reg.test" }],
      "plain.test": [{ type: "A", address: "192.0.2.50" }],
    });
    clock = new ManualClock();
    locator = new ServerLocator(new DnsClient({ servers: [dns.address], timeoutMs: 1000, hostsFile: false }), {
      clock,
    });
  });
  after(async () => {
    await dns.close();
  });

  it("numeric host: no lookups, UDP for sip:, TLS for sips:, transport param wins", async () => {
    const before = dns.queries.length;
    assert.deepEqual(await locator.locate(uri("sip:127.0.0.1:5070"), avail("udp", "tcp")), {
      ok: true,
      targets: [{ transport: "udp", address: "127.0.0.1", port: 5070, family: 4, hostname: "127.0.0.1" }],
    });
    const r = await locator.locate(uri("sip:[::1];transport=tcp"), avail("udp", "tcp"));
    assert.ok(r.ok);
    assert.deepEqual(r.targets, [{ transport: "tcp", address: "::1", port: 5060, family: 6, hostname: "::1" }]);
    const s = await locator.locate(uri("sips:10.0.0.1"), avail("tls"));
    assert.ok(s.ok);
    assert.equal(s.targets[0]?.transport, "tls");
    assert.equal(s.targets[0]?.port, 5061);
    assert.equal(dns.queries.length, before);
  });

  it("NAPTR → SRV → A, in NAPTR order, only transports we have sockets for", async () => {
    const r = await locator.locate(uri("sip:reg.test"), { available: new Map([["udp", new Set<4 | 6>([4])]]) });
    assert.ok(r.ok);
    assert.deepEqual(
      r.targets.map((t) => `${t.transport}:${t.address}:${t.port}`),
      ["udp:192.0.2.1:5061", "udp:192.0.2.2:5062"],
    );
    assert.equal(r.targets[0]?.hostname, "reg.test");
    const both = await locator.locate(uri("sip:reg.test"), avail("udp", "tcp"));
    assert.ok(both.ok);
    assert.equal(both.targets[0]?.transport, "tcp");
    assert.equal(both.targets[0]?.address, "192.0.2.10");
  });

  it("explicit port skips SRV (§4.2)", async () => {
    const r = await locator.locate(uri("sip:reg.test:5090"), avail("udp"));
    assert.ok(r.ok);
    assert.deepEqual(
      r.targets.map((t) => `${t.address}:${t.port}`),
      ["192.0.2.99:5090"],
    );
    assert.equal(dns.count("reg.test", "SRV"), 0);
  });

  it("without NAPTR it asks SRV, and without SRV it falls back to A with the default port", async () => {
    const s = await locator.locate(uri("sip:srvonly.test"), avail("udp"));
    assert.ok(s.ok);
    assert.deepEqual(
      s.targets.map((t) => `${t.address}:${t.port}`),
      ["192.0.2.1:5999", "2001:db8::1:5999"],
    );
    const p = await locator.locate(uri("sip:plain.test"), avail("udp", "tcp"));
    assert.ok(p.ok);
    assert.deepEqual(
      p.targets.map((t) => `${t.transport}:${t.address}:${t.port}`),
      ["udp:192.0.2.50:5060"],
    );
  });

  it("answers are cached by TTL", async () => {
    const n = dns.count("a.reg.test", "A");
    await locator.locate(uri("sip:srvonly.test"), avail("udp"));
    assert.equal(dns.count("a.reg.test", "A"), n);
    clock.advance(6_000); // A TTL 5 s expired, SRV cache (60 s default) still valid
    await locator.locate(uri("sip:srvonly.test"), avail("udp"));
    assert.equal(dns.count("a.reg.test", "A"), n + 1);
  });

  it("an unknown name is a DNS error, not a throw", async () => {
    const r = await locator.locate(uri("sip:nowhere.test"), avail("udp"));
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.error.code, "SIP_DNS");
  });

  it("unsupported transport parameter is a URI error", async () => {
    const r = await locator.locate(uri("sip:127.0.0.1;transport=sctp"), avail("udp"));
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.error.code, "SIP_URI");
  });
});
