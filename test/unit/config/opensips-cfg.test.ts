import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parseOpensipsCfg, readOpensipsCfg } from "../../../src/config/opensips-cfg.js";
import { validateConfig } from "../../../src/config/load.js";

const fixture = (name: string): string =>
  fileURLToPath(new URL(`../../fixtures/opensips-cfg/${name}`, import.meta.url));

/** parse + validate, as `registrantd --opensips-cfg` does */
function effective(name: string) {
  const cfg = readOpensipsCfg(fixture(name));
  const validated = validateConfig(cfg.config, cfg.origins);
  return { ...cfg, config: validated.config, warnings: [...cfg.warnings, ...validated.warnings] };
}

const parse = (text: string, includes: Record<string, string> = {}) =>
  parseOpensipsCfg(text, "/etc/opensips/opensips.cfg", (path) => includes[path]);

describe("--opensips-cfg fixtures", () => {
  it("docs-example.cfg: the OpenSIPS documentation style", () => {
    const { config, ignored, warnings } = effective("docs-example.cfg");
    assert.equal(config.hash_size, 2);
    assert.equal(config.timer_interval, 120);
    assert.equal(config.db_url, "mysql://opensips:opensipsrw@localhost/opensips");
    assert.deepEqual(config.listen, ["udp:127.0.0.1:5060"]);
    assert.equal(config.tm.fr_timeout, 5);
    assert.deepEqual(config.mi_fifo, { enabled: true, fifo_name: "/run/opensips/opensips_fifo", reply_dir: "/tmp/" });
    assert.equal(config.mi_http.enabled, false, "mi_http.so is not loaded");
    assert.equal(config.mi_datagram.enabled, false);
    assert.equal(config.failure_retry_interval, 0, "untouched modparams keep OpenSIPS's default");
    assert.deepEqual(warnings, []);
    assert.deepEqual(ignored, [
      "modules: signaling, sl, rr, maxfwd, sipmsgops, db_mysql, proto_udp",
      "modparams: tm(fr_inv_timeout, restart_fr_on_each_reply, onreply_avp_mode), rr(append_fromtag), mi_fifo(fifo_mode)",
      "core: log_level, stderror_enabled, syslog_enabled, syslog_facility, udp_workers",
      "script: route, failure_route",
    ]);
  });

  it("production.cfg: #!define values, db_default_url, several sockets, all three MI transports", () => {
    const { config, ignored, warnings } = effective("production.cfg");
    assert.equal(config.db_url, "mysql://opensips:S3cr3t%40pw@db.internal:3307/opensips");
    assert.deepEqual(config.listen, [
      "udp:10.0.0.5:5060",
      "tcp:10.0.0.5:5060",
      "tls:10.0.0.5:5061",
      "udp:[2001:db8::5]:5060",
      "udp:127.0.0.1:5090",
    ]);
    assert.equal(config.hash_size, 3, "#!trydef keeps the first definition");
    assert.equal(config.timer_interval, 60);
    assert.equal(config.failure_retry_interval, 300, "a numeric string given to an int modparam");
    assert.equal(config.reregister_expiry_percentage, 90, "#!else branch of #!ifdef STAGING");
    assert.equal(config.default_expires, 1800);
    assert.equal(config.table_name, "trunk_registrant");
    assert.equal(config.binding_URI_column, "contact");
    assert.equal(config.state_column, "status");
    assert.equal(config.aor_column, "aor");
    assert.equal(config.user_agent, "ACME-SBC 2.1");
    assert.deepEqual(config.tm, { fr_timeout: 10, t1: 250, t2: 2000 });
    assert.deepEqual(config.mi_http, {
      enabled: true,
      ip: "127.0.0.1",
      port: 8899,
      root: "opensips_mi",
      auth: { username: "ops", password: "hunter2" },
    });
    assert.deepEqual(config.mi_fifo, {
      enabled: true,
      fifo_name: "/run/opensips/opensips_fifo",
      reply_dir: "/run/opensips/",
    });
    assert.deepEqual(config.mi_datagram, { enabled: true, socket_name: "udp:127.0.0.1:8090" });
    assert.deepEqual(config.events.subscribe, [
      {
        event: "E_REGISTRANT_REGISTERED",
        socket: "rabbitmq:ops:mqpw@mq.internal/exchange=sip;persistent?trunk.registered",
      },
      {
        event: "E_REGISTRANT_REGISTER_TIMEOUT",
        socket: "rabbitmq:ops:mqpw@mq.internal/exchange=sip;persistent?trunk.timeout",
      },
    ]);
    assert.equal(warnings.length, 2);
    assert.match(
      warnings[0] ?? "",
      /production\.cfg:103: subscribe_event\("E_REGISTRANT_WRONG_CREDENTIALS", "udp:127.0.0.1:9999"\): only rabbitmq:/,
    );
    assert.match(warnings[1] ?? "", /production\.cfg:107: event_route\[E_REGISTRANT_INTERNAL_ERROR\] is script/);
    assert.ok(ignored.some((line) => line.startsWith("modules: db_mysql, signaling, sl, rr")));
    assert.ok(ignored.some((line) => line.includes("ws: sockets") && line.includes("as 203.0.113.10:5060")));
    assert.ok(ignored.includes("subscriptions: E_CORE_PKG_THRESHOLD"));
    assert.ok(ignored.includes("script: event_route[E_REGISTRANT_INTERNAL_ERROR], route x2"));
  });

  it("cpp-style.cfg: #define, include_file, listen= without port, port=, a multi-line call", () => {
    const { config, ignored, warnings } = effective("cpp-style.cfg");
    assert.deepEqual(config.listen, ["udp:192.0.2.1:5080", "tcp:192.0.2.1:5070"]);
    assert.equal(config.db_url, "text:///var/lib/opensips/dbtext", "from the included file");
    assert.equal(config.timer_interval, 30);
    assert.equal(config.mi_http.root, "mi");
    assert.equal(config.mi_http.enabled, true);
    assert.deepEqual(config.events.subscribe, [
      { event: "E_REGISTRANT_REGISTERING", socket: "rabbitmq:127.0.0.1/opensips_registrant" },
    ]);
    assert.deepEqual(ignored, ["modparams: uac_registrant(user_agent)"]);
    assert.deepEqual(warnings, [
      `${fixture("cpp-style.cfg")}:18: uac_registrant has no modparam "user_agent" (OpenSIPS would not start)`,
    ]);
  });

  it("golden-harness.cfg: the setup of the golden captures", () => {
    const { config } = effective("golden-harness.cfg");
    assert.deepEqual(config.listen, ["udp:127.0.0.1:5080", "tcp:127.0.0.1:5080"]);
    assert.equal(config.user_agent, "OpenSIPS-harness");
    assert.equal(config.hash_size, 1);
    assert.equal(config.timer_interval, 10);
    assert.equal(config.tm.fr_timeout, 5);
    assert.equal(config.db_url, "mysql://opensips:opensipsrw@127.0.0.1/opensips", "db_default_url");
    assert.deepEqual(config.mi_http, { enabled: true, ip: "127.0.0.1", port: 8888, root: "mi" });
    assert.equal(config.events.subscribe.length, 10);
    assert.deepEqual(config.events.subscribe[9], {
      event: "E_REGISTRANT_REGISTERED",
      socket: "rabbitmq:guest:guest@127.0.0.1:5672/exchange=amq.topic?opensips.registrant.registered",
    });
  });

  it("too-short-timer.cfg: refused with OpenSIPS's message and the line it came from", () => {
    const cfg = readOpensipsCfg(fixture("too-short-timer.cfg"));
    assert.throws(
      () => validateConfig(cfg.config, cfg.origins),
      /\/timer_interval: must be >= 10, got 5; OpenSIPS refuses it too: "timer_interval to short: \[5\]<10" \(from .*too-short-timer\.cfg:5: modparam\("uac_registrant", "timer_interval", 5\)\)/,
    );
  });

  it("a missing file is a ConfigError naming it", () => {
    assert.throws(
      () => readOpensipsCfg("/nonexistent/opensips.cfg"),
      /cannot read OpenSIPS config \/nonexistent\/opensips\.cfg/,
    );
  });
});

