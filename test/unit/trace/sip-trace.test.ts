import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../../../src/clock.js";
import { SipTrace } from "../../../src/trace/sip-trace.js";
import { registerCoords } from "../../../src/trace/register-coords.js";
import { redactCredentials } from "../../../src/trace/redact-credentials.js";
import { TraceRing } from "../../../src/trace/trace-ring.js";
import { callIdOf, goldenFrames } from "./golden-frames.js";

const frames = goldenFrames("kamailio-tcp-5070.txt");
const bobCallId = "19ac7646d0a579352c3f89ec94d";
const bobFrames = frames.filter((f) => callIdOf(f.text) === bobCallId);
const bob = {
  aor: "sip:bob@example.test",
  contact: "sip:bob@127.0.0.1:5080;transport=tcp",
  registrar: "sip:127.0.0.1:5070;transport=tcp",
};

function feed(trace: SipTrace, list = bobFrames): void {
  for (const f of list) {
    const out = f.src.endsWith(":5080") || !f.src.endsWith(":5070");
    trace.callback({
      kind: out ? "out" : "in",
      callId: callIdOf(f.text),
      bytes: Buffer.from(f.text),
      peer: `tcp:${out ? f.dst : f.src}`,
    });
  }
}

describe("registerCoords", () => {
  it("reads registrar, AOR and binding from OpenSIPS's REGISTER bytes", () => {
    assert.deepEqual(registerCoords(bobFrames[0]!.text), bob);
  });
  it("understands compact forms, folding and bare addr-specs", () => {
    const text =
      "REGISTER sip:reg.test SIP/2.0\r\nt: sip:a@x.test;tag=1\r\nm:\r\n  <sip:a@10.0.0.1>;expires=60\r\n\r\n";
    assert.deepEqual(registerCoords(text), {
      aor: "sip:a@x.test",
      contact: "sip:a@10.0.0.1",
      registrar: "sip:reg.test",
    });
  });
  it("gives up on responses, other methods and Contact: *", () => {
    assert.equal(registerCoords("SIP/2.0 200 OK\r\nTo: <sip:a@b>\r\nContact: <sip:c@d>\r\n\r\n"), undefined);
    assert.equal(registerCoords("OPTIONS sip:x SIP/2.0\r\nTo: <sip:a@b>\r\nContact: <sip:c@d>\r\n\r\n"), undefined);
    assert.equal(registerCoords("REGISTER sip:x SIP/2.0\r\nTo: <sip:a@b>\r\nContact: *\r\n\r\n"), undefined);
  });
});

describe("redactCredentials", () => {
  it("hides the digest response of the golden Authorization and keeps the rest", () => {
    const withAuth = bobFrames.find((f) => /^Authorization:/m.test(f.text))!.text;
    const out = redactCredentials(withAuth);
    assert.ok(!out.includes("888c9efac5e34370a3a310f363a78dbf"));
    assert.match(
      out,
      /\r\nAuthorization: Digest username="bob", realm="example.test", .*response="\[redacted\]", algorithm=MD5\r\n/,
    );
    assert.equal(out.replace('response="[redacted]"', 'response="888c9efac5e34370a3a310f363a78dbf"'), withAuth);
  });
  it("handles Proxy-Authorization, any case, unquoted and folded values, and other schemes", () => {
    const text =
      "REGISTER sip:x SIP/2.0\r\nproxy-AUTHORIZATION: Digest username=u,\r\n response=abcdef, nc=1\r\n" +
      "Authorization: Basic dXNlcjpzZWNyZXQ=\r\nX-Response: response=keep\r\n\r\n";
    const out = redactCredentials(text);
    assert.ok(!out.includes("abcdef") && !out.includes("dXNlcjpzZWNyZXQ="));
    assert.match(out, /response="\[redacted\]", nc=1\r\n/);
    assert.match(out, /\r\nAuthorization: \[redacted\]\r\n/);
    assert.match(out, /X-Response: response=keep/);
  });
});

describe("TraceRing", () => {
  it("keeps the last N, oldest first", () => {
    const r = new TraceRing<number>(3);
    for (let i = 1; i <= 5; i++) r.push(i);
    assert.deepEqual(r.toArray(), [3, 4, 5]);
    r.clear();
    assert.deepEqual(r.toArray(), []);
  });
});

