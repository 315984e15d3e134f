import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../../../src/clock.js";
import { parseMessage } from "../../../src/sip/parse.js";
import { SendPacer } from "../../../src/sip/send-pacer.js";
import type { RegisterRequest, SendOutcome, SipClient } from "../../../src/sip/sip-client.js";
import { SipTrace } from "../../../src/trace/sip-trace.js";
import { formatMessage, traceOutcomes, wireTrace } from "../../../src/trace/wire-trace.js";
import { callIdOf, goldenFrames } from "./golden-frames.js";

const frames = goldenFrames("kamailio-udp-5070.txt");
const first = frames[0]!;
const callId = callIdOf(first.text);
const reply = frames.find((f) => callIdOf(f.text) === callId && f.text.startsWith("SIP/2.0"))!;

/** a REGISTER as the engine hands it to the SIP client */
const req: RegisterRequest = {
  requestUri: "sip:reg.test",
  to: "sip:a@x.test",
  from: "sip:a@x.test",
  fromTag: "t",
  callId: "cid-1",
  cseq: 1,
  contact: { uri: "sip:a@10.0.0.1", params: "", expiresSec: 60 },
};

describe("wireTrace", () => {
  it("feeds SipStack onWire events (out bytes, in parsed) to the trace under their Call-ID", () => {
    const trace = new SipTrace({ clock: new ManualClock(), enabled: true });
    const onWire = wireTrace(trace);
    const peer = { address: "127.0.0.1", port: 5070 };
    onWire({ direction: "out", socket: "udp:127.0.0.1:5080", peer, bytes: Buffer.from(first.text) });
    const parsed = parseMessage(Buffer.from(reply.text));
    assert.ok(parsed.ok);
    onWire({ direction: "in", socket: "udp:127.0.0.1:5080", peer, message: parsed.message });
    onWire({ direction: "in", socket: "udp:127.0.0.1:5080", peer, message: undefined });
    const start = /^REGISTER (\S+)/.exec(first.text)![1]!;
    const to = /^To: <([^>]+)>/m.exec(first.text)![1]!;
    const contact = /^Contact: <([^>]+)>/m.exec(first.text)![1]!;
    const entries = trace.entries({ aor: to, contact, registrar: start });
    assert.deepEqual(
      entries.map((e) => [e.kind, e.peer]),
      [
        ["out", "udp:127.0.0.1:5070"],
        ["in", "udp:127.0.0.1:5070"],
      ],
    );
    assert.equal(entries[0]!.message, first.text);
    assert.match(entries[1]!.message!, /^SIP\/2\.0 \d{3} /);
    assert.match(entries[1]!.message!, /\r\nCall-ID: /);
    assert.match(entries[1]!.message!, /\r\nCSeq: \d+ REGISTER\r\n/);
  });

  it("reads nothing while no record is traced, and feeds the trace again once one is", () => {
    const trace = new SipTrace({ clock: new ManualClock() });
    const fed: string[] = [];
    const onWire = wireTrace({
      get active() {
        return trace.active;
      },
      callback: (input) => {
        fed.push(input.kind);
        trace.callback(input);
      },
    });
    const peer = { address: "127.0.0.1", port: 5070 };
    const out = { direction: "out", socket: "udp:127.0.0.1:5080", peer, bytes: Buffer.from(first.text) } as const;
    onWire(out);
    assert.deepEqual(fed, []);
    const start = /^REGISTER (\S+)/.exec(first.text)![1]!;
    const to = /^To: <([^>]+)>/m.exec(first.text)![1]!;
    const contact = /^Contact: <([^>]+)>/m.exec(first.text)![1]!;
    const coords = { aor: to, contact, registrar: start };
    trace.setRecordMode(coords, "on");
    onWire(out);
    assert.deepEqual(fed, ["out"]);
    assert.equal(trace.entries(coords).length, 1);
    trace.setRecordMode(coords, undefined);
    onWire(out);
    assert.deepEqual(fed, ["out"]);
  });

  it("formats parsed messages with the usual header capitalisation", () => {
    const head =
      "SIP/2.0 401 Unauthorized\r\nv: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\nf: <sip:a@x>;tag=1\r\nt: <sip:a@x>\r\n" +
      'cseq: 1 REGISTER\r\nwww-authenticate: Digest realm="x"\r\ni: abc\r\nContent-Length: 0\r\n\r\n';
    const parsed = parseMessage(Buffer.from(head));
    assert.ok(parsed.ok);
    assert.equal(
      formatMessage(parsed.message),
      "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:a@x>\r\n" +
        'CSeq: 1 REGISTER\r\nWWW-Authenticate: Digest realm="x"\r\nCall-ID: abc\r\nContent-Length: 0\r\n\r\n',
    );
  });
});

/** a send pacer over `inner` (no limits) with the trace's observer, as the daemon wires it */
function tracedClient(inner: SipClient["send"], feed: Parameters<typeof traceOutcomes>[0]): SendPacer {
  const pacer = new SendPacer({ send: inner, hasSocket: () => true }, { maxInFlight: 0, rate: 0, ratePerRegistrar: 0 });
  pacer.observe(traceOutcomes(feed));
  return pacer;
}

describe("traceOutcomes", () => {
  it("adds timeouts and transport errors to the record's trace and passes every outcome through", async () => {
    const trace = new SipTrace({ clock: new ManualClock(), enabled: true });
    const outcomes: SendOutcome[] = [
      {
        kind: "timeout",
        destination: { transport: "udp", address: "10.0.0.9", port: 5060, socket: "udp:10.0.0.1:5060" },
      },
      { kind: "transport-error", error: new Error("connect ECONNREFUSED") },
    ];
    const client = tracedClient(async () => outcomes.shift()!, trace);
    // bind the Call-ID as the stack's first transmission would
    trace.callback({
      kind: "out",
      callId: "cid-1",
      bytes:
        "REGISTER sip:reg.test SIP/2.0\r\nTo: <sip:a@x.test>\r\nContact: <sip:a@10.0.0.1>\r\nCall-ID: cid-1\r\n\r\n",
    });
    assert.equal((await client.send(req)).kind, "timeout");
    assert.equal((await client.send(req)).kind, "transport-error");
    const e = trace.entries({ aor: "sip:a@x.test", contact: "sip:a@10.0.0.1", registrar: "sip:reg.test" });
    assert.deepEqual(
      e.map((x) => [x.kind, x.detail]),
      [
        ["out", undefined],
        ["timeout", "no final response from udp:10.0.0.9:5060"],
        ["transport-error", "connect ECONNREFUSED"],
      ],
    );
  });

  it("reports nothing while nothing is traced, and the outcome still passes through", async () => {
    const fed: string[] = [];
    const feed = { active: false, callback: (input: { kind: string }) => void fed.push(input.kind) };
    const client = tracedClient(() => Promise.resolve({ kind: "timeout" }), feed);
    assert.deepEqual(await client.send(req), { kind: "timeout" });
    assert.deepEqual(fed, []);
    feed.active = true;
    assert.deepEqual(await client.send(req), { kind: "timeout" });
    assert.deepEqual(fed, ["timeout"]);
  });
});