describe("opensips.cfg lexing", () => {
  it("reads strings with escapes, single-quoted strings literally, and nested block comments", () => {
    const { config } = parse(String.raw`
      /* outer /* inner */ modparam("uac_registrant", "table_name", "commented") */
      modparam("uac_registrant", "aor_column", 'a\tor')
      modparam("uac_registrant", "proxy_column", "p\x41\"q")
      modparam('uac_registrant', "username_column", "user" ) ; # trailing comment "with quotes"
      user_agent_header = "User-Agent: A #not-a-comment"
    `);
    assert.equal(config["table_name"], undefined);
    assert.equal(config["aor_column"], String.raw`a\tor`);
    assert.equal(config["proxy_column"], 'pA"q');
    assert.equal(config["username_column"], "user");
    assert.equal(config["user_agent"], "A #not-a-comment");
  });

  it("substitutes #!define names outside strings only, and honours #!ifndef/#!undef", () => {
    const { config } = parse(`
      #!define TI 40
      #!define HOST 192.0.2.7
      #!ifndef TI
      modparam("uac_registrant", "timer_interval", 99)
      #!else
      modparam("uac_registrant", "timer_interval", TI)
      #!endif
      #!undef HOST
      #!define HOST 192.0.2.8
      socket=udp:HOST:5060
      modparam("uac_registrant", "table_name", "TI")
    `);
    assert.equal(config["timer_interval"], 40);
    assert.deepEqual(config["listen"], ["udp:192.0.2.8:5060"]);
    assert.equal(config["table_name"], "TI");
  });

  it("applies a modparam whose module name is a regular expression", () => {
    const { config } = parse(
      `modparam("mi_(fifo|http)", "root", "x")\nmodparam("mi_fifo|mi_datagram", "reply_dir", "/r/")`,
    );
    assert.deepEqual(config["mi_http"], { root: "x", enabled: false });
    assert.equal((config["mi_fifo"] as Record<string, unknown>)["reply_dir"], "/r/");
  });

  it("leaves mi_datagram off, with a warning, when its socket is a UNIX path", () => {
    const { config, warnings } = parse(
      `loadmodule "uac_registrant.so"\nloadmodule "mi_datagram.so"\nmodparam("mi_datagram", "socket_name", "/tmp/opensips.sock")`,
    );
    assert.deepEqual(config["mi_datagram"], { enabled: false });
    assert.deepEqual(warnings, [
      '/etc/opensips/opensips.cfg:3: modparam("mi_datagram", "socket_name", "/tmp/opensips.sock"): UNIX datagram sockets are not served; mi_datagram is off',
    ]);
  });

  it("reads sockets: no proto means udp, IPv6, several lines, unsupported protos dropped", () => {
    const { config, ignored } = parse(`
      listen = 127.0.0.1
      socket = tls:[::1]
      socket = hep_udp:127.0.0.1:9060
      socket = sctp:127.0.0.1:5060
    `);
    assert.deepEqual(config["listen"], ["udp:127.0.0.1:5060", "tls:[::1]:5061"]);
    assert.deepEqual(ignored, ["core: hep_udp: sockets, sctp: sockets"]);
  });

  it("takes uac_registrant's db_url over db_default_url whatever their order", () => {
    const { config, origins } = parse(
      `modparam("uac_registrant", "db_url", "mysql://a:pw@h/one")\ndb_default_url="mysql://b@h/two"`,
    );
    assert.equal(config["db_url"], "mysql://a:pw@h/one");
    assert.equal(
      origins.get("/db_url"),
      `/etc/opensips/opensips.cfg:1: modparam("uac_registrant", "db_url", "mysql://a:***@h/one")`,
    );
  });

  it("follows include_file relative to the including file, warns on a missing one, ignores a missing import_file", () => {
    const { config, warnings } = parse(
      `include_file "conf.d/reg.cfg"\ninclude_file "gone.cfg"\nimport_file "optional.cfg"\n`,
      {
        "/etc/opensips/conf.d/reg.cfg": `modparam("uac_registrant", "hash_size", 3)\n`,
      },
    );
    assert.equal(config["hash_size"], 3);
    assert.deepEqual(warnings, [
      '/etc/opensips/opensips.cfg:2: cannot read include_file "gone.cfg"',
      "the file does not loadmodule uac_registrant",
    ]);
  });

  it("reports an undefined name given to an integer modparam", () => {
    const { config, warnings } = parse(`modparam("uac_registrant", "hash_size", HASH)`);
    assert.equal(config["hash_size"], "HASH");
    assert.match(warnings[0] ?? "", /HASH is not a number/);
    assert.throws(() => validateConfig(config), /\/hash_size: must be an integer, got "HASH"/);
  });

  it("reads subscribe_event only from the startup_route and skips braces inside strings", () => {
    const { config } = parse(`
      route[x] { xlog("} {"); subscribe_event("E_REGISTRANT_REGISTERED", "rabbitmq:h/route"); }
      startup_route { if ($var(a) == "}") { xlog("x"); }
        subscribe_event("E_REGISTRANT_REGISTERED", "rabbitmq:h/startup", 0);
        if (!subscribe_event("E_REGISTRANT_UNREGISTERING", "rabbitmq:h/negated")) { xlog("failed"); }
      }
    `);
    assert.deepEqual((config["events"] as Record<string, unknown>)["subscribe"], [
      { event: "E_REGISTRANT_REGISTERED", socket: "rabbitmq:h/startup" },
      { event: "E_REGISTRANT_UNREGISTERING", socket: "rabbitmq:h/negated" },
    ]);
  });

  it("collects clusterer sharing_tag lines in order", () => {
    const { config, origins } = parse(
      `modparam("clusterer", "sharing_tag", "vip/1=active")\nmodparam("clusterer", "sharing_tag", "trunks/1=backup")`,
    );
    assert.deepEqual(config["sharing_tag"], ["vip/1=active", "trunks/1=backup"]);
    assert.match(
      origins.get("/sharing_tag/1") ?? "",
      /opensips\.cfg:2: modparam\("clusterer", "sharing_tag", "trunks\/1=backup"\)/,
    );
    assert.deepEqual(validateConfig(config).config.sharing_tag, ["vip/1=active", "trunks/1=backup"]);
  });

  it("warns when the file does not load uac_registrant", () => {
    assert.deepEqual(parse(`loadmodule "tm.so"`).warnings, ["the file does not loadmodule uac_registrant"]);
  });
});
