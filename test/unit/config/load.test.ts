import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../../src/errors.js";
import { mergeConfig, redactConfig, resolveConfig, validateConfig } from "../../../src/config/load.js";

function refused(input: unknown): string {
  try {
    validateConfig(input);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, "CONFIG_INVALID");
    return err.message;
  }
  assert.fail(`accepted ${JSON.stringify(input)}`);
}

describe("validateConfig: OpenSIPS start-up checks (reference §2, §3.6)", () => {
  const cases: [string, unknown, RegExp][] = [
    [
      "timer_interval < 10",
      { timer_interval: 9 },
      /^invalid configuration: \/timer_interval: .*"timer_interval to short: \[9\]<10"/,
    ],
    ["default_expires < 15", { default_expires: 14 }, /\/default_expires: .*"default_expires to short: \[14\]<15"/],
    ["percentage 0", { reregister_expiry_percentage: 0 }, /\/reregister_expiry_percentage: .*\(0\.\.\.100\] range/],
    ["percentage 101", { reregister_expiry_percentage: 101 }, /\/reregister_expiry_percentage: must be <= 100/],
    [
      "timer_interval below the bucket count",
      { hash_size: 5, timer_interval: 31 },
      /\/timer_interval: .*"timer_interval=\[31\] MUST be at least as big as reg_hsize=\[32\]"/,
    ],
    [
      "hash_size > 20",
      { hash_size: 21 },
      /\/hash_size: must be <= 20.*OpenSIPS only logs: "Wrong hash size: 20<\[21\]<1"/,
    ],
    ["negative failure_retry_interval", { failure_retry_interval: -1 }, /\/failure_retry_interval: must be >= 0/],
    ["enable_clustering 2", { enable_clustering: 2 }, /\/enable_clustering: must be <= 1/],
    ["a float", { timer_interval: 10.5 }, /\/timer_interval: must be an integer, got 10.5/],
  ];
  for (const [name, input, expected] of cases) {
    it(`refuses ${name}`, () => assert.match(refused(input), expected));
  }

  it("accepts timer_interval equal to the bucket count", () => {
    assert.equal(validateConfig({ hash_size: 4, timer_interval: 16 }).config.timer_interval, 16);
  });

  it("accepts hash_size 0 with OpenSIPS's warning (one bucket)", () => {
    const { config, warnings } = validateConfig({ hash_size: 0 });
    assert.equal(config.hash_size, 0);
    assert.deepEqual(warnings, ["hash_size: Wrong hash size: 20<[0]<1 (using 1 bucket)"]);
  });
});

