import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { headerValue } from "../../src/sip/message.js";
import type { RegisterRequest } from "../../src/sip/sip-client.js";
import { SipStack } from "../../src/sip/sip-stack.js";
import { DnsClient } from "../../src/sip/transport/dns-client.js";
import { TestDnsServer } from "../support/dns-server.js";
import { startSipp } from "../support/sipp.js";
import type { SippOptions, SippServer } from "../support/sipp.js";
import { cleanupsAfterAll } from "../support/cleanups.js";

const cleanups = cleanupsAfterAll();
const sipp = (opts: SippOptions): Promise<SippServer> => startSipp(opts, cleanups);

function register(domain: string, cseq: number): RegisterRequest {
  return {
    requestUri: `sip:${domain}`,
    to: `sip:nina@${domain}`,
    from: `sip:nina@${domain}`,
    fromTag: "nina",
    callId: `failover-${domain}-${process.pid}`,
    cseq,
    contact: { uri: "sip:nina@127.0.0.1:5080", params: "", expiresSec: 60 },
  };
}

// RFC 3263 §4.3 failover, which OpenSIPS does not do (issue #140): two registrars behind SRV records served by a
// DNS server on loopback.
describe("SRV failover", () => {
  it("first target silent: after Timer F the same REGISTER goes to the second, which answers", async () => {
    const silent = await sipp({ scenario: "uas-silent.xml", transport: "udp" });
    const good = await sipp({ scenario: "uas-delayed-200.xml", transport: "udp", vars: { delay: 0 }, calls: 2 });
    const dns = await TestDnsServer.start({
      "failover.test": [],
      "_sip._udp.failover.test": [
        { type: "SRV", priority: 10, weight: 0, port: silent.port, target: "a.failover.test" },
        { type: "SRV", priority: 20, weight: 0, port: good.port, target: "b.failover.test" },
      ],
      "a.failover.test": [{ type: "A", address: "127.0.0.1" }],
      "b.failover.test": [{ type: "A", address: "127.0.0.1" }],
    });
    cleanups.push(() => dns.close());
    const stack = await SipStack.start({
      listen: ["udp:127.0.0.1:0"],
      resolver: new DnsClient({ servers: [dns.address], hostsFile: false }),
      timers: { t1: 100, t2: 400, timerF: 1_000 },
      failedTargetHoldMs: 60_000,
    });
    cleanups.push(() => stack.close());

    const outcome = await stack.send(register("failover.test", 1));
    assert.equal(outcome.kind, "response");
    assert.ok(outcome.kind === "response");
    assert.equal(outcome.response.status, 200, await good.messages());
    assert.equal(headerValue(outcome.response, "server"), "sipp-real");
    assert.deepEqual(outcome.destination, {
      transport: "udp",
      address: "127.0.0.1",
      port: good.port,
      socket: stack.socketNames()[0],
    });
    const st = stack.stats();
    assert.equal(st.failovers, 1);
    assert.equal(st.timeouts, 1);

    // the failed target is remembered: the next REGISTER goes straight to the second registrar
    // (a new Call-ID: sipp tells its calls apart by Call-ID and the first one may still be running)
    const again = await stack.send({ ...register("failover.test", 2), callId: `failover-again-${process.pid}` });
    assert.ok(again.kind === "response" && again.response.status === 200);
    assert.equal(again.destination.port, good.port);
    const after2 = stack.stats();
    assert.equal(after2.timeouts, 1, "no second Timer F");
    assert.equal(after2.failovers, 1);
    assert.equal(after2.sent, 3, "silent once, good twice");
  });

  it("503 from the first target: the next target is tried at once", async () => {
    const busy = await sipp({ scenario: "uas-503.xml", transport: "udp" });
    const good = await sipp({ scenario: "uas-delayed-200.xml", transport: "udp", vars: { delay: 0 } });
    const dns = await TestDnsServer.start({
      "busy.test": [],
      "_sip._udp.busy.test": [
        { type: "SRV", priority: 1, weight: 0, port: busy.port, target: "one.busy.test" },
        { type: "SRV", priority: 2, weight: 0, port: good.port, target: "two.busy.test" },
      ],
      "one.busy.test": [{ type: "A", address: "127.0.0.1" }],
      "two.busy.test": [{ type: "A", address: "127.0.0.1" }],
    });
    cleanups.push(() => dns.close());
    const stack = await SipStack.start({
      listen: ["udp:127.0.0.1:0"],
      resolver: new DnsClient({ servers: [dns.address], hostsFile: false }),
      timers: { timerF: 10_000 },
    });
    cleanups.push(() => stack.close());
    const outcome = await stack.send(register("busy.test", 1));
    assert.ok(outcome.kind === "response");
    assert.equal(outcome.response.status, 200);
    assert.equal(outcome.destination.port, good.port);
    assert.equal(stack.stats().failovers, 1);
  });

  it("a name that does not resolve is a per-request DNS error", async () => {
    const dns = await TestDnsServer.start({});
    cleanups.push(() => dns.close());
    const stack = await SipStack.start({
      listen: ["udp:127.0.0.1:0"],
      resolver: new DnsClient({ servers: [dns.address], hostsFile: false }),
    });
    cleanups.push(() => stack.close());
    const outcome = await stack.send(register("nowhere.test", 1));
    assert.equal(outcome.kind, "transport-error");
    assert.ok(outcome.kind === "transport-error");
    assert.equal((outcome.error as { code?: string }).code, "SIP_DNS");
  });
});
