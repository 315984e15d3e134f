import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnCli } from "./cli-run.js";
import { REGISTRANT_EVENTS } from "../../src/events/catalog.js";
import { KamailioRegistrar } from "../support/kamailio.js";
import { RECORD_KEYS } from "../support/golden-mi.js";
import { createTestDatabase } from "../support/mariadb.js";
import type { TestDatabase } from "../support/mariadb.js";
import { freePort } from "../support/ports.js";
import { QueueTap } from "../support/rabbitmq.js";
import { until } from "../support/until.js";

/**
 * The whole daemon as an operator runs it: the `registrantd` bin with a JSON config, the OpenSIPS table in
 * MariaDB, a real Kamailio registrar with digest auth, the nine events subscribed to RabbitMQ, and MI over
 * mi_http. What the tools see is asserted byte for byte where OpenSIPS's shapes are fixed.
 */

let kamailio: KamailioRegistrar | undefined;
let db: TestDatabase | undefined;
let tap: QueueTap | undefined;
let daemon: ChildProcess | undefined;
let dir: string | undefined;
let output = "";
let miPort = 0;
let sipPort = 0;

async function mi(method: string, params?: unknown): Promise<{ result?: unknown; error?: unknown }> {
  const body = JSON.stringify({ jsonrpc: "2.0", method, id: 1, ...(params !== undefined && { params }) });
  const res = await fetch(`http://127.0.0.1:${miPort}/mi`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body,
  });
  assert.equal(res.status, 200);
  return (await res.json()) as { result?: unknown; error?: unknown };
}

type Rec = Record<string, unknown>;
async function record(aor: string): Promise<Rec | undefined> {
  const reply = await mi("uac_registrant:list");
  const records = (reply.result as { Records: Rec[] }).Records;
  return records.find((r) => r["AOR"] === aor);
}

const stateOf = async (aor: string): Promise<unknown> => (await record(aor))?.["state"];

function body(event: string, aor: string, contact: string, registrar: string): string {
  return `{"jsonrpc":"2.0","method":"${event}","params":{"aor":"${aor}","contact":"${contact}","registrar":"${registrar}"}}`;
}

