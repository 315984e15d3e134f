import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FramerResult } from "../../../src/sip/stream-framer.js";
import { StreamFramer } from "../../../src/sip/stream-framer.js";
import { loadGoldenFile } from "./golden-frames.js";

const MANDATORY =
  "Via: SIP/2.0/TCP 1.2.3.4:5060;branch=z9hG4bK1\r\nTo: <sip:a@b>\r\nFrom: <sip:a@b>;tag=1\r\n" +
  "Call-ID: x\r\nCSeq: 1 REGISTER\r\n";

function summary(results: FramerResult[]): string[] {
  return results.map((r) =>
    r.ok ? r.bytes.toString("latin1") : `ERR(${r.fatal ? "fatal" : "soft"}) ${r.error.message}`,
  );
}

/** The golden TCP frames in one direction, plus a body-carrying message, with keep-alives in between. */
function stream(): { bytes: Buffer; messages: string[] } {
  const frames = loadGoldenFile("kamailio-tcp-5070.txt").frames.filter((f) => f.from.endsWith(":5070"));
  const withBody = `SIP/2.0 200 OK\r\n${MANDATORY}Content-Type: text/plain\r\nl: 8\r\n\r\nab\r\n\r\ncd`;
  const messages = [...frames.map((f) => f.bytes.toString("latin1")), withBody];
  const parts: string[] = [];
  messages.forEach((m, i) => parts.push(i % 2 === 0 ? "\r\n\r\n" : "\r\n", m));
  return { bytes: Buffer.from(parts.join(""), "latin1"), messages };
}

describe("StreamFramer (RFC 3261 §18.3)", () => {
  it("cuts the stream identically wherever a chunk boundary falls", () => {
    const { bytes, messages } = stream();
    assert.ok(messages.length >= 9);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const framer = new StreamFramer();
      const got = [...framer.push(bytes.subarray(0, cut)), ...framer.push(bytes.subarray(cut))];
      assert.deepEqual(summary(got), messages, `cut at ${cut}`);
      assert.equal(framer.buffered, 0);
    }
  });

  it("cuts the stream one byte at a time, and at every pair of offsets in the first messages", () => {
    const { bytes, messages } = stream();
    const framer = new StreamFramer();
    const got: FramerResult[] = [];
    for (let i = 0; i < bytes.length; i++) got.push(...framer.push(bytes.subarray(i, i + 1)));
    assert.deepEqual(summary(got), messages);

    const head = bytes.subarray(0, 900);
    const expected = summary(new StreamFramer().push(head));
    for (let a = 0; a < head.length; a += 7) {
      for (let b = a; b <= head.length; b += 11) {
        const f = new StreamFramer();
        const r = [...f.push(head.subarray(0, a)), ...f.push(head.subarray(a, b)), ...f.push(head.subarray(b))];
        assert.deepEqual(summary(r), expected, `cuts ${a}/${b}`);
      }
    }
  });

  it("gives the parsed message with the bytes", () => {
    const { bytes } = stream();
    const [first] = new StreamFramer().push(bytes);
    assert.ok(first?.ok);
    assert.equal(first.message.kind, "response");
  });

  it("reports a framed but unparsable message as non-fatal and goes on", () => {
    const bad = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"; // no Via/From/To/...
    const good = `SIP/2.0 200 OK\r\n${MANDATORY}Content-Length: 0\r\n\r\n`;
    const r = new StreamFramer().push(Buffer.from(bad + good));
    assert.deepEqual(summary(r), ["ERR(soft) missing mandatory header(s): via, from, to, call-id, cseq", good]);
  });

  it("framing errors are fatal and stop the framer", () => {
    for (const [input, why] of [
      [`SIP/2.0 200 OK\r\n${MANDATORY}\r\n`, /without Content-Length/],
      [`SIP/2.0 200 OK\r\n${MANDATORY}Content-Length: abc\r\n\r\n`, /bad Content-Length/],
      [`SIP/2.0 200 OK\r\n${MANDATORY}Content-Length: 1\r\nl: 2\r\n\r\n`, /bad Content-Length/],
      [`SIP/2.0 200 OK\r\n${MANDATORY}Content-Length: 99999\r\n\r\n`, /larger than/],
    ] as const) {
      const f = new StreamFramer();
      const r = f.push(Buffer.from(input));
      assert.equal(r.length, 1);
      assert.ok(!r[0]!.ok && r[0]!.fatal);
      assert.match(r[0]!.error.message, why);
      assert.equal(r[0]!.error.code, "SIP_PARSE");
      assert.ok(f.broken);
      assert.deepEqual(f.push(Buffer.from(`SIP/2.0 200 OK\r\n${MANDATORY}l: 0\r\n\r\n`)), []);
    }
  });

  it("bounds what it buffers while waiting for a header section", () => {
    const f = new StreamFramer({ maxMessageBytes: 1000 });
    let fatal = false;
    for (let i = 0; i < 100 && !fatal; i++) {
      const r = f.push(Buffer.from("X-Pad: " + "a".repeat(50) + "\r\n"));
      fatal = r.some((x) => !x.ok && x.fatal);
      assert.ok(f.buffered <= 1100);
    }
    assert.ok(fatal);
  });

  it("assembles a large body that trickles in one byte at a time", () => {
    const body = Buffer.alloc(50_000, "x");
    const msg = Buffer.concat([
      Buffer.from(`SIP/2.0 200 OK\r\n${MANDATORY}Content-Length: ${body.length}\r\n\r\n`),
      body,
    ]);
    const f = new StreamFramer();
    const got: FramerResult[] = [];
    for (let i = 0; i < msg.length; i++) got.push(...f.push(msg.subarray(i, i + 1)));
    assert.equal(got.length, 1);
    assert.ok(got[0]!.ok);
    assert.deepEqual(got[0]!.bytes, msg);
    assert.equal(got[0]!.message.body.length, 50_000);
    assert.equal(f.buffered, 0);
  });

  it("swallows keep-alives only", () => {
    const f = new StreamFramer();
    assert.deepEqual(f.push(Buffer.from("\r\n\r\n\r\n")), []);
    assert.equal(f.buffered, 0);
  });
});
