import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import type { Socket } from "node:dgram";
import { after, before, describe, it } from "node:test";
import type { RegisterRequest, SendOutcome } from "../../../src/sip/sip-client.js";
import { SipStack } from "../../../src/sip/sip-stack.js";
import type { WireEvent } from "../../../src/sip/sip-stack.js";

/** A registrar that answers every REGISTER with a 200 carrying the request's Via, From, To, Call-ID and CSeq. */
function answering200(): Promise<{ socket: Socket; port: number }> {
  const socket = createSocket("udp4");
  socket.on("message", (msg, rinfo) => {
    const echoed = msg
      .toString("latin1")
      .split("\r\n")
      .filter((line) => /^(Via|From|To|Call-ID|CSeq):/i.test(line));
    const reply = ["SIP/2.0 200 OK", ...echoed, "Content-Length: 0", "", ""].join("\r\n");
    socket.send(reply, rinfo.port, rinfo.address);
  });
  return new Promise((resolve) => socket.bind(0, "127.0.0.1", () => resolve({ socket, port: socket.address().port })));
}

function request(port: number, i: number, forcedSocket?: string): RegisterRequest {
  return {
    requestUri: `sip:127.0.0.1:${port}`,
    forcedSocket,
    to: `sip:u${i}@example.test`,
    from: `sip:u${i}@example.test`,
    fromTag: `t${i}`,
    callId: `c${i}`,
    cseq: 1,
    contact: { uri: `sip:u${i}@127.0.0.1:5080`, params: "", expiresSec: 3600 },
  };
}

describe("SipStack.start (the callback way to send)", () => {
  let registrar: { socket: Socket; port: number };
  let stack: SipStack;
  const wire: string[] = [];

  before(async () => {
    registrar = await answering200();
    stack = await SipStack.start({
      listen: ["udp:127.0.0.1:0"],
      onWire: (e: WireEvent) => wire.push(e.direction === "out" ? `out ${e.bytes.length > 0}` : `in ${e.result}`),
    });
  });
  after(async () => {
    await stack.close();
    registrar.socket.close();
  });

  it("an outcome known at once is told after start returns", async () => {
    let returned = false;
    const outcome = await new Promise<SendOutcome>((resolve) => {
      stack.start(request(registrar.port, 1, "udp:10.9.9.9:5060"), (o) => {
        assert.ok(returned, "done called from within start");
        resolve(o);
      });
      returned = true;
    });
    assert.equal(outcome.kind, "transport-error");
  });

  it("the response is traced before the request its outcome sets off", async () => {
    wire.length = 0;
    const statuses = await new Promise<number[]>((resolve) => {
      const seen: number[] = [];
      stack.start(request(registrar.port, 2), (first) => {
        seen.push(first.kind === "response" ? first.response.status : 0);
        stack.start(request(registrar.port, 3), (second) => {
          seen.push(second.kind === "response" ? second.response.status : 0);
          resolve(seen);
        });
      });
    });
    assert.deepEqual(statuses, [200, 200]);
    assert.deepEqual(wire, ["out true", "in delivered", "out true", "in delivered"]);
    assert.equal(stack.stats().inFlight, 0);
  });

  it("send() still resolves with the one outcome", async () => {
    const outcome = await stack.send(request(registrar.port, 4));
    assert.equal(outcome.kind === "response" && outcome.response.status, 200);
  });
});
