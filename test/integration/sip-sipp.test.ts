import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { connect } from "node:net";
import { answerChallenge } from "../../src/sip/digest.js";
import { headerValue } from "../../src/sip/message.js";
import type { SipRequest } from "../../src/sip/message.js";
import { parseMessage } from "../../src/sip/parse.js";
import type { RegisterRequest, SendOutcome } from "../../src/sip/sip-client.js";
import { SipStack } from "../../src/sip/sip-stack.js";
import type { SipStackOptions, WireEvent } from "../../src/sip/sip-stack.js";
import type { SipTimers } from "../../src/sip/transaction/timers.js";
import { startSipp } from "../support/sipp.js";
import type { SippOptions, SippServer } from "../support/sipp.js";
import { until } from "../support/until.js";
import { cleanupsAfterAll } from "../support/cleanups.js";

const cleanups = cleanupsAfterAll();
const sipp = (opts: SippOptions): Promise<SippServer> => startSipp(opts, cleanups);

interface Harness {
  readonly stack: SipStack;
  readonly wire: (WireEvent & { at: number })[];
}

async function stack(timers: Partial<SipTimers>, extra: Partial<SipStackOptions> = {}): Promise<Harness> {
  const wire: (WireEvent & { at: number })[] = [];
  const s = await SipStack.start({
    listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"],
    timers,
    onWire: (e) => wire.push({ ...e, at: performance.now() }),
    ...extra,
  });
  cleanups.push(() => s.close());
  return { stack: s, wire };
}

function register(registrar: string, user: string, cseq: number, more: Partial<RegisterRequest> = {}): RegisterRequest {
  return {
    requestUri: registrar,
    to: `sip:${user}@sipp.test`,
    from: `sip:${user}@sipp.test`,
    fromTag: `tag-${user}`,
    callId: `call-${user}-${Math.random().toString(36).slice(2)}`,
    cseq,
    contact: { uri: `sip:${user}@127.0.0.1:5080`, params: "", expiresSec: 60 },
    userAgent: "registrantd-test",
    ...more,
  };
}

function status(o: SendOutcome): number | string {
  return o.kind === "response" ? o.response.status : o.kind;
}

function outgoing(h: Harness): (WireEvent & { direction: "out"; at: number })[] {
  return h.wire.filter((e): e is WireEvent & { direction: "out"; at: number } => e.direction === "out");
}

/** A response to `req` with the same Via/From/To/Call-ID/CSeq, as someone who saw the request could forge it. */
function forge(req: SipRequest, server: string): Buffer {
  const h = (n: string) => headerValue(req, n) ?? "";
  return Buffer.from(
    `SIP/2.0 200 OK\r\nVia: ${h("via")}\r\nFrom: ${h("from")}\r\nTo: ${h("to")};tag=forged\r\nCall-ID: ${h("call-id")}\r\n` +
      `CSeq: ${h("cseq")}\r\nServer: ${server}\r\nContent-Length: 0\r\n\r\n`,
  );
}

