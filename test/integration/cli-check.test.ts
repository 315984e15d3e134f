import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import type { Socket } from "node:dgram";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestDatabase } from "../support/mariadb.js";
import type { TestDatabase } from "../support/mariadb.js";
import { freePort } from "../support/ports.js";
import { runCli } from "./cli-run.js";

/**
 * `registrantd --check` against real stores: every bad row named with its id, column and reason, exit 1; a clean
 * table exits 0; nothing is sent to the registrars named in the rows.
 */
describe("registrantd --check", () => {
  let dir = "";
  let db: TestDatabase | undefined;
  let registrar: Socket | undefined;
  let registrarPort = 0;
  let datagrams = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "registrantd-check-"));
    db = await createTestDatabase();
    registrar = createSocket("udp4");
    registrar.on("message", () => datagrams++);
    await new Promise<void>((resolve) => registrar?.bind(0, "127.0.0.1", resolve));
    registrarPort = registrar.address().port;
  });
  after(async () => {
    registrar?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const config = (name: string, extra: Record<string, unknown>): string => {
    const file = join(dir, `${name}.json`);
    writeFileSync(
      file,
      JSON.stringify({ listen: ["udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"], data_dir: join(dir, "data"), ...extra }),
    );
    return file;
  };

  const good = (n: number): Record<string, unknown> => ({
    registrar: `sip:127.0.0.1:${registrarPort}`,
    aor: `sip:user${n}@example.test`,
    binding_URI: `sip:user${n}@127.0.0.1:5060`,
    username: `user${n}`,
    password: "secretpw",
    expiry: 600,
    state: 0,
  });

  it("exits 0 on a table whose rows all load", async () => {
    assert.ok(db);
    await db.insert(good(1));
    await db.insert({ ...good(2), state: 1, forced_socket: "tcp:127.0.0.1:5060" });
    await db.insert({ ...good(3), expiry: null });
    const r = await runCli(["--check", "--config", config("clean", { db_url: db.url })]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^config: ok \(timer_interval 100, 2 buckets, listen udp:127.0.0.1:5060 tcp:127.0.0.1:5060\)$/m,
    );
    assert.match(
      r.stdout,
      /^store: mysql:\/\/root:\*\*\*@[^/]+\/registrantd_t_\w+: table registrant, version 3, 3 rows$/m,
    );
    assert.match(r.stdout, /^rows: 3 would load \(2 enabled, 1 disabled\), 0 would be skipped$/m);
    assert.match(r.stdout, /^result: ok$/m);
    assert.doesNotMatch(r.stdout + r.stderr, /secretpw/);
  });

  it("names every row that would be skipped, with id, column and reason, and exits 1", async () => {
    assert.ok(db);
    const ids = {
      userInRegistrar: await db.insert({ ...good(10), registrar: "sip:someone@127.0.0.1" }),
      shortExpiry: await db.insert({ ...good(11), expiry: 30 }),
      bogusParams: await db.insert({ ...good(12), binding_params: ";reg-id=" }),
      unknownSocket: await db.insert({ ...good(13), forced_socket: "udp:127.0.0.1:5999" }),
      badClusterId: await db.insert({ ...good(14), cluster_shtag: "vip/x1" }),
    };
    const r = await runCli(["--check", "--config", config("dirty", { db_url: db.url })]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const skips = r.stdout.split("\n").filter((l) => l.startsWith("  skip "));
    assert.equal(skips.length, 5, r.stdout);
    assert.match(
      r.stdout,
      new RegExp(`skip row id=${ids.userInRegistrar}: column registrar: registrant uri must not have user`),
    );
    assert.match(
      r.stdout,
      new RegExp(
        `skip row id=${ids.shortExpiry}: column expiry: Please decrease timer_interval=\\[100\\] - requested expires=\\[30\\]`,
      ),
    );
    assert.match(r.stdout, new RegExp(`skip row id=${ids.bogusParams}: column binding_params: Bogus params`));
    assert.match(r.stdout, new RegExp(`skip row id=${ids.unknownSocket}: column forced_socket: invalid forced socket`));
    assert.match(r.stdout, new RegExp(`skip row id=${ids.badClusterId}: column cluster_shtag: Invalid cluster id`));
    assert.match(r.stdout, /^rows: 3 would load \(2 enabled, 1 disabled\), 5 would be skipped$/m);
    assert.match(r.stdout, /^result: FAILED \(5 rows would be skipped\)$/m);
  });

  it("uses the configured column names in its messages", async () => {
    assert.ok(db);
    await db.query("ALTER TABLE registrant CHANGE expiry expires INT UNSIGNED DEFAULT NULL");
    try {
      const r = await runCli(["--check", "--config", config("renamed", { db_url: db.url, expiry_column: "expires" })]);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /column expires: Please decrease timer_interval/);
    } finally {
      await db.query("ALTER TABLE registrant CHANGE expires expiry INT UNSIGNED DEFAULT NULL");
    }
  });

  it("fails on a wrong version row", async () => {
    assert.ok(db);
    await db.query("UPDATE version SET table_version = 2 WHERE table_name = 'registrant'");
    try {
      const r = await runCli(["--check", "--config", config("version", { db_url: db.url })]);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /^store: .*: FAILED: .*\[STORE_VERSION\]$/m);
      assert.match(r.stdout, /^result: FAILED$/m);
    } finally {
      await db.query("UPDATE version SET table_version = 3 WHERE table_name = 'registrant'");
    }
  });

  it("fails when the database cannot be reached", async () => {
    const port = await freePort();
    const r = await runCli([
      "--check",
      "--config",
      config("down", { db_url: `mysql://root:pw@127.0.0.1:${port}/nothing` }),
    ]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^store: mysql:\/\/root:\*\*\*@127\.0\.0\.1:\d+\/nothing: FAILED: /m);
  });

  it("checks an embedded db_text table the same way", async () => {
    const data = join(dir, "dbtext");
    mkdirSync(data);
    cpSync(fileURLToPath(new URL("../../schemas/dbtext/version", import.meta.url)), join(data, "version"));
    const header = readFileSync(fileURLToPath(new URL("../../schemas/dbtext/registrant", import.meta.url)), "utf8");
    const rows = [
      `1:sip\\:127.0.0.1\\:${registrarPort}::sip\\:a@example.test::a:apw:sip\\:a@127.0.0.1\\:5060::600:::0`,
      `2:sip\\:127.0.0.1\\:${registrarPort}::sip\\:b@example.test::b:bpw:sip\\:b@127.0.0.1\\:5060::60:::0`,
    ];
    writeFileSync(join(data, "registrant"), `${header.trimEnd()}\n${rows.join("\n")}\n`);
    const r = await runCli(["--check", "--config", config("dbtext", { data_dir: data })]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^store: embedded db_text in .*dbtext: table registrant, version 3, 2 rows$/m);
    assert.match(
      r.stdout,
      /skip row id=2: column expiry: Please decrease timer_interval=\[100\] - requested expires=\[60\]/,
    );
  });

  it("takes the store and sockets from --opensips-cfg", async () => {
    assert.ok(db);
    const cfg = join(dir, "opensips.cfg");
    writeFileSync(
      cfg,
      [
        `db_default_url = "${db.url}"`,
        "socket = udp:127.0.0.1:5999",
        'loadmodule "uac_registrant.so";',
        'modparam("uac_registrant", "timer_interval", 20)',
      ].join("\n"),
    );
    const r = await runCli(["--check", "--opensips-cfg", cfg]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^config: ok \(timer_interval 20, 2 buckets, listen udp:127.0.0.1:5999\)$/m);
    // with timer_interval 20 the 30 s expiry passes; with this socket list udp:127.0.0.1:5999 is known, tcp is not
    assert.doesNotMatch(r.stdout, /column expiry/);
    assert.match(r.stdout, /column forced_socket: invalid forced socket \[tcp:127.0.0.1:5060\]/);
  });

  it("sent nothing to the registrars of the rows", () => {
    assert.equal(datagrams, 0);
  });
});