describe("validateConfig: names the key and the problem", () => {
  it("lists every problem, one line each, with its JSON pointer", () => {
    const message = refused({ timer_interval: "100", mi_http: { port: 70000 }, listen: [] });
    assert.match(message, /^invalid configuration \(3 problems\):\n/);
    assert.match(message, /\n {2}\/timer_interval: must be an integer, got "100"/);
    assert.match(message, /\n {2}\/mi_http\/port: must be <= 65535, got 70000/);
    assert.match(message, /\n {2}\/listen: /);
  });

  it("suggests the key an unknown one was meant to be", () => {
    assert.match(
      refused({ timer_intervall: 100 }),
      /\/timer_intervall: unknown key \(did you mean "timer_interval"\?\)/,
    );
    assert.match(refused({ mi_http: { prot: 1 } }), /\/mi_http\/prot: unknown key \(did you mean "port"\?\)/);
    assert.match(refused({ zzzzzzzz: 1 }), /\/zzzzzzzz: unknown key$/);
  });

  it("refuses sockets that are not OpenSIPS socket strings", () => {
    assert.match(refused({ listen: ["127.0.0.1:5060"] }), /\/listen\/0: must be an OpenSIPS socket/);
    assert.match(refused({ listen: ["ws:127.0.0.1:80"] }), /\/listen\/0: /);
    assert.match(
      refused({ listen: ["udp:127.0.0.1:5060", "udp:127.0.0.1"] }),
      /\/listen\/1: udp:127.0.0.1:5060 is listed twice/,
    );
  });

  it("refuses unsupported db_url schemes without echoing the password", () => {
    const message = refused({ db_url: "postgres://u:topsecret@h/db" });
    assert.match(message, /\/db_url: must be mysql:\/\/user:password@host\[:port\]\/database or text:/);
    assert.match(message, /postgres:\/\/u:\*\*\*@h\/db/);
    assert.doesNotMatch(message, /topsecret/);
  });

  it("never echoes a password or token value", () => {
    const message = refused({
      mi_http: { auth: { username: "u", password: 12345678 } },
      events: { websocket: { token: 987654 } },
    });
    assert.match(message, /\/mi_http\/auth\/password: must be a string, got \(value hidden\)/);
    assert.match(message, /\/events\/websocket\/token: must be a string, got \(value hidden\)/);
    assert.doesNotMatch(message, /12345678|987654/);
  });

  it("refuses a required key missing from an object", () => {
    assert.match(refused({ mi_http: { auth: { username: "u" } } }), /\/mi_http\/auth\/password: is required/);
    assert.match(
      refused({ events: { subscribe: [{ event: "E_REGISTRANT_REGISTERED" }] } }),
      /\/events\/subscribe\/0\/socket: is required/,
    );
  });

  it("refuses events other than the nine E_REGISTRANT_* and non-AMQP sockets", () => {
    const message = refused({ events: { subscribe: [{ event: "E_CORE_LOG", socket: "udp:127.0.0.1:9" }] } });
    assert.match(message, /\/events\/subscribe\/0\/event: must be one of "E_REGISTRANT_REGISTERING"/);
    assert.match(message, /\/events\/subscribe\/0\/socket: must be rabbitmq:/);
  });

  it("refuses a subscription socket the RabbitMQ parser refuses, and a tls_domain without tls options", () => {
    assert.match(
      refused({ events: { subscribe: [{ event: "E_REGISTRANT_REGISTERED", socket: "rabbitmq:h/bogus=1?q" }] } }),
      /\/events\/subscribe\/0\/socket: /,
    );
    assert.match(
      refused({ events: { subscribe: [{ event: "E_REGISTRANT_REGISTERED", socket: "rabbitmq:h/tls_domain=rmq?q" }] } }),
      /\/events\/subscribe\/0\/socket: tls_domain=rmq has no entry in tls/,
    );
  });

  it("refuses tls options for a socket that is not listened on", () => {
    assert.equal(validateConfig({ tls: { rmq: { verify: false } } }).config.tls["rmq"]?.verify, false, "a TLS domain");
    assert.match(
      refused({ tls: { "tls:1.2.3.4:5061": {} } }),
      /\/tls\/tls:1.2.3.4:5061: tls:1.2.3.4:5061 is not one of the listen sockets/,
    );
  });

  it("refuses the websocket on mi_http's own address", () => {
    assert.match(
      refused({ mi_http: { port: 9000 }, events: { websocket: { port: 9000 } } }),
      /\/events\/websocket\/port: 127.0.0.1:9000 is also mi_http's address/,
    );
    assert.equal(validateConfig({ mi_http: { port: 0 }, events: { websocket: { port: 0 } } }).config.mi_http.port, 0);
  });

  it("refuses a UNIX mi_datagram socket (UDP only)", () => {
    assert.match(
      refused({ mi_datagram: { socket_name: "unix:/tmp/opensips.sock" } }),
      /\/mi_datagram\/socket_name: must be udp:IP:PORT/,
    );
  });

  it("refuses SQL identifiers that are not plain names", () => {
    assert.match(refused({ table_name: "registrant; drop table x" }), /\/table_name: must be an SQL identifier/);
    assert.match(refused({ aor_column: "" }), /\/aor_column: must be an SQL identifier/);
  });
});

describe("validateConfig: normalisation", () => {
  it("adds OpenSIPS's default ports to sockets without one", () => {
    const { config } = validateConfig({
      listen: ["udp:10.0.0.1", "tcp:[::1]", "tls:192.0.2.1", "udp:10.0.0.1:5080"],
      tls: { "tls:192.0.2.1": { verify: false } },
    });
    assert.deepEqual(config.listen, ["udp:10.0.0.1:5060", "tcp:[::1]:5060", "tls:192.0.2.1:5061", "udp:10.0.0.1:5080"]);
    assert.deepEqual(config.tls, { "tls:192.0.2.1:5061": { verify: false } });
  });

  it("fills nested defaults around given values and drops $schema", () => {
    const { config } = validateConfig({
      $schema: "../schemas/config.schema.json",
      mi_http: { port: 9999 },
      tls: { "tls:1.2.3.4:5061": {} },
      listen: ["tls:1.2.3.4:5061"],
    });
    assert.deepEqual(config.mi_http, { enabled: true, ip: "127.0.0.1", port: 9999, root: "mi" });
    assert.deepEqual(config.tls["tls:1.2.3.4:5061"], { verify: true });
    assert.ok(!("$schema" in config));
  });

  it("does not modify its input", () => {
    const input = { mi_http: { port: 9999 } };
    validateConfig(input);
    assert.deepEqual(input, { mi_http: { port: 9999 } });
  });
});