for (const transport of ["udp", "tcp"] as const) {
  describe(`SipStack against sipp registrars over ${transport.toUpperCase()}`, () => {
    const localSocket = (h: Harness) => h.stack.socketNames().find((n) => n.startsWith(`${transport}:`))!;

    for (const code of [401, 407] as const) {
      it(`${code} then 200: the challenge is answered with answerChallenge and the retry gets 200`, async () => {
        const h = await stack({ t1: 200, t2: 800, timerF: 8_000 });
        const reg = await sipp({
          scenario: `uas-${code}-200.xml`,
          transport,
          keys: { user: "erin", password: "erinpw" },
        });
        const req = register(reg.uri(), "erin", 1);
        const first = await h.stack.send(req);
        assert.equal(status(first), code, await reg.messages());
        assert.ok(first.kind === "response");
        assert.deepEqual(first.destination, {
          transport,
          address: "127.0.0.1",
          port: reg.port,
          socket: localSocket(h),
        });
        const auth = answerChallenge(
          first.response,
          { username: "erin", password: "erinpw" },
          { method: "REGISTER", uri: req.requestUri },
        );
        assert.ok(auth.ok);
        const second = await h.stack.send({
          ...req,
          cseq: 2,
          authorization: { header: auth.header, value: auth.value },
        });
        assert.equal(status(second), 200, await reg.messages());
        // Via: sent-by of the socket used, with rport (RFC 3581)
        const sent = parseMessage(outgoing(h)[0]!.bytes);
        assert.ok(sent.ok);
        const [, port] = localSocket(h).split(":").slice(1);
        assert.match(
          headerValue(sent.message, "via") ?? "",
          new RegExp(`^SIP/2.0/${transport.toUpperCase()} 127\\.0\\.0\\.1:${port};branch=z9hG4bK[^;]+;rport$`),
        );
        assert.equal(h.stack.stats().inFlight, 0);
      });
    }

    it("silence: retransmissions follow T1 doubling up to T2 (UDP only), then one timeout at fr_timeout", async () => {
      const timers = { t1: 100, t2: 400, timerF: 2_000 };
      const h = await stack(timers);
      const reg = await sipp({ scenario: "uas-silent.xml", transport });
      const started = performance.now();
      const outcome = await h.stack.send(register(reg.uri(), "judy", 1));
      const elapsed = performance.now() - started;
      assert.equal(outcome.kind, "timeout");
      assert.ok(outcome.kind === "timeout" && outcome.destination?.port === reg.port);
      // never before Timer F; generous upper bound for a loaded CI machine
      assert.ok(elapsed >= timers.timerF - 15 && elapsed < timers.timerF + 5_000, `elapsed ${elapsed}`);
      const sends = outgoing(h).map((e) => e.at - started);
      if (transport === "tcp") {
        assert.equal(sends.length, 1, "no retransmission over TCP");
      } else {
        // ideal: 0, 100, 300, 700, 1100, 1500, 1900 (7 sends)
        assert.ok(sends.length >= 4 && sends.length <= 8, `sends at ${sends.map(Math.round).join(",")}`);
        const gaps = sends.slice(1).map((t, i) => t - sends[i]!);
        assert.ok(gaps[0]! >= 90, `first gap ${gaps[0]}`);
        assert.ok(gaps[1]! >= 180, `second gap ${gaps[1]}`);
        assert.ok(
          gaps.every((g) => g >= 90),
          `gaps ${gaps.map(Math.round).join(",")}`,
        );
        assert.equal(h.stack.stats().retransmissions, sends.length - 1);
      }
      assert.equal(h.stack.stats().timeouts, 1);
    });

    it("1xx then final: the 100 stops T1-paced retransmissions, the TU gets only the 200", async () => {
      const h = await stack({ t1: 100, t2: 1_000, timerF: 8_000 });
      const reg = await sipp({ scenario: "uas-100-200.xml", transport, vars: { delay: 1_500 } });
      const outcome = await h.stack.send(register(reg.uri(), "ivan", 1));
      assert.equal(status(outcome), 200);
      const st = h.stack.stats();
      assert.ok((st.responses["1xx"] ?? 0) >= 1);
      // without the 100: 0, 0.1, 0.3, 0.7, 1.5 s → 4 retransmissions; with it at most 0.1 and 1.1 s (+1 slack)
      assert.ok(st.retransmissions <= (transport === "udp" ? 3 : 0), `retransmissions ${st.retransmissions}`);
    });

    it("duplicate final response: one outcome; the copy is absorbed (UDP, Completed) or dropped (TCP, Timer K = 0)", async () => {
      const h = await stack({ t1: 200, t2: 800, t4: 1_000, timerF: 8_000 });
      const reg = await sipp({ scenario: "uas-200-twice.xml", transport });
      let outcomes = 0;
      const outcome = await h.stack.send(register(reg.uri(), "kate", 1)).finally(() => outcomes++);
      assert.equal(status(outcome), 200);
      await until("the duplicate 200 to arrive", () => {
        const st = h.stack.stats();
        return (st.responses["2xx"] ?? 0) + st.dropped.unmatched >= 2;
      });
      assert.equal(outcomes, 1);
    });

    it("late response after Timer F: dropped and counted as unmatched, never delivered", async () => {
      const h = await stack({ t1: 200, t2: 400, t4: 200, timerF: 1_000 });
      const reg = await sipp({ scenario: "uas-late-200.xml", transport, vars: { delay: 2_000 } });
      const outcome = await h.stack.send(register(reg.uri(), "liam", 1));
      assert.equal(outcome.kind, "timeout");
      await until("the late 200 to be dropped", () => h.stack.stats().dropped.unmatched >= 1);
      assert.equal(h.stack.stats().responses["2xx"] ?? 0, 0);
    });

    it("a forged 200 from another port is dropped as spoofed; the registrar's own answer is delivered", async () => {
      const h = await stack({ t1: 500, t2: 4_000, timerF: 8_000 });
      const reg = await sipp({ scenario: "uas-delayed-200.xml", transport, vars: { delay: 1_000 } });
      const pending = h.stack.send(register(reg.uri(), "mallory", 1));
      const out = await until("the REGISTER to go out", () => outgoing(h)[0]);
      const parsed = parseMessage(out.bytes);
      assert.ok(parsed.ok && parsed.message.kind === "request");
      const forged = forge(parsed.message, "forged");
      const [, , portText] = localSocket(h).split(":");
      const ourPort = Number(portText);
      if (transport === "udp") {
        const attacker = createSocket("udp4");
        await new Promise<void>((r) => attacker.bind(0, "127.0.0.1", () => r()));
        attacker.send(forged, ourPort, "127.0.0.1");
        await until("the forged response to be dropped", () => h.stack.stats().dropped.spoofed >= 1);
        attacker.close();
      } else {
        const attacker = connect(ourPort, "127.0.0.1");
        attacker.on("error", () => undefined);
        attacker.write(forged);
        await until("the forged response to be dropped", () => h.stack.stats().dropped.spoofed >= 1);
        attacker.destroy();
      }
      const outcome = await pending;
      assert.equal(status(outcome), 200);
      assert.ok(outcome.kind === "response");
      assert.equal(headerValue(outcome.response, "server"), "sipp-real");
    });
  });
}
