import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseRabbitmqSocket, redactRabbitmqSocket } from "../../../src/events/rabbitmq-socket.js";

function ok(socket: string) {
  const r = parseRabbitmqSocket(socket);
  assert.ok(r.ok, `${socket}: ${r.ok ? "" : r.error}`);
  return r.target;
}

describe("RabbitMQ socket", () => {
  it("reads OpenSIPS's grammar with its defaults and prints it back as subscribers_list does", () => {
    const t = ok("rabbitmq:guest:guest@127.0.0.1:5672/opensips_registrant");
    assert.deepEqual(t.connection, {
      protocol: "amqp",
      hostname: "127.0.0.1",
      port: 5672,
      username: "guest",
      password: "guest",
      vhost: "/",
      heartbeat: 0,
    });
    assert.equal(t.exchange, "");
    assert.equal(t.routingKey, "opensips_registrant");
    assert.equal(t.persistent, false);
    assert.equal(t.printed, "rabbitmq:guest@127.0.0.1/opensips_registrant");

    const topic = ok("rabbitmq:guest:guest@127.0.0.1:5672/exchange=amq.topic?opensips.registrant.registered");
    assert.equal(topic.exchange, "amq.topic");
    assert.equal(topic.routingKey, "opensips.registrant.registered");
    assert.equal(topic.printed, "rabbitmq:guest@127.0.0.1/amq.topic?opensips.registrant.registered");
  });

  it("takes every documented form", () => {
    const bare = ok("rabbitmq:127.0.0.1/pike");
    assert.equal(bare.connection.username, "guest");
    assert.equal(bare.connection.password, "guest");
    const p = ok("rabbitmq:u:p%40ss@mq.example.com/exchange=opensips;persistent?sip.events");
    assert.equal(p.connection.password, "p@ss");
    assert.equal(p.persistent, true);
    assert.equal(p.exchange, "opensips");
    const tls = ok("rabbitmq:127.0.0.1/tls_domain=rmq?pike");
    assert.equal(tls.connection.protocol, "amqps");
    assert.equal(tls.connection.port, 5671);
    assert.equal(tls.connection.tlsDomain, "rmq");
    const emptyKey = ok("rabbitmq:u:p@1.1.1.1:5672/exchange=events.user.reg?");
    assert.equal(emptyKey.routingKey, "");
    assert.equal(ok("rabbitmq:u@[::1]:5673/q").connection.hostname, "::1");
    assert.equal(ok("rabbitmq:u@h:5673/q").printed, "rabbitmq:u@h:5673/q");
  });

  it("refuses what OpenSIPS refuses", () => {
    for (const bad of [
      "rabbitmq:127.0.0.1",
      "rabbitmq:127.0.0.1/",
      "rabbitmq:127.0.0.1/bogus=1?key",
      "rabbitmq:127.0.0.1/exchange=?key",
      "rabbitmq:127.0.0.1:99999/key",
      "rabbitmq:/key",
      "udp:127.0.0.1:8888",
    ]) {
      assert.equal(parseRabbitmqSocket(bad).ok, false, bad);
    }
  });

  it("reads amqp:// and amqps:// URIs with a vhost", () => {
    const t = ok(
      "amqps://ev:secret@mq.example.com/prod%2Fsip?exchange=reg&routing_key=registrant.events&persistent&heartbeat=10",
    );
    assert.deepEqual(t.connection, {
      protocol: "amqps",
      hostname: "mq.example.com",
      port: 5671,
      username: "ev",
      password: "secret",
      vhost: "prod/sip",
      heartbeat: 10,
    });
    assert.equal(t.exchange, "reg");
    assert.equal(t.routingKey, "registrant.events");
    assert.equal(t.persistent, true);
    assert.ok(!t.printed.includes("secret"));
    assert.equal(ok("amqp://127.0.0.1?routing_key=q").connection.vhost, "/");
    assert.equal(parseRabbitmqSocket("amqp://127.0.0.1/v").ok, false);
    assert.equal(parseRabbitmqSocket("amqp://127.0.0.1/v?routing_key=q&x=1").ok, false);
  });
});

describe("redactRabbitmqSocket", () => {
  it("hides the password up to the last '@' of the authority, and nothing else", () => {
    assert.equal(redactRabbitmqSocket("rabbitmq:u:p@ss@h:5673/ex?key"), "rabbitmq:u:***@h:5673/ex?key");
    assert.equal(redactRabbitmqSocket("rabbitmq:u@h/key"), "rabbitmq:u@h/key");
    assert.equal(redactRabbitmqSocket("rabbitmq:h/a@b:c"), "rabbitmq:h/a@b:c");
    assert.equal(redactRabbitmqSocket("amqps://u:p%40w@h/vh?routing_key=a@b"), "amqps://u:***@h/vh?routing_key=a@b");
    assert.equal(redactRabbitmqSocket("amqp://h?routing_key=k"), "amqp://h?routing_key=k");
    assert.equal(redactRabbitmqSocket("udp:u:p@h/x"), "udp:u:p@h/x");
  });
});