before(async () => {
  kamailio = await KamailioRegistrar.start({ users: { alice: "alicepw", carol: "carolpw", dave: "davepw" } });
  db = await createTestDatabase();
  tap = await QueueTap.open({ prefix: "registrantd_e2e" });
  sipPort = await freePort();
  miPort = await freePort();
  const registrar = kamailio.uri("udp");
  const binding = (user: string) => `sip:${user}@127.0.0.1:${sipPort}`;
  const base = { registrar, expiry: 60 };
  await db.insert({
    ...base,
    aor: "sip:alice@example.test",
    username: "alice",
    password: "alicepw",
    binding_URI: binding("alice"),
    state: 0,
  });
  await db.insert({
    ...base,
    aor: "sip:carol@example.test",
    username: "carol",
    password: "wrong",
    binding_URI: binding("carol"),
    state: 0,
  });
  await db.insert({
    ...base,
    aor: "sip:dave@example.test",
    username: "dave",
    password: "davepw",
    binding_URI: binding("dave"),
    state: 1,
  });
  // a row OpenSIPS refuses (registrar with a user part): skipped with a log line, the others still load
  await db.insert({
    ...base,
    aor: "sip:bad@example.test",
    registrar: "sip:someone@127.0.0.1",
    binding_URI: binding("bad"),
    state: 0,
  });

  dir = await mkdtemp(join(tmpdir(), "registrantd-e2e-"));
  const config = {
    db_url: db.url,
    hash_size: 1,
    timer_interval: 10,
    reregister_expiry_percentage: 50,
    listen: [`udp:127.0.0.1:${sipPort}`],
    user_agent: "registrantd-e2e",
    mi_http: { ip: "127.0.0.1", port: miPort, root: "mi" },
    mi_fifo: { enabled: false },
    mi_datagram: { enabled: false },
    events: {
      subscribe: REGISTRANT_EVENTS.map((event) => ({
        event,
        socket: `rabbitmq:guest:guest@127.0.0.1:5672/${tap!.queue}`,
      })),
      websocket: { enabled: false },
    },
  };
  const file = join(dir, "registrantd.json");
  await writeFile(file, JSON.stringify(config));
  daemon = spawnCli(["--config", file]);
  daemon.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  daemon.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  await until(
    "MI answering",
    async () => (await mi("version").catch(() => undefined)) !== undefined,
    60_000,
    200,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${output.slice(-3000)}`);
  });
});

after(async () => {
  if (daemon !== undefined && daemon.exitCode === null) {
    daemon.kill("SIGKILL");
  }
  await tap?.close();
  await kamailio?.stop();
  await db?.drop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

test("registrantd bin: MariaDB rows registered on Kamailio, MI list/disable/enable, events on RabbitMQ, SR reports, graceful stop", async () => {
  const registrar = kamailio!.uri("udp");
  const alice = { aor: "sip:alice@example.test", contact: `sip:alice@127.0.0.1:${sipPort}`, registrar };
  const dave = { aor: "sip:dave@example.test", contact: `sip:dave@127.0.0.1:${sipPort}`, registrar };
  const carol = { aor: "sip:carol@example.test", contact: `sip:carol@127.0.0.1:${sipPort}`, registrar };
  const explain = () => `\n--- daemon output ---\n${output.slice(-4000)}`;

  await until("alice REGISTERED", async () => (await stateOf(alice.aor)) === "REGISTERED_STATE", 45_000, 200).catch(
    (err: Error) => {
      throw new Error(err.message + explain());
    },
  );
  await until(
    "carol WRONG_CREDENTIALS",
    async () => (await stateOf(carol.aor)) === "WRONG_CREDENTIALS_STATE",
    45_000,
    200,
  );

  // the bad row was skipped with its id and column named, and the others still loaded
  assert.match(output, /registrar/);
  assert.equal(await record("sip:bad@example.test"), undefined);

  // MI list shape: OpenSIPS's keys in OpenSIPS's order
  const listed = (await mi("uac_registrant:list", alice)).result as { Registrant: Rec };
  assert.deepEqual(Object.keys(listed.Registrant), [...RECORD_KEYS, "socket", "dst_IP", "ip"]);
  assert.equal(listed.Registrant["enabled"], "yes");
  assert.equal(listed.Registrant["socket"], `udp:127.0.0.1:${sipPort}`);
  assert.equal(listed.Registrant["ip"], "127.0.0.1");
  assert.match(String(listed.Registrant["last_register_sent"]), /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/);
  assert.equal((await record(dave.aor))?.["enabled"], "no");

  // disable: unREGISTER → NOT_REGISTERED, state=1 written back
  assert.deepEqual(await mi("uac_registrant:disable", alice), { jsonrpc: "2.0", result: "OK", id: 1 });
  await until("alice NOT_REGISTERED", async () => (await stateOf(alice.aor)) === "NOT_REGISTERED_STATE", 30_000, 200);
  const [aliceRow] = await db!.query<{ state: number }[]>("SELECT state FROM registrant WHERE aor = ?", [alice.aor]);
  assert.equal(aliceRow?.state, 1);

  // enable dave (disabled in the DB): REGISTER at once, state=0 written back
  assert.deepEqual(await mi("uac_registrant:enable", dave), { jsonrpc: "2.0", result: "OK", id: 1 });
  await until("dave REGISTERED", async () => (await stateOf(dave.aor)) === "REGISTERED_STATE", 30_000, 200);
  const [daveRow] = await db!.query<{ state: number }[]>("SELECT state FROM registrant WHERE aor = ?", [dave.aor]);
  assert.equal(daveRow?.state, 0);

  // unknown record: OpenSIPS's 404
  assert.deepEqual(await mi("uac_registrant:enable", { ...alice, aor: "sip:nobody@example.test" }), {
    jsonrpc: "2.0",
    error: { code: 404, message: "No such registrant" },
    id: 1,
  });

  // RabbitMQ: the exact OpenSIPS bodies, in the order the transitions happened for each record
  const expectAlice = ["E_REGISTRANT_REGISTERING", "E_REGISTRANT_AUTHENTICATING", "E_REGISTRANT_REGISTERED"].map((e) =>
    body(e, alice.aor, alice.contact, alice.registrar),
  );
  const unregister = body("E_REGISTRANT_UNREGISTERING", alice.aor, alice.contact, alice.registrar);
  await until("alice's events on RabbitMQ", () => tap!.bodies().includes(unregister), 20_000);
  const aliceBodies = tap!.bodies().filter((b) => b.includes(`"aor":"${alice.aor}"`));
  assert.deepEqual(aliceBodies.slice(0, 3), expectAlice);
  const wrong = body("E_REGISTRANT_WRONG_CREDENTIALS", carol.aor, carol.contact, carol.registrar);
  await until("carol's WRONG_CREDENTIALS on RabbitMQ", () => tap!.bodies().includes(wrong), 20_000);
  const daveRegistered = body("E_REGISTRANT_REGISTERED", dave.aor, dave.contact, dave.registrar);
  await until("dave's REGISTERED on RabbitMQ", () => tap!.bodies().includes(daveRegistered), 20_000);

  // Status/Report: OpenSIPS's report lines for alice's life
  const srId = `aor=${alice.aor};contact=${alice.contact};registrar=${alice.registrar}`;
  const reports = (await mi("sr_list_reports", { group: "uac_registrant", identifier: srId })).result as {
    Timestamp: number;
    Date: string;
    Log: string;
  }[];
  assert.deepEqual(Object.keys(reports[0]!), ["Timestamp", "Date", "Log"]);
  const logs = reports.map((r) => r.Log);
  assert.equal(logs[0], "created with state NOT_REGISTERED_STATE\n");
  for (const line of [
    "state changed to REGISTERING_STATE\n",
    "state changed to AUTHENTICATING_STATE\n",
    "state changed to REGISTERED_STATE\n",
    "state changed to UNREGISTERING_STATE\n",
  ]) {
    assert.ok(logs.includes(line), `missing SR report ${JSON.stringify(line)} in ${JSON.stringify(logs)}`);
  }

  // the operator side on the same listener: Prometheus metrics, the dashboard page, the per-record trace
  const metrics = await (await fetch(`http://127.0.0.1:${miPort}/metrics`)).text();
  assert.match(metrics, /^registrantd_registrants\{state="REGISTERED_STATE"\} [1-9]/m);
  assert.match(metrics, /^registrantd_db_up\{kind="mariadb"\} 1$/m);
  assert.match(metrics, /^registrantd_broker_up\{[^}]*\} 1$/m);
  const page = await fetch(`http://127.0.0.1:${miPort}/dashboard/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type") ?? "", /text\/html/);
  const traced = (await mi("registrantd:record_trace", { ...dave, trace_mode: "on" })).result as Rec;
  assert.equal(traced["traced"], true);
  await mi("uac_registrant:force_register", dave);
  await until(
    "dave's trace holds the REGISTER sent after force_register",
    async () => {
      const t = (await mi("registrantd:record_trace", dave)).result as { Messages: unknown[] };
      return t.Messages.length > 0;
    },
    20_000,
    200,
  );

  // no secret in anything the daemon printed
  assert.doesNotMatch(output, /alicepw|davepw/);

  // SIGTERM: graceful stop, exit 0
  const exited = new Promise<number | null>((resolve) => daemon!.once("exit", (code) => resolve(code)));
  daemon!.kill("SIGTERM");
  assert.equal(await exited, 0);
});
