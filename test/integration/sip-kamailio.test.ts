import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { answerChallenge } from "../../src/sip/digest.js";
import { headerValue } from "../../src/sip/message.js";
import type { RegisterRequest, SendOutcome } from "../../src/sip/sip-client.js";
import { SipStack } from "../../src/sip/sip-stack.js";
import { KamailioRegistrar } from "../support/kamailio.js";

// A real Kamailio registrar with digest authentication, reached over UDP, TCP and TLS (certificate verified
// against a CA made for this run).
describe("SipStack against a real Kamailio registrar", () => {
  let kam: KamailioRegistrar;
  let stack: SipStack;

  before(async () => {
    kam = await KamailioRegistrar.start({ users: { alice: "alicepw", bob: "bobpw" }, tls: true });
    stack = await SipStack.start({
      listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0", "tls:127.0.0.1:0"],
      // our TLS socket listens with the same test certificate (port 0 needs a listener for its Via port)
      tls: { "tls:127.0.0.1:0": { ca: kam.pki!.ca, cert: kam.pki!.cert, key: kam.pki!.key, verify: true } },
      timers: { t1: 500, t2: 4_000, timerF: 10_000 },
    });
  });
  after(async () => {
    await stack?.close();
    await kam?.stop();
  });

  function status(o: SendOutcome): number | string {
    return o.kind === "response"
      ? o.response.status
      : `${o.kind}${o.kind === "transport-error" ? `: ${o.error.message}` : ""}`;
  }

  for (const transport of ["udp", "tcp", "tls"] as const) {
    it(`REGISTER, 401, digest, 200 over ${transport.toUpperCase()}`, async () => {
      const user = transport === "udp" ? "alice" : "bob";
      const req: RegisterRequest = {
        requestUri: kam.uri(transport),
        to: `sip:${user}@example.test`,
        from: `sip:${user}@example.test`,
        fromTag: `t${transport}`,
        callId: `kam-${transport}-${process.pid}`,
        cseq: 1,
        contact: { uri: `sip:${user}@127.0.0.1:5080;transport=${transport}`, params: "", expiresSec: 120 },
      };
      const first = await stack.send(req);
      assert.equal(status(first), 401, kam.log().slice(-3000));
      assert.ok(first.kind === "response");
      assert.equal(first.destination.transport, transport);
      assert.equal(first.destination.port, transport === "tls" ? kam.tlsPort : kam.port);
      assert.ok(first.destination.socket.startsWith(`${transport}:127.0.0.1:`));
      assert.equal(headerValue(first.response, "server"), "kamailio-test-registrar");
      const auth = answerChallenge(
        first.response,
        { username: user, password: `${user}pw` },
        { method: "REGISTER", uri: req.requestUri },
      );
      assert.ok(auth.ok, auth.ok ? "" : auth.error.message);
      const second = await stack.send({ ...req, cseq: 2, authorization: { header: auth.header, value: auth.value } });
      assert.equal(status(second), 200, kam.log().slice(-3000));
      assert.ok(second.kind === "response");
      assert.match(
        headerValue(second.response, "contact") ?? "",
        new RegExp(`<sip:${user}@127\\.0\\.0\\.1:5080;transport=${transport}>;expires=12\\d`),
      );
    });
  }

  it("TLS verification is on by default: a registrar certificate from an unknown CA is a transport error", async () => {
    const strict = await SipStack.start({
      listen: ["tls:127.0.0.1:0"],
      tls: { "tls:127.0.0.1:0": { cert: kam.pki!.cert, key: kam.pki!.key, verify: true } },
    });
    try {
      const o = await strict.send({
        requestUri: kam.uri("tls"),
        to: "sip:bob@example.test",
        from: "sip:bob@example.test",
        fromTag: "strict",
        callId: `kam-strict-${process.pid}`,
        cseq: 1,
        contact: { uri: "sip:bob@127.0.0.1:5080;transport=tls", params: "", expiresSec: 60 },
      });
      assert.equal(o.kind, "transport-error");
      assert.ok(o.kind === "transport-error");
      assert.match(o.error.message, /certificate/i);
    } finally {
      await strict.close();
    }
  });

  it("a wrong password gets a new 401 challenge, not a crash", async () => {
    const req: RegisterRequest = {
      requestUri: kam.uri("udp"),
      to: "sip:alice@example.test",
      from: "sip:alice@example.test",
      fromTag: "wrong",
      callId: `kam-wrong-${process.pid}`,
      cseq: 1,
      contact: { uri: "sip:alice@127.0.0.1:5080", params: "", expiresSec: 60 },
    };
    const first = await stack.send(req);
    assert.ok(first.kind === "response");
    const auth = answerChallenge(
      first.response,
      { username: "alice", password: "nope" },
      { method: "REGISTER", uri: req.requestUri },
    );
    assert.ok(auth.ok);
    const second = await stack.send({ ...req, cseq: 2, authorization: { header: auth.header, value: auth.value } });
    assert.equal(status(second), 401);
  });
});
