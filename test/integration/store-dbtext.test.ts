import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_CONFIG } from "../../src/config/defaults.js";
import { ConfigError, StoreVersionError } from "../../src/errors.js";
import { silentLogger } from "../../src/log.js";
import { openStore } from "../../src/store/open-store.js";
import { loadAllRows } from "../../src/store/store.js";
import { captureLogger } from "../support/store-fixtures.js";

const HEADER =
  "id(int,auto) registrar(string) proxy(string,null) aor(string) third_party_registrant(string,null) username(string,null) password(string,null) binding_URI(string) binding_params(string,null) expiry(int,null) forced_socket(string,null) cluster_shtag(string,null) state(int)";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "registrantd-dbtext-"));
  dirs.push(d);
  return d;
}

async function existingDb(rows: string[], version = "registrant:3"): Promise<string> {
  const dir = await tempDir();
  await writeFile(join(dir, "registrant"), [HEADER, ...rows, ""].join("\n"));
  await writeFile(join(dir, "version"), `table_name(string) table_version(int)\n${version}\n`);
  return dir;
}

test("first start creates OpenSIPS's files in data_dir, private to the daemon", async () => {
  const dataDir = join(await tempDir(), "nested", "data");
  const store = await openStore({ ...DEFAULT_CONFIG, data_dir: dataDir }, silentLogger);
  assert.equal(store.kind, "dbtext");
  assert.deepEqual(await loadAllRows(store), []);
  assert.equal(await readFile(join(dataDir, "registrant"), "utf8"), HEADER + "\n");
  assert.equal(
    await readFile(join(dataDir, "version"), "utf8"),
    "table_name(string) table_version(int)\nregistrant:3\n",
  );
  assert.equal((await stat(join(dataDir, "registrant"))).mode & 0o777, 0o600);
  await store.close();

  // a second start keeps what the operator added
  await writeFile(
    join(dataDir, "registrant"),
    `${HEADER}\n1:sip\\:r.example.com::sip\\:a@example.com::::sip\\:a@10.0.0.1::3600:::0\n`,
  );
  const again = await openStore({ ...DEFAULT_CONFIG, data_dir: dataDir }, silentLogger);
  assert.equal((await loadAllRows(again)).length, 1);
  await again.close();
});

test("first start with a custom table and column names writes them in the header and the version row", async () => {
  const dataDir = await tempDir();
  await writeFile(join(dataDir, "version"), "table_name(string) table_version(int)\nsubscriber:8\n");
  const config = { ...DEFAULT_CONFIG, data_dir: dataDir, table_name: "regs", binding_URI_column: "contact" };
  const store = await openStore(config, silentLogger);
  assert.equal(await readFile(join(dataDir, "regs"), "utf8"), HEADER.replace("binding_URI(", "contact(") + "\n");
  assert.equal(
    await readFile(join(dataDir, "version"), "utf8"),
    "table_name(string) table_version(int)\nsubscriber:8\nregs:3\n",
  );
  await store.close();
});

test("rows: escapes decoded, empty fields are NULL, a malformed line is skipped and logged, the rest load", async () => {
  const dir = await existingDb([
    "1:sip\\:r.example.com::sip\\:a@example.com::::sip\\:a@10.0.0.1:;reg-id=1:3600:::0",
    "2:sip\\:r.example.com::sip\\:b@example.com::::sip\\:b@10.0.0.2::abc:::0",
    "",
    "3:sip\\:r.example.com:sip\\:p.example.com:sip\\:c@example.com:sip\\:t@example.com:c:pw\\:x:sip\\:c@10.0.0.3::120:udp\\:127.0.0.1\\:5060:vip/1:1",
    "4:too:few",
  ]);
  const { log, lines } = captureLogger();
  const store = await openStore({ ...DEFAULT_CONFIG, db_url: `text://${dir}` }, log);
  const rows = await loadAllRows(store);
  assert.deepEqual(
    rows.map((r) => r.id),
    ["1", "3"],
  );
  assert.deepEqual(rows[1], {
    id: "3",
    registrar: "sip:r.example.com",
    proxy: "sip:p.example.com",
    aor: "sip:c@example.com",
    third_party_registrant: "sip:t@example.com",
    username: "c",
    password: "pw:x",
    binding_URI: "sip:c@10.0.0.3",
    binding_params: null,
    expiry: 120,
    forced_socket: "udp:127.0.0.1:5060",
    cluster_shtag: "vip/1",
    state: 1,
  });
  assert.equal(rows[0]!.binding_params, ";reg-id=1");
  const skipped = lines().filter((l) => l["msg"] === "db_text line skipped");
  assert.deepEqual(
    skipped.map((l) => [l["line"], l["reason"]]),
    [
      [3, 'column expiry: "abc" is not an integer'],
      [6, "3 fields, the header declares 13"],
    ],
  );
  await store.close();
});

