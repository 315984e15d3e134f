import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCli, spawnCli } from "./cli-run.js";
import { until } from "../support/until.js";

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/opensips-cfg/${name}`, import.meta.url));

describe("registrantd command line", () => {
  let dir = "";
  const children: ChildProcess[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "registrantd-cli-"));
  });
  after(() => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  const writeConfig = (name: string, content: unknown): string => {
    const file = join(dir, name);
    writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
    return file;
  };

  it("--version and --help", async () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    const v = await runCli(["--version"]);
    assert.equal(v.code, 0);
    assert.equal(v.stdout, `registrantd ${pkg.version}\n`);
    const h = await runCli(["--help"]);
    assert.equal(h.code, 0);
    for (const option of ["--config", "--opensips-cfg", "--check", "--print-config", "--version"]) {
      assert.ok(h.stdout.includes(option), option);
    }
  });

  it("an unknown option exits 2 with the usage", async () => {
    const r = await runCli(["--confgi", "x.json"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Unknown option '--confgi'/);
    assert.match(r.stderr, /Usage: registrantd/);
  });

  const bad: [string, string | Record<string, unknown>, RegExp][] = [
    ["not JSON", '{"timer_interval": 100,}', /not valid JSON: line 1 column 24/],
    ["an unknown key", { hash_sise: 2 }, /\/hash_sise: unknown key \(did you mean "hash_size"\?\)/],
    ["timer_interval < 10", { timer_interval: 5 }, /\/timer_interval: .*"timer_interval to short: \[5\]<10"/],
    [
      "timer_interval < 2^hash_size",
      { hash_size: 6, timer_interval: 60 },
      /MUST be at least as big as reg_hsize=\[64\]/,
    ],
    ["a bad percentage", { reregister_expiry_percentage: 0 }, /\/reregister_expiry_percentage: /],
    [
      "a bad socket",
      { listen: ["udp:localhost:5060"] },
      /\/listen\/0: socket "udp:localhost:5060": "localhost" is not an IP/,
    ],
    [
      "a wrong type deep down",
      { mi_http: { auth: { username: "u", password: 1 } } },
      /\/mi_http\/auth\/password: must be a string/,
    ],
  ];
  for (const [name, content, expected] of bad) {
    it(`a config with ${name} exits 2 naming the key`, async () => {
      const r = await runCli(["--config", writeConfig(`${name.replace(/\W+/g, "-")}.json`, content)]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^registrantd: /);
      assert.match(r.stderr, expected);
      assert.equal(r.stdout, "");
    });
  }

  it("a missing config file exits 2", async () => {
    const r = await runCli(["--config", join(dir, "nope.json")]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot read config file .*nope\.json/);
  });

  it("--opensips-cfg production.cfg: the parameters it starts with", async () => {
    const r = await runCli(["--opensips-cfg", fixture("production.cfg"), "--print-config"]);
    assert.equal(r.code, 0, r.stderr);
    const config = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(config["db_url"], "mysql://opensips:***@db.internal:3307/opensips", "printed without its password");
    assert.equal(config["hash_size"], 3);
    assert.equal(config["timer_interval"], 60);
    assert.equal(config["reregister_expiry_percentage"], 90);
    assert.equal(config["table_name"], "trunk_registrant");
    assert.deepEqual(config["listen"], [
      "udp:10.0.0.5:5060",
      "tcp:10.0.0.5:5060",
      "tls:10.0.0.5:5061",
      "udp:[2001:db8::5]:5060",
      "udp:127.0.0.1:5090",
    ]);
    assert.deepEqual(config["tm"], { fr_timeout: 10, t1: 250, t2: 2000 });
    assert.deepEqual(config["mi_http"], {
      enabled: true,
      ip: "127.0.0.1",
      port: 8899,
      root: "opensips_mi",
      auth: { username: "ops", password: "***" },
    });
    const events = config["events"] as { subscribe: { socket: string }[] };
    assert.deepEqual(
      events.subscribe.map((s) => s.socket),
      [
        "rabbitmq:ops:***@mq.internal/exchange=sip;persistent?trunk.registered",
        "rabbitmq:ops:***@mq.internal/exchange=sip;persistent?trunk.timeout",
      ],
    );
  });

  for (const [name, check] of [
    ["docs-example.cfg", (c: Record<string, unknown>) => assert.equal(c["timer_interval"], 120)],
    [
      "cpp-style.cfg",
      (c: Record<string, unknown>) => assert.deepEqual(c["listen"], ["udp:192.0.2.1:5080", "tcp:192.0.2.1:5070"]),
    ],
    ["golden-harness.cfg", (c: Record<string, unknown>) => assert.equal(c["user_agent"], "OpenSIPS-harness")],
  ] as const) {
    it(`--opensips-cfg ${name} --print-config`, async () => {
      const r = await runCli(["--opensips-cfg", fixture(name), "--print-config"]);
      assert.equal(r.code, 0, r.stderr);
      check(JSON.parse(r.stdout) as Record<string, unknown>);
    });
  }

  it("--opensips-cfg with a value OpenSIPS refuses exits 2 naming the line", async () => {
    const r = await runCli(["--opensips-cfg", fixture("too-short-timer.cfg")]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /timer_interval to short: \[5\]<10.*too-short-timer\.cfg:5: modparam\("uac_registrant", "timer_interval", 5\)/,
    );
  });

  it("--config on top of --opensips-cfg overrides it", async () => {
    const over = writeConfig("over.json", { timer_interval: 200, mi_http: { port: 8777 } });
    const r = await runCli(["--opensips-cfg", fixture("docs-example.cfg"), "--config", over, "--print-config"]);
    assert.equal(r.code, 0, r.stderr);
    const config = JSON.parse(r.stdout) as { timer_interval: number; hash_size: number; mi_http: { port: number } };
    assert.equal(config.timer_interval, 200);
    assert.equal(config.hash_size, 2);
    assert.equal(config.mi_http.port, 8777);
  });

  it("starts, logs the ignored opensips.cfg parts in one line, and stops on SIGTERM with exit 0", async () => {
    const cfg = join(dir, "loopback.cfg");
    writeFileSync(
      cfg,
      [
        'loadmodule "tm.so"',
        'loadmodule "sl.so"',
        'loadmodule "uac_auth.so"',
        'loadmodule "uac_registrant.so"',
        "socket=udp:127.0.0.1:0",
        "log_level=3",
      ].join("\n"),
    );
    const json = writeConfig("loopback.json", {
      data_dir: join(dir, "data"),
      mi_http: { port: 0 },
      events: { websocket: { port: 0 } },
    });
    const child = spawnCli(["--opensips-cfg", cfg, "--config", json]);
    children.push(child);
    let stdout = "";
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    await until("the daemon to log that it started", () => /"msg":"registrantd started"/.test(stdout), 60_000);
    const ignoredLines = stdout.split("\n").filter((l) => l.includes("ignored what registrantd does not do"));
    assert.equal(ignoredLines.length, 1);
    assert.match(ignoredLines[0] ?? "", /"modules: sl"/);
    assert.match(ignoredLines[0] ?? "", /"core: log_level"/);
    child.kill("SIGTERM");
    assert.equal(await exited, 0);
    assert.match(stdout, /"msg":"stopping"/);
  });
});