describe("SipTrace", () => {
  it("is off by default: nothing is kept", () => {
    const trace = new SipTrace({ clock: new ManualClock() });
    feed(trace);
    assert.deepEqual(trace.entries(bob), []);
    assert.equal(trace.ringCount, 0);
  });

  it("keeps a traced record's messages, in and out, by Call-ID, redacted", () => {
    const clock = new ManualClock();
    const trace = new SipTrace({ clock });
    trace.setRecordMode(bob, "on");
    feed(trace, frames);
    const entries = trace.entries(bob);
    assert.equal(entries.length, Math.min(bobFrames.length, trace.maxEntries));
    assert.ok(entries.some((e) => e.kind === "in" && e.message!.startsWith("SIP/2.0 401")));
    assert.ok(entries.some((e) => e.kind === "out" && e.message!.startsWith("REGISTER ")));
    assert.ok(entries.every((e) => !e.message!.includes("888c9efac5e34370a3a310f363a78dbf")));
    assert.equal(entries[0]!.peer, "tcp:127.0.0.1:5070");
    assert.equal(entries[0]!.atMs, clock.nowMs());
    // another record on the same capture is not traced
    assert.equal(trace.ringCount, 1);
  });

  it("records timeouts and transport errors as entries", () => {
    const trace = new SipTrace({ clock: new ManualClock() });
    trace.setGlobal(true);
    feed(trace, bobFrames.slice(0, 1));
    trace.callback({ kind: "timeout", callId: bobCallId, detail: "Timer F" });
    trace.callback({ kind: "transport-error", callId: bobCallId, detail: "ECONNREFUSED" });
    trace.callback({ kind: "timeout", callId: "unknown-call-id" });
    const kinds = trace.entries(bob).map((e) => e.kind);
    assert.deepEqual(kinds, ["out", "timeout", "transport-error"]);
    assert.equal(trace.entries(bob)[1]!.detail, "Timer F");
  });

  it("bounds the ring, the message size and the number of rings", () => {
    const trace = new SipTrace({
      clock: new ManualClock(),
      maxEntries: 2,
      maxMessageBytes: 40,
      maxRecords: 2,
      enabled: true,
    });
    feed(trace);
    const entries = trace.entries(bob);
    assert.equal(entries.length, 2);
    assert.match(entries[0]!.message!, /^.{0,40}\n\[\d+ more bytes not kept\]$/s);
    for (const n of [1, 2, 3]) {
      const text = `REGISTER sip:r${n} SIP/2.0\r\nTo: <sip:u${n}@x>\r\nContact: <sip:u${n}@h>\r\nCall-ID: c${n}\r\n\r\n`;
      trace.callback({ kind: "out", callId: `c${n}`, bytes: text });
    }
    assert.equal(trace.ringCount, 2);
    assert.deepEqual(trace.entries(bob), [], "the least recently written ring went first");
  });

  it("switches per record and globally at run time; a record's own mode wins", () => {
    const trace = new SipTrace({ clock: new ManualClock() });
    trace.setGlobal(true);
    trace.setRecordMode(bob, "off");
    feed(trace);
    assert.equal(trace.isTraced(bob), false);
    assert.deepEqual(trace.entries(bob), []);
    trace.setRecordMode(bob, undefined);
    feed(trace, bobFrames.slice(0, 2));
    assert.equal(trace.entries(bob).length, 2);
    trace.setGlobal(false);
    assert.deepEqual(trace.entries(bob), [], "switching off drops what was kept");
    feed(trace);
    assert.deepEqual(trace.entries(bob), []);
  });

  it("forgets a removed record", () => {
    const trace = new SipTrace({ clock: new ManualClock() });
    trace.setRecordMode(bob, "on");
    feed(trace);
    trace.onTableChange({ kind: "removed", coords: bob, recordId: 1 });
    assert.equal(trace.recordMode(bob), undefined);
    assert.equal(trace.ringCount, 0);
    trace.callback({ kind: "timeout", callId: bobCallId });
    assert.equal(trace.ringCount, 0);
  });

  it("never throws into the SIP layer", () => {
    const trace = new SipTrace({ clock: new ManualClock(), enabled: true });
    assert.doesNotThrow(() => trace.callback({ kind: "out", callId: "x", bytes: new Uint8Array([0xff, 0, 0x0d]) }));
  });
});