test("writeState rewrites only the state field, atomically, and keeps the file mode", async () => {
  const lines = [
    "1:sip\\:r.example.com::sip\\:a@example.com::::sip\\:a@10.0.0.1::3600:::0",
    "garbage that is not a row",
    "2:sip\\:r.example.com::sip\\:b@example.com::::sip\\:b@10.0.0.2::3600:::0\r",
  ];
  const dir = await existingDb(lines);
  const path = join(dir, "registrant");
  const { chmod } = await import("node:fs/promises");
  await chmod(path, 0o640);
  const inodeBefore = (await stat(path)).ino;
  const store = await openStore({ ...DEFAULT_CONFIG, db_url: `text://${dir}` }, silentLogger);
  const b = { aor: "sip:b@example.com", contact: "sip:b@10.0.0.2", registrar: "sip:r.example.com" };
  await store.writeState(b, 1);
  const after1 = await readFile(path, "utf8");
  assert.equal(after1, [HEADER, lines[0], lines[1], lines[2]!.replace(":0\r", ":1\r"), ""].join("\n"));
  assert.notEqual((await stat(path)).ino, inodeBefore, "replaced by rename, not rewritten in place");
  assert.equal((await stat(path)).mode & 0o777, 0o640);
  assert.equal((await store.loadOne(b))[0]!.state, 1);

  // many writes in flight: serialized, the last one wins, no temp file left behind
  const pending: Promise<void>[] = [];
  for (let i = 0; i < 20; i++) pending.push(store.writeState(b, i % 2 === 0 ? 0 : 1));
  await Promise.all(pending);
  assert.equal((await store.loadOne(b))[0]!.state, 1);
  assert.deepEqual((await readdir(dir)).sort(), ["registrant", "version"]);

  // unknown record: nothing written
  const inode = (await stat(path)).ino;
  await store.writeState({ ...b, aor: "sip:nobody@example.com" }, 0);
  assert.equal((await stat(path)).ino, inode);
  await store.close();
});

test("version row missing or wrong → OpenSIPS's messages; an explicit text:// dir is not created", async () => {
  const missing = await existingDb([], "subscriber:8");
  await assert.rejects(
    openStore({ ...DEFAULT_CONFIG, db_url: `text://${missing}` }, silentLogger),
    (err: unknown) =>
      err instanceof StoreVersionError &&
      err.message === "'registrant' record not found in 'version' table, expected ver 3",
  );
  const wrong = await existingDb([], "registrant:2");
  await assert.rejects(
    openStore({ ...DEFAULT_CONFIG, db_url: `text://${wrong}` }, silentLogger),
    (err: unknown) =>
      err instanceof StoreVersionError && err.message === "invalid version 2 for table registrant found, expected 3",
  );
  const nowhere = join(await tempDir(), "absent");
  await assert.rejects(
    openStore({ ...DEFAULT_CONFIG, db_url: `text://${nowhere}` }, silentLogger),
    (err: unknown) => err instanceof StoreVersionError && err.message.includes("'version' not found"),
  );
  await assert.rejects(stat(nowhere));
});

test("a configured column missing from the header is a ConfigError naming the modparam", async () => {
  const dir = await existingDb([]);
  await assert.rejects(
    openStore({ ...DEFAULT_CONFIG, db_url: `text://${dir}`, state_column: "enabled" }, silentLogger),
    (err: unknown) => err instanceof ConfigError && err.message.endsWith("no column enabled (state_column)"),
  );
});

test("text://<data_dir> (the default spelled as a URL) is created like the embedded default", async () => {
  const dataDir = join(await tempDir(), "data");
  const store = await openStore({ ...DEFAULT_CONFIG, data_dir: dataDir, db_url: `text://${dataDir}` }, silentLogger);
  assert.deepEqual(await loadAllRows(store), []);
  await store.close();
});
