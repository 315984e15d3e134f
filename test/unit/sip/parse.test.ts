import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { headerValue, headerValues } from "../../../src/sip/message.js";
import type { SipMessage } from "../../../src/sip/message.js";
import { parseMessage } from "../../../src/sip/parse.js";
import { allGoldenFrames, goldenFrame } from "./golden-frames.js";

function ok(text: string | Buffer): SipMessage {
  const r = parseMessage(typeof text === "string" ? Buffer.from(text) : text);
  if (!r.ok) throw new Error(`parse failed: ${r.error.message}`);
  return r.message;
}

function err(text: string | Buffer, limits?: Parameters<typeof parseMessage>[1]): string {
  const r = parseMessage(typeof text === "string" ? Buffer.from(text) : text, limits);
  assert.equal(r.ok, false, "expected a parse error");
  if (r.ok) return "";
  assert.equal(r.error.code, "SIP_PARSE");
  return r.error.message;
}

const MANDATORY =
  "Via: SIP/2.0/UDP 1.2.3.4:5060;branch=z9hG4bK1\r\nTo: <sip:a@b>\r\nFrom: <sip:a@b>;tag=1\r\n" +
  "Call-ID: x\r\nCSeq: 1 REGISTER\r\n";

describe("parseMessage", () => {
  it("parses every golden frame", () => {
    const frames = allGoldenFrames();
    assert.ok(frames.length > 250);
    for (const f of frames) {
      const r = parseMessage(f.bytes);
      assert.ok(r.ok, `${f.file} frame ${f.frame}: ${r.ok ? "" : r.error.message}`);
    }
  });

  it("reads the golden 401 (kamailio-udp frame 2)", () => {
    const m = ok(goldenFrame("kamailio-udp-5070.txt", 2).bytes);
    assert.equal(m.kind, "response");
    if (m.kind !== "response") return;
    assert.equal(m.status, 401);
    assert.equal(m.reason, "Unauthorized");
    assert.equal(
      headerValue(m, "www-authenticate"),
      'Digest realm="example.test", nonce="awP5NGsD+AgoL6LDuLQ1ZyCNm5ZXCt0d", qop="auth"',
    );
    assert.equal(headerValue(m, "call-id"), "026db3345120a2c10350e54fa8f");
    assert.equal(m.body.length, 0);
  });

  it("reads the golden REGISTER (frame 1)", () => {
    const m = ok(goldenFrame("kamailio-udp-5070.txt", 1).bytes);
    assert.equal(m.kind, "request");
    if (m.kind !== "request") return;
    assert.equal(m.method, "REGISTER");
    assert.equal(m.uri, "sip:127.0.0.1:5070");
    assert.deepEqual(
      m.headers.map((h) => h.name),
      ["via", "to", "from", "cseq", "call-id", "max-forwards", "content-length", "user-agent", "contact"],
    );
  });

  it("canonicalises compact and mixed-case names", () => {
    const m = ok(
      "SIP/2.0 200 OK\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\nT: <sip:a@b>\r\nf: <sip:a@b>;tag=1\r\ni: x\r\n" +
        'cSeQ: 1 REGISTER\r\nM: <sip:a@c>\r\nl: 0\r\nk: path\r\nWWW-AUTHENTICATE: Digest realm="r"\r\n\r\n',
    );
    assert.deepEqual(
      m.headers.map((h) => h.name),
      ["via", "to", "from", "call-id", "cseq", "contact", "content-length", "supported", "www-authenticate"],
    );
  });

  it("unfolds continuation lines and keeps repeated headers in order", () => {
    const m = ok(
      "SIP/2.0 200 OK\r\n" +
        MANDATORY +
        "Contact: <sip:a@1.1.1.1>;expires=60,\r\n  <sip:b@2.2.2.2>;expires=30\r\n" +
        "Contact:\r\n\t<sip:c@3.3.3.3>\r\nContent-Length: 0\r\n\r\n",
    );
    assert.deepEqual(headerValues(m, "contact"), [
      "<sip:a@1.1.1.1>;expires=60, <sip:b@2.2.2.2>;expires=30",
      "<sip:c@3.3.3.3>",
    ]);
  });

  it("takes Content-Length bytes of body and drops the rest of the datagram", () => {
    const m = ok("SIP/2.0 200 OK\r\n" + MANDATORY + "Content-Length: 3\r\n\r\nabcdef");
    assert.equal(m.body.toString(), "abc");
  });

  it("without Content-Length a datagram body runs to its end", () => {
    const m = ok("SIP/2.0 200 OK\r\n" + MANDATORY + "\r\nhello");
    assert.equal(m.body.toString(), "hello");
  });

  it("tolerates bare LF line ends, leading CRLFs, an empty reason and IPv6 in the start line", () => {
    const m = ok("\r\n\r\nSIP/2.0 200\n" + MANDATORY.replaceAll("\r\n", "\n") + "\n");
    assert.equal(m.kind === "response" && m.reason, "");
    const r = ok("REGISTER sip:[2001:db8::1]:5060 SIP/2.0\r\n" + MANDATORY + "\r\n");
    assert.equal(r.kind === "request" && r.uri, "sip:[2001:db8::1]:5060");
  });

  it("keeps UTF-8 display names", () => {
    const m = ok("SIP/2.0 200 OK\r\n" + MANDATORY + 'Contact: "Zoë" <sip:z@h>\r\n\r\n');
    assert.equal(headerValue(m, "contact"), '"Zoë" <sip:z@h>');
  });

  it("reads the status line where it lies: version in any case, reason as written", () => {
    const m = ok("sip/2.0 200 Very OK\r\n" + MANDATORY + "\r\n");
    assert.ok(m.kind === "response");
    assert.equal(m.status, 200);
    assert.equal(m.reason, "Very OK");
    // the version compares as String.prototype.toUpperCase compares it, non-ASCII included (U+017F → "S")
    assert.equal(ok("\u017fIP/2.0 200 OK\r\n" + MANDATORY + "\r\n").kind, "response");
    assert.match(err("SIP/2.0 2x0 OK\r\n" + MANDATORY + "\r\n"), /bad status code/);
    assert.match(err("SIP/2.0 200OK\r\n" + MANDATORY + "\r\n"), /bad status line/);
    assert.match(err("SIP/2.0 20\r\n" + MANDATORY + "\r\n"), /bad status line/);
  });

  it("decodes a non-ASCII reason phrase and header values as UTF-8, and keeps body bytes as sent", () => {
    const body = Buffer.from("é\u00ff", "utf8");
    const m = ok(
      Buffer.concat([
        Buffer.from(`SIP/2.0 401 Non autorisé\r\n${MANDATORY}Server: Zoë ☎\r\nContent-Length: ${body.length}\r\n\r\n`),
        body,
      ]),
    );
    assert.equal(m.kind === "response" && m.reason, "Non autorisé");
    assert.equal(headerValue(m, "server"), "Zoë ☎");
    assert.deepEqual(m.body, body);
  });

  it("an empty body is an empty buffer, with or without Content-Length", () => {
    for (const text of ["Content-Length: 0\r\n\r\n", "\r\n"]) {
      const m = ok("SIP/2.0 200 OK\r\n" + MANDATORY + text);
      assert.equal(m.body.length, 0);
      assert.deepEqual(m.body, Buffer.alloc(0));
    }
  });

  it("returns typed errors for malformed input", () => {
    assert.match(err(""), /empty/);
    assert.match(err("SIP/2.0 200 OK\r\n" + MANDATORY), /not terminated/);
    assert.match(err("SIP/2.0 99 Hm\r\n" + MANDATORY + "\r\n"), /status/);
    assert.match(err("SIP/2.0 2000 OK\r\n" + MANDATORY + "\r\n"), /status/);
    assert.match(err("REGISTER sip:x SIP/3.0\r\n" + MANDATORY + "\r\n"), /version/);
    assert.match(err("REGISTER  SIP/2.0\r\n" + MANDATORY + "\r\n"), /request line/);
    assert.match(err("SIP/2.0 200 OK\r\n" + MANDATORY + "Bad Header: x\r\n\r\n"), /colon/);
    assert.match(err("SIP/2.0 200 OK\r\n" + MANDATORY + ": x\r\n\r\n"), /header name/);
    assert.match(err("SIP/2.0 200 OK\r\n  folded\r\n" + MANDATORY + "\r\n"), /continuation/);
    assert.match(err("SIP/2.0 200 OK\r\n" + MANDATORY + "Content-Length: x\r\n\r\n"), /Content-Length/);
    assert.match(err("SIP/2.0 200 OK\r\n" + MANDATORY + "Content-Length: -1\r\n\r\n"), /Content-Length/);
    assert.match(err("SIP/2.0 200 OK\r\n" + MANDATORY + "Content-Length: 9\r\n\r\nabc"), /shorter/);
    assert.match(err("SIP/2.0 200 OK\r\n" + MANDATORY + "l: 1\r\nl: 2\r\n\r\nab"), /conflicting/);
    assert.match(err("SIP/2.0 200 OK\r\nTo: <sip:a@b>\r\n\r\n"), /missing mandatory header.*via.*from.*call-id.*cseq/);
  });

  it("enforces its limits", () => {
    const big = "SIP/2.0 200 OK\r\n" + MANDATORY + `X-Pad: ${"a".repeat(100)}\r\n\r\n`;
    assert.match(err(big, { maxMessageBytes: 100 }), /larger than 100/);
    assert.match(err(big, { maxLineBytes: 64 }), /too long/);
    assert.match(err(big, { maxHeaders: 3 }), /more than 3 headers/);
    const folded = "SIP/2.0 200 OK\r\n" + MANDATORY + "X: a\r\n" + " bbbbbbbbbb\r\n".repeat(10) + "\r\n";
    assert.match(err(folded, { maxLineBytes: 64 }), /folded header too long/);
  });
});
