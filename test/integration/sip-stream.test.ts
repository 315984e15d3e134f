import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import type { Server, Socket } from "node:net";
import { headerValue } from "../../src/sip/message.js";
import { parseMessage } from "../../src/sip/parse.js";
import type { RegisterRequest } from "../../src/sip/sip-client.js";
import { SipStack } from "../../src/sip/sip-stack.js";
import { freePort } from "../support/ports.js";
import { until } from "../support/until.js";
import { cleanupsAfterAll } from "../support/cleanups.js";

const cleanups = cleanupsAfterAll();

interface RawRegistrar {
  readonly port: number;
  /** request lines received */
  readonly requests: string[];
  readonly connections: Socket[];
  readonly closed: () => number;
}

/** A scripted TCP peer: answers 200, or breaks the connection as soon as a request arrives. */
async function rawRegistrar(mode: "answer" | "reset"): Promise<RawRegistrar> {
  const connections: Socket[] = [];
  const requests: string[] = [];
  let closed = 0;
  const server: Server = createServer((socket) => {
    connections.push(socket);
    socket.on("close", () => closed++);
    socket.on("error", () => undefined);
    let buf = "";
    socket.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      for (let end = buf.indexOf("\r\n\r\n"); end >= 0; end = buf.indexOf("\r\n\r\n")) {
        const text = buf.slice(0, end + 4);
        buf = buf.slice(end + 4);
        requests.push(text.slice(0, text.indexOf("\r\n")));
        if (mode === "reset") {
          socket.resetAndDestroy();
          return;
        }
        const p = parseMessage(Buffer.from(text, "latin1"));
        if (!p.ok) continue;
        const h = (n: string) => headerValue(p.message, n) ?? "";
        socket.write(
          `SIP/2.0 200 OK\r\nVia: ${h("via")}\r\nFrom: ${h("from")}\r\nTo: ${h("to")};tag=raw\r\nCall-ID: ${h("call-id")}\r\n` +
            `CSeq: ${h("cseq")}\r\nContent-Length: 0\r\n\r\n`,
        );
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  cleanups.push(async () => {
    for (const c of connections) c.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  const addr = server.address();
  return { port: typeof addr === "object" && addr ? addr.port : 0, requests, connections, closed: () => closed };
}

function register(port: number, cseq: number, transport = "tcp"): RegisterRequest {
  return {
    requestUri: `sip:127.0.0.1:${port};transport=${transport}`,
    to: "sip:olga@example.test",
    from: "sip:olga@example.test",
    fromTag: "olga",
    callId: "stream-olga",
    cseq,
    contact: { uri: "sip:olga@127.0.0.1:5080;transport=tcp", params: "", expiresSec: 60 },
  };
}

async function stack(idleMs = 60_000): Promise<SipStack> {
  const s = await SipStack.start({
    listen: ["tcp:127.0.0.1:0", "udp:127.0.0.1:0"],
    idleMs,
    timers: { timerF: 20_000 },
  });
  cleanups.push(() => s.close());
  return s;
}

describe("TCP connections", () => {
  it("are reused per destination and closed after the idle time", async () => {
    const reg = await rawRegistrar("answer");
    // long enough that a stalled CI machine does not close it between two REGISTERs
    const s = await stack(2_000);
    for (let cseq = 1; cseq <= 3; cseq++) {
      const o = await s.send(register(reg.port, cseq));
      assert.ok(o.kind === "response" && o.response.status === 200, o.kind);
    }
    assert.equal(reg.connections.length, 1, "one connection for three REGISTERs");
    assert.equal(s.stats().connections, 1);
    await until("the idle connection to close", () => reg.closed() === 1, 30_000);
    await until("the stack to forget it", () => s.stats().connections === 0, 10_000);
  });

  it("a connection broken by the peer fails its transaction at once, not at Timer F", async () => {
    const reg = await rawRegistrar("reset");
    const s = await stack();
    const started = performance.now();
    const o = await s.send(register(reg.port, 1));
    assert.equal(o.kind, "transport-error");
    assert.ok(o.kind === "transport-error" && o.error instanceof Error);
    assert.ok(performance.now() - started < 10_000, "well before the 20 s Timer F");
    assert.equal(s.stats().transportErrors, 1);
    assert.equal(s.stats().inFlight, 0);
  });

  it("a refused connection is a transport error naming the destination", async () => {
    const s = await stack();
    const port = await freePort();
    const o = await s.send(register(port, 1));
    assert.equal(o.kind, "transport-error");
    assert.ok(o.kind === "transport-error");
    assert.equal(o.destination?.port, port);
    assert.equal((o.error as { code?: string }).code, "SIP_TRANSPORT");
  });

  it("a request over the UDP size limit goes over TCP when a TCP socket exists (§18.1.1)", async () => {
    const reg = await rawRegistrar("answer");
    const s = await SipStack.start({ listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"], udpSizeLimit: 200 });
    cleanups.push(() => s.close());
    const o = await s.send({ ...register(reg.port, 1), requestUri: `sip:127.0.0.1:${reg.port}` });
    assert.ok(o.kind === "response" && o.response.status === 200);
    assert.equal(o.destination.transport, "tcp");
    assert.ok(o.destination.socket.startsWith("tcp:127.0.0.1:"));
  });
});

describe("outbound proxy", () => {
  it("is the next hop and picks the transport; the Request-URI stays the registrar", async () => {
    const proxy = await rawRegistrar("answer");
    const s = await stack();
    const o = await s.send({
      ...register(0, 1),
      requestUri: "sip:registrar.invalid",
      proxy: `sip:127.0.0.1:${proxy.port};transport=tcp;lr`,
    });
    assert.ok(o.kind === "response" && o.response.status === 200, o.kind);
    assert.equal(o.destination.port, proxy.port);
    assert.equal(o.destination.transport, "tcp");
    assert.deepEqual(proxy.requests, ["REGISTER sip:registrar.invalid SIP/2.0"]);
  });
});

describe("forced_socket", () => {
  it("not configured → a transport-error outcome with SocketNotConfiguredError, the stack keeps working", async () => {
    const s = await stack();
    assert.equal(s.hasSocket("udp:10.9.9.9:5060"), false);
    const o = await s.send({ ...register(5060, 1), forcedSocket: "udp:10.9.9.9:5060" });
    assert.equal(o.kind, "transport-error");
    assert.ok(o.kind === "transport-error");
    assert.equal((o.error as { code?: string }).code, "SIP_SOCKET_NOT_CONFIGURED");
    const reg = await rawRegistrar("answer");
    const ok = await s.send(register(reg.port, 2));
    assert.equal(ok.kind, "response");
  });

  it("picks the socket the request leaves from, and decides the transport when the URI leaves it open", async () => {
    const reg = await rawRegistrar("answer");
    const s = await SipStack.start({ listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0", "tcp:127.0.0.2:0"] });
    cleanups.push(() => s.close());
    const second = s.socketNames()[2]!;
    assert.ok(s.hasSocket(second));
    const o = await s.send({ ...register(reg.port, 1), requestUri: `sip:127.0.0.1:${reg.port}`, forcedSocket: second });
    assert.ok(o.kind === "response");
    assert.equal(o.destination.socket, second);
    assert.equal(o.destination.transport, "tcp");
    assert.equal(reg.connections[0]?.remoteAddress, "127.0.0.2");
  });

  it("a hop and a forced socket looked up once still answer per request: forced or not, in any order", async () => {
    const reg = await rawRegistrar("answer");
    // a UDP peer on the TCP peer's port number: the same Request-URI reaches one or the other by transport
    const { createSocket } = await import("node:dgram");
    const udp = createSocket("udp4");
    await new Promise<void>((resolve) => udp.bind(reg.port, "127.0.0.1", resolve));
    cleanups.push(() => new Promise<void>((resolve) => udp.close(() => resolve())));
    udp.on("message", (m, r) => {
      const p = parseMessage(m);
      if (!p.ok) return;
      const h = (n: string) => headerValue(p.message, n) ?? "";
      udp.send(
        `SIP/2.0 200 OK\r\nVia: ${h("via")}\r\nFrom: ${h("from")}\r\nTo: ${h("to")};tag=u\r\nCall-ID: ${h("call-id")}\r\n` +
          `CSeq: ${h("cseq")}\r\nContent-Length: 0\r\n\r\n`,
        r.port,
        r.address,
      );
    });
    const s = await SipStack.start({ listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"] });
    cleanups.push(() => s.close());
    const tcp = s.socketNames()[1]!;
    const requestUri = `sip:127.0.0.1:${reg.port}`;
    const seen: string[] = [];
    for (const [i, forcedSocket] of [
      tcp,
      undefined,
      tcp,
      undefined,
      "udp:10.9.9.9:5060",
      "udp:10.9.9.9:5060",
    ].entries()) {
      const o = await s.send({ ...register(reg.port, i + 1), requestUri, ...(forcedSocket ? { forcedSocket } : {}) });
      seen.push(o.kind === "response" ? o.destination.transport : o.kind);
    }
    assert.deepEqual(seen, ["tcp", "udp", "tcp", "udp", "transport-error", "transport-error"]);
  });
});

describe("IPv6", () => {
  it("REGISTER over UDP and TCP to [::1], Via sent-by in brackets, destination and socket in OpenSIPS form", async () => {
    const { createSocket } = await import("node:dgram");
    const udp = createSocket({ type: "udp6", ipv6Only: true });
    const seen: string[] = [];
    udp.on("message", (m, r) => {
      const p = parseMessage(m);
      if (!p.ok) return;
      seen.push(headerValue(p.message, "via") ?? "");
      const h = (n: string) => headerValue(p.message, n) ?? "";
      udp.send(
        `SIP/2.0 200 OK\r\nVia: ${h("via")}\r\nFrom: ${h("from")}\r\nTo: ${h("to")};tag=v6\r\nCall-ID: ${h("call-id")}\r\n` +
          `CSeq: ${h("cseq")}\r\nContent-Length: 0\r\n\r\n`,
        r.port,
        r.address,
      );
    });
    await new Promise<void>((r) => udp.bind(0, "::1", () => r()));
    cleanups.push(async () => {
      udp.close();
    });
    const s = await SipStack.start({ listen: ["udp:[::1]:0", "tcp:[::1]:0"] });
    cleanups.push(() => s.close());
    const o = await s.send({ ...register(udp.address().port, 1), requestUri: `sip:[::1]:${udp.address().port}` });
    assert.ok(o.kind === "response" && o.response.status === 200, o.kind);
    assert.equal(o.destination.address, "::1");
    assert.match(o.destination.socket, /^udp:\[::1\]:\d+$/);
    assert.match(seen[0] ?? "", /^SIP\/2\.0\/UDP \[::1\]:\d+;branch=z9hG4bK[^;]+;rport$/);
    assert.ok(s.hasSocket(o.destination.socket));
  });
});