describe("mergeConfig / redactConfig", () => {
  it("merges objects deeply and replaces arrays", () => {
    assert.deepEqual(mergeConfig({ a: 1, o: { x: 1, y: 2 }, l: [1, 2] }, { o: { y: 3 }, l: [9] }), {
      a: 1,
      o: { x: 1, y: 3 },
      l: [9],
    });
  });

  it("hides every secret", () => {
    const { config } = validateConfig({
      db_url: "mysql://u:dbpw@h/db",
      mi_http: { auth: { username: "u", password: "httppw" } },
      events: {
        subscribe: [{ event: "E_REGISTRANT_REGISTERED", socket: "rabbitmq:u:mqpw@h/q" }],
        websocket: { token: "wstoken" },
      },
    });
    const text = JSON.stringify(redactConfig(config));
    for (const secret of ["dbpw", "httppw", "mqpw", "wstoken"]) assert.ok(!text.includes(secret), secret);
    assert.match(text, /mysql:\/\/u:\*\*\*@h\/db/);
  });

  it("hides a password holding '@' or '/' whole, where the parsers end it", () => {
    const { config } = validateConfig({
      db_url: "mysql://u:p@ss/w0rd@h/db",
      events: {
        subscribe: [
          { event: "E_REGISTRANT_REGISTERED", socket: "rabbitmq:u:mq@pw@h/q" },
          { event: "E_REGISTRANT_REGISTERED", socket: "amqp://u:am@qp@h/?routing_key=k" },
        ],
      },
    });
    const shown = redactConfig(config);
    assert.equal(shown.db_url, "mysql://u:***@h/db");
    assert.deepEqual(
      shown.events.subscribe.map((s) => s.socket),
      ["rabbitmq:u:***@h/q", "amqp://u:***@h/?routing_key=k"],
    );
  });
});

describe("resolveConfig: files", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "registrantd-config-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("names the line and column of a JSON syntax error", async () => {
    const file = join(dir, "bad.json");
    writeFileSync(file, '{\n  "timer_interval": 100,\n  "hash_size": ,\n}\n');
    await assert.rejects(resolveConfig({ config: file }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, new RegExp(`${file}: not valid JSON: line 3 column 16`));
      return true;
    });
  });

  it("names a file it cannot read", async () => {
    await assert.rejects(
      resolveConfig({ config: join(dir, "missing.json") }),
      /cannot read config file .*missing\.json/,
    );
  });

  it("takes opensips.cfg values, lets the JSON file override them, and names where a bad value came from", async () => {
    const cfg = join(dir, "opensips.cfg");
    writeFileSync(
      cfg,
      'modparam("uac_registrant", "timer_interval", 5)\nmodparam("uac_registrant", "hash_size", 2)\nloadmodule "uac_registrant.so"\n',
    );
    await assert.rejects(
      resolveConfig({ opensipsCfg: cfg }),
      /\/timer_interval: .* \(from .*opensips\.cfg:1: modparam\("uac_registrant", "timer_interval", 5\)\)/,
    );
    const json = join(dir, "override.json");
    writeFileSync(json, JSON.stringify({ timer_interval: 60 }));
    const { config } = await resolveConfig({ opensipsCfg: cfg, config: json });
    assert.equal(config.timer_interval, 60);
    assert.equal(config.hash_size, 2);
    writeFileSync(json, JSON.stringify({ timer_interval: 7 }));
    await assert.rejects(resolveConfig({ opensipsCfg: cfg, config: json }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.doesNotMatch(err.message, /opensips\.cfg/);
      return true;
    });
  });
});
