import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { TransportError } from "../../../src/errors.js";
import { ipLiteralLookup, UdpTransport } from "../../../src/sip/transport/udp.js";

const LOCAL = { proto: "udp", host: "127.0.0.1", port: 0, family: 4 } as const;

describe("UdpTransport", () => {
  it("sends datagrams and hands received ones over with the sender's address and port", async () => {
    const peer = createSocket("udp4");
    await new Promise<void>((resolve) => peer.bind(0, "127.0.0.1", resolve));
    const received: [string, string, number][] = [];
    let heard: () => void = () => undefined;
    const udp = await UdpTransport.bind(LOCAL, (data, address, port) => {
      received.push([data.toString(), address, port]);
      heard();
    });
    try {
      const failures: TransportError[] = [];
      const arrived = once(peer, "message");
      udp.send(
        Buffer.from("ping"),
        { address: "127.0.0.1", port: peer.address().port },
        { failed: (e) => failures.push(e) },
      );
      const [data, rinfo] = (await arrived) as [Buffer, { port: number }];
      assert.equal(data.toString(), "ping");
      assert.equal(rinfo.port, udp.spec.port);
      const answered = new Promise<void>((resolve) => (heard = resolve));
      peer.send("pong", udp.spec.port, "127.0.0.1");
      await answered;
      assert.deepEqual(received, [["pong", "127.0.0.1", peer.address().port]]);
      assert.deepEqual(failures, []);
    } finally {
      peer.close();
      await udp.close();
    }
  });

  it("a datagram that cannot be sent is reported to the sink as a TransportError, never thrown", async () => {
    const udp = await UdpTransport.bind(LOCAL, () => undefined);
    try {
      const failures: TransportError[] = [];
      udp.send(Buffer.from("x"), { address: "127.0.0.1", port: 0 }, { failed: (e) => failures.push(e) });
      assert.equal(failures.length, 1);
      assert.ok(failures[0] instanceof TransportError);
      assert.match(failures[0].message, /^udp send to 127\.0\.0\.1:0 failed/);
    } finally {
      await udp.close();
    }
  });

  it("a hostname is resolved before the datagram goes out", async () => {
    const peer = createSocket("udp4");
    await new Promise<void>((resolve) => peer.bind(0, "127.0.0.1", resolve));
    const udp = await UdpTransport.bind(LOCAL, () => undefined);
    try {
      const failures: TransportError[] = [];
      const arrived = once(peer, "message");
      udp.send(
        Buffer.from("by name"),
        { address: "localhost", port: peer.address().port },
        { failed: (e) => failures.push(e) },
      );
      const [data] = (await arrived) as [Buffer];
      assert.equal(data.toString(), "by name");
      assert.deepEqual(failures, []);
    } finally {
      peer.close();
      await udp.close();
    }
  });

  it("a hostname that does not resolve is reported to the sink", async () => {
    const udp = await UdpTransport.bind(LOCAL, () => undefined);
    try {
      const failure = new Promise<TransportError>((resolve) =>
        udp.send(Buffer.from("x"), { address: "no-such-host.invalid", port: 5060 }, { failed: resolve }),
      );
      const error = await failure;
      assert.ok(error instanceof TransportError);
      assert.match(error.message, /^udp send to no-such-host\.invalid:5060 failed/);
    } finally {
      await udp.close();
    }
  });

  it("a send the socket refuses after the call (IPv6 address, IPv4 socket) is reported to the sink", async () => {
    const udp = await UdpTransport.bind(LOCAL, () => undefined);
    try {
      const failure = new Promise<TransportError>((resolve) =>
        udp.send(Buffer.from("x"), { address: "::1", port: 5060 }, { failed: resolve }),
      );
      const error = await failure;
      assert.ok(error instanceof TransportError);
      assert.match(error.message, /^udp send to ::1:5060 failed/);
    } finally {
      await udp.close();
    }
  });

  it("the socket's lookup answers an IP literal before it returns, without dns.lookup's tick", () => {
    const answers: [string, number][] = [];
    ipLiteralLookup("192.0.2.7", {}, (err, address, family) => {
      assert.equal(err, null);
      answers.push([address, family]);
    });
    ipLiteralLookup("2001:db8::1", {}, (err, address, family) => {
      assert.equal(err, null);
      answers.push([address, family]);
    });
    assert.deepEqual(answers, [
      ["192.0.2.7", 4],
      ["2001:db8::1", 6],
    ]);
  });
});
