import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { answerChallenge, NonceCounter } from "../../../src/sip/digest.js";
import { parseContacts, parseCSeq, parseVia } from "../../../src/sip/headers.js";
import { headerValue, headerValues } from "../../../src/sip/message.js";
import { parseMessage } from "../../../src/sip/parse.js";
import { serializeRegister } from "../../../src/sip/serialize.js";
import { goldenFrame } from "./golden-frames.js";

const UA = "OpenSIPS-harness";

describe("serializeRegister: byte-identical to OpenSIPS's golden REGISTERs", () => {
  it("alice, first REGISTER over UDP (kamailio-udp frame 1)", () => {
    const bytes = serializeRegister(
      {
        requestUri: "sip:127.0.0.1:5070",
        to: "sip:alice@example.test",
        from: "sip:alice@example.test",
        fromTag: "afef4",
        callId: "026db3345120a2c10350e54fa8f",
        cseq: 1,
        contact: { uri: "sip:alice@127.0.0.1:5080", params: "", expiresSec: 60 },
        userAgent: UA,
      },
      { transport: "UDP", host: "127.0.0.1", port: 5080, branch: "z9hG4bKc6fe.61d5949.0", rport: false },
    );
    assert.equal(bytes.toString("latin1"), goldenFrame("kamailio-udp-5070.txt", 1).bytes.toString("latin1"));
  });

  it("alice, authenticated REGISTER (frame 3)", () => {
    const bytes = serializeRegister(
      {
        requestUri: "sip:127.0.0.1:5070",
        to: "sip:alice@example.test",
        from: "sip:alice@example.test",
        fromTag: "afef4",
        callId: "026db3345120a2c10350e54fa8f",
        cseq: 2,
        contact: { uri: "sip:alice@127.0.0.1:5080", params: "", expiresSec: 60 },
        userAgent: UA,
        authorization: {
          header: "Authorization",
          value:
            'Digest username="alice", realm="example.test", nonce="awP5NGsD+AgoL6LDuLQ1ZyCNm5ZXCt0d", uri="sip:127.0.0.1:5070", qop=auth, nc=00000001, cnonce="2712098267", response="7a1cfdf1cdbfa8e09be52290362667de", algorithm=MD5',
        },
      },
      { transport: "UDP", host: "127.0.0.1", port: 5080, branch: "z9hG4bK96fe.19e575f3.0", rport: false },
    );
    assert.deepEqual(bytes, goldenFrame("kamailio-udp-5070.txt", 3).bytes);
  });

  it("alice, unREGISTER with expires=0 (frame 390)", () => {
    const bytes = serializeRegister(
      {
        requestUri: "sip:127.0.0.1:5070",
        to: "sip:alice@example.test",
        from: "sip:alice@example.test",
        fromTag: "f0f10",
        callId: "0729b7cde5c0ec6f52cbd2f61d2",
        cseq: 5,
        contact: { uri: "sip:alice@127.0.0.1:5080", params: "", expiresSec: 0 },
        userAgent: UA,
      },
      { transport: "UDP", host: "127.0.0.1", port: 5080, branch: "z9hG4bK98b5.8c286353.0", rport: false },
    );
    assert.deepEqual(bytes, goldenFrame("kamailio-udp-5070.txt", 390).bytes);
  });

  it("bob over TCP with unique-binding params (kamailio-tcp frame 16)", () => {
    const bytes = serializeRegister(
      {
        requestUri: "sip:127.0.0.1:5070;transport=tcp",
        to: "sip:bob@example.test",
        from: "sip:bob@example.test",
        fromTag: "dce54",
        callId: "19ac7646d0a579352c3f89ec94d",
        cseq: 1,
        contact: {
          uri: "sip:bob@127.0.0.1:5080;transport=tcp",
          params: ';reg-id=1;+sip.instance="<urn:uuid:b0b-0001>"',
          expiresSec: 120,
        },
        forcedSocket: "tcp:127.0.0.1:5080",
        userAgent: UA,
      },
      { transport: "TCP", host: "127.0.0.1", port: 5080, branch: "z9hG4bK4b41.96daa373.0", rport: false },
    );
    assert.deepEqual(bytes, goldenFrame("kamailio-tcp-5070.txt", 16).bytes);
  });

  it("dave: outbound proxy adds no Route, third-party From (frame 356)", () => {
    const bytes = serializeRegister(
      {
        requestUri: "sip:example.test",
        proxy: "sip:127.0.0.1:5070",
        to: "sip:dave@example.test",
        from: "sip:admin@example.test",
        fromTag: "38355",
        callId: "1d927fd90fa2934b3ad676b56ad",
        cseq: 1,
        contact: { uri: "sip:dave@127.0.0.1:5080", params: ";transport=udp", expiresSec: 90 },
        userAgent: UA,
      },
      { transport: "UDP", host: "127.0.0.1", port: 5080, branch: "z9hG4bKf4bb.8adf75b7.0", rport: false },
    );
    assert.deepEqual(bytes, goldenFrame("kamailio-udp-5070.txt", 356).bytes);
  });

  it("Contact: * with Expires: 0 removes every binding (sipp-5097 frame 705)", () => {
    const bytes = serializeRegister(
      {
        requestUri: "sip:127.0.0.1:5097",
        to: "sip:kate@sipp.test",
        from: "sip:kate@sipp.test",
        fromTag: "7c390",
        callId: "a213eae07e4a886f7af60f043a2",
        cseq: 3,
        contact: "*",
        userAgent: UA,
      },
      { transport: "UDP", host: "127.0.0.1", port: 5080, branch: "z9hG4bK4cd4.ec4bdef5.0", rport: false },
    );
    assert.deepEqual(bytes, goldenFrame("sipp-5097-two_contacts.txt", 705).bytes);
  });

  it("Proxy-Authorization after a 407 (sipp-5092)", () => {
    const bytes = serializeRegister(
      {
        requestUri: "sip:127.0.0.1:5092",
        to: "sip:frank@sipp.test",
        from: "sip:frank@sipp.test",
        fromTag: "fcdc2",
        callId: "8e0dbf689dc627883884d405bd2",
        cseq: 2,
        contact: { uri: "sip:frank@127.0.0.1:5080", params: "", expiresSec: 60 },
        userAgent: UA,
        authorization: {
          header: "Proxy-Authorization",
          value:
            'Digest username="frank", realm="proxy.sipp.test", nonce="226481407nonce25100", uri="sip:127.0.0.1:5092", response="7280dd65ae600ed48c93aaba91a26414", algorithm=MD5',
        },
      },
      { transport: "UDP", host: "127.0.0.1", port: 5080, branch: "z9hG4bK9264.c32605d.0", rport: false },
    );
    assert.deepEqual(bytes, goldenFrame("sipp-5092-407_200.txt", 703).bytes);
  });

  it("what it builds parses back to the same fields", () => {
    const bytes = serializeRegister(
      {
        requestUri: "sip:127.0.0.1:5070;transport=tcp",
        to: "sip:bob@example.test",
        from: "sip:bob@example.test",
        fromTag: "dce54",
        callId: "19ac7646d0a579352c3f89ec94d",
        cseq: 3,
        contact: {
          uri: "sip:bob@127.0.0.1:5080;transport=tcp",
          params: ';reg-id=1;+sip.instance="<urn:uuid:b0b-0001>"',
          expiresSec: 120,
        },
      },
      { transport: "TCP", host: "127.0.0.1", port: 5080, branch: "z9hG4bKabc", rport: true },
    );
    const r = parseMessage(bytes);
    assert.ok(r.ok && r.message.kind === "request");
    const m = r.message;
    assert.equal(m.uri, "sip:127.0.0.1:5070;transport=tcp");
    const via = parseVia(headerValue(m, "via")!);
    assert.ok(via.ok);
    assert.equal(via.vias[0]?.branch, "z9hG4bKabc");
    assert.equal(via.vias[0]?.params.get("rport"), null);
    assert.deepEqual(parseCSeq(headerValue(m, "cseq")!), { ok: true, seq: 3, method: "REGISTER" });
    const c = parseContacts(headerValues(m, "contact"));
    assert.ok(c.ok);
    assert.equal(c.contacts[0]?.uri, "sip:bob@127.0.0.1:5080;transport=tcp");
    assert.equal(c.contacts[0]?.params.get("expires"), "120");
    assert.equal(c.contacts[0]?.params.get("+sip.instance"), '"<urn:uuid:b0b-0001>"');
  });

  it("dave's authenticated REGISTER: digest uri is the registrar, not the proxy (frame 363)", () => {
    const challenge = parseMessage(goldenFrame("kamailio-udp-5070.txt", 357).bytes);
    assert.ok(challenge.ok && challenge.message.kind === "response");
    const wire = goldenFrame("kamailio-udp-5070.txt", 363).bytes.toString("latin1");
    const cnonce = /cnonce="([^"]+)"/.exec(wire)![1]!;
    // dave's password follows the capture's pattern (davepw): the recomputed response equals the wire one
    const a = answerChallenge(
      challenge.message,
      { username: "dave", password: "davepw" },
      { method: "REGISTER", uri: "sip:example.test" },
      { cnonce: () => cnonce, nonceCounts: new NonceCounter() },
    );
    assert.ok(a.ok);
    const bytes = serializeRegister(
      {
        requestUri: "sip:example.test",
        proxy: "sip:127.0.0.1:5070",
        to: "sip:dave@example.test",
        from: "sip:admin@example.test",
        fromTag: "38355",
        callId: "1d927fd90fa2934b3ad676b56ad",
        cseq: 2,
        contact: { uri: "sip:dave@127.0.0.1:5080", params: ";transport=udp", expiresSec: 90 },
        userAgent: UA,
        authorization: { header: a.header, value: a.value },
      },
      { transport: "UDP", host: "127.0.0.1", port: 5080, branch: "z9hG4bKc4bb.54704155.0", rport: false },
    );
    assert.equal(bytes.toString("latin1"), wire);
  });

  it("no User-Agent line when none is configured; rport and IPv6 Via", () => {
    const text = serializeRegister(
      {
        requestUri: "sip:[2001:db8::1]:5070",
        to: "sip:a@example.test",
        from: "sip:a@example.test",
        fromTag: "t",
        callId: "c",
        cseq: 7,
        contact: { uri: "sip:a@[2001:db8::2]:5080", params: "", expiresSec: 3600 },
      },
      { transport: "TLS", host: "2001:db8::2", port: 5061, branch: "z9hG4bKx", rport: true },
    ).toString();
    assert.equal(
      text,
      "REGISTER sip:[2001:db8::1]:5070 SIP/2.0\r\n" +
        "Via: SIP/2.0/TLS [2001:db8::2]:5061;branch=z9hG4bKx;rport\r\n" +
        "To: <sip:a@example.test>\r\nFrom: <sip:a@example.test>;tag=t\r\nCSeq: 7 REGISTER\r\nCall-ID: c\r\n" +
        "Max-Forwards: 70\r\nContent-Length: 0\r\nContact: <sip:a@[2001:db8::2]:5080>;expires=3600\r\n\r\n",
    );
  });

  it("refuses a field that would inject a header line", () => {
    assert.throws(
      () =>
        serializeRegister(
          {
            requestUri: "sip:r",
            to: "sip:a@b\r\nX: y",
            from: "sip:a@b",
            fromTag: "t",
            callId: "c",
            cseq: 1,
            contact: "*",
          },
          { transport: "UDP", host: "h", port: 5060, branch: "z9hG4bKx", rport: false },
        ),
      RangeError,
    );
  });

  it("sends a field with non-ASCII characters UTF-8 encoded", () => {
    const bytes = serializeRegister(
      {
        requestUri: "sip:registrar.example.test",
        to: "sip:j%C3%BCrgen@example.test",
        from: "sip:j%C3%BCrgen@example.test",
        fromTag: "t",
        callId: "c",
        cseq: 1,
        contact: { uri: "sip:j@192.0.2.1", params: ';+sip.instance="<urn:uuid:ü>"', expiresSec: 60 },
        userAgent: "registrantd ☎ Jürgen \ud83d\ude00 \ud800",
      },
      { transport: "UDP", host: "192.0.2.1", port: 5060, branch: "z9hG4bKx", rport: false },
    );
    const text =
      "REGISTER sip:registrar.example.test SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx\r\n" +
      "To: <sip:j%C3%BCrgen@example.test>\r\nFrom: <sip:j%C3%BCrgen@example.test>;tag=t\r\nCSeq: 1 REGISTER\r\n" +
      "Call-ID: c\r\nMax-Forwards: 70\r\nContent-Length: 0\r\nUser-Agent: registrantd ☎ Jürgen \ud83d\ude00 \ud800\r\n" +
      'Contact: <sip:j@192.0.2.1>;+sip.instance="<urn:uuid:ü>";expires=60\r\n\r\n';
    assert.deepEqual(bytes, Buffer.from(text, "utf8"));
    // the lone surrogate is sent as U+FFFD, the pair as one 4-byte sequence
    assert.ok(bytes.includes(Buffer.from([0xf0, 0x9f, 0x98, 0x80, 0x20, 0xef, 0xbf, 0xbd, 0x0d, 0x0a])));
  });

  it("refuses a CR or an LF in any field, naming it", () => {
    const req = {
      requestUri: "sip:r",
      to: "sip:a@b",
      from: "sip:a@b",
      fromTag: "t",
      callId: "c",
      cseq: 1,
      contact: { uri: "sip:a@h", params: ";p", expiresSec: 60 },
      userAgent: "ua",
      authorization: { header: "Authorization" as const, value: "Digest x" },
    };
    const via = { transport: "UDP", host: "h", port: 5060, branch: "z9hG4bKx", rport: false } as const;
    assert.ok(serializeRegister(req, via).length > 0);
    const bad: [string, () => Buffer][] = [
      ["Request-URI", () => serializeRegister({ ...req, requestUri: "sip:r\r" }, via)],
      ["Via host", () => serializeRegister(req, { ...via, host: "h\n" })],
      ["branch", () => serializeRegister(req, { ...via, branch: "z9hG4bK\r\nX: y" })],
      ["To", () => serializeRegister({ ...req, to: "sip:a@b\n" }, via)],
      ["From", () => serializeRegister({ ...req, from: "\rsip:a@b" }, via)],
      ["From tag", () => serializeRegister({ ...req, fromTag: "t\r\n" }, via)],
      ["Call-ID", () => serializeRegister({ ...req, callId: "c\n" }, via)],
      ["User-Agent", () => serializeRegister({ ...req, userAgent: "ua\r" }, via)],
      ["Contact", () => serializeRegister({ ...req, contact: { ...req.contact, uri: "sip:a@h\n" } }, via)],
      ["binding params", () => serializeRegister({ ...req, contact: { ...req.contact, params: ";p\r\n" } }, via)],
      [
        "credentials",
        () => serializeRegister({ ...req, authorization: { header: "Authorization", value: "Digest\r\nX: y" } }, via),
      ],
    ];
    for (const [label, build] of bad) {
      assert.throws(
        build,
        (err: unknown) => err instanceof RangeError && err.message === `REGISTER ${label} contains CR or LF`,
      );
    }
  });

  it("checks the fields in the order they appear: the first bad one is named", () => {
    assert.throws(
      () =>
        serializeRegister(
          { requestUri: "sip:r", to: "sip:a\n", from: "sip:a@b", fromTag: "t\r", callId: "c", cseq: 1, contact: "*" },
          { transport: "UDP", host: "h", port: 5060, branch: "z9hG4bKx\n", rport: false },
        ),
      /REGISTER branch contains CR or LF/,
    );
  });

  it("a registrar, Via host or User-Agent seen clean before is still refused once it carries a CR or LF", () => {
    const req = {
      requestUri: "sip:r",
      to: "sip:a@b",
      from: "sip:a@b",
      fromTag: "t",
      callId: "c",
      cseq: 1,
      contact: "*" as const,
      userAgent: "ua",
    };
    const via = { transport: "UDP", host: "h", port: 5060, branch: "z9hG4bKx", rport: false } as const;
    for (let round = 0; round < 2; round++) {
      assert.ok(serializeRegister(req, via).length > 0);
      assert.throws(() => serializeRegister({ ...req, requestUri: "sip:r\n" }, via), /Request-URI/);
      assert.throws(() => serializeRegister({ ...req, requestUri: "sip:r\n" }, via), /Request-URI/);
      assert.throws(() => serializeRegister(req, { ...via, host: "h\r" }), /Via host/);
      assert.throws(() => serializeRegister({ ...req, userAgent: "ua\r\nX: y" }, via), /User-Agent/);
    }
  });
});
