import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { DEFAULT_CONFIG } from "../../src/config/defaults.js";
import { RegState } from "../../src/registrant/state.js";
import { parseDbUrl } from "../../src/store/db-url.js";
import { MariadbStore } from "../../src/store/mariadb-store.js";
import { KamailioRegistrar } from "../support/kamailio.js";
import { createTestDatabase } from "../support/mariadb.js";
import type { TestDatabase } from "../support/mariadb.js";
import { OperatorStack } from "../support/operator-stack.js";
import { freePort } from "../support/ports.js";
import { parsePromText, sampleValue } from "../support/prom-text.js";
import type { PromFamily } from "../support/prom-text.js";
import { QueueTap, RABBITMQ_URL, uniqueName } from "../support/rabbitmq.js";
import { until } from "../support/until.js";

/**
 * A run against the real Kamailio registrar (digest auth), MariaDB and RabbitMQ: a registrant registers and
 * refreshes, one has a wrong password, one's registrar never answers, and one is disabled over MI. Then
 * /metrics is scraped, checked with a strict text-format parser, and every metric the operator docs list is
 * there with a value that fits the run. The same run's log is checked for one readable line per state change
 * and for the absence of every secret.
 */
const ARTIFACTS =
  process.env["TEST_ARTIFACTS"] ?? join(resolve(dirname(fileURLToPath(import.meta.url)), "../.."), "test-artifacts");
const PASSWORDS = { alice: "alice-Secret-1", bob: "bob-Right-2" };
const WRONG = "bob-Wrong-3";

describe("metrics and logs after a run against Kamailio", { timeout: 180_000 }, () => {
  let kamailio: KamailioRegistrar;
  let db: TestDatabase;
  let store: MariadbStore;
  let stack: OperatorStack;
  let tap: QueueTap;
  let consumer: ChildProcessWithoutNullStreams | undefined;
  const alerts: Record<string, unknown>[] = [];
  const logLines: Record<string, unknown>[] = [];
  let rawLog = "";
  let alice: { aor: string; contact: string; registrar: string };
  let bob: typeof alice;
  let dave: typeof alice;

  before(async () => {
    kamailio = await KamailioRegistrar.start({ users: { alice: PASSWORDS.alice, bob: PASSWORDS.bob } });
    db = await createTestDatabase();
    tap = await QueueTap.open({ prefix: "registrantd_metrics" });
    const registrar = kamailio.uri("udp");
    const silent = `sip:127.0.0.1:${await freePort()}`;
    alice = { aor: "sip:alice@example.test", contact: "sip:alice@127.0.0.1:5080", registrar };
    bob = { aor: "sip:bob@example.test", contact: "sip:bob@127.0.0.1:5080", registrar };
    dave = { aor: "sip:dave@example.test", contact: "sip:dave@127.0.0.1:5080", registrar: silent };
    for (const [r, user, password] of [
      [alice, "alice", PASSWORDS.alice],
      [bob, "bob", WRONG],
      [dave, "dave", "dave-pw-4"],
    ] as const) {
      await db.insert({
        aor: r.aor,
        binding_URI: r.contact,
        registrar: r.registrar,
        username: user,
        password,
        expiry: 30,
        state: 0,
      });
    }
    const url = parseDbUrl(db.url);
    if (url.kind !== "mysql") throw new Error("mysql url expected");
    // the documented consumer of extended event params, started first so its queue exists before events flow
    const alertQueue = uniqueName("registrantd_alerts");
    const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
    consumer = spawn(
      process.execPath,
      ["docs/examples/registrant-alerts.mjs", "--url", RABBITMQ_URL, "--queue", alertQueue],
      {
        cwd: repo,
      },
    );
    let ready = false;
    consumer.stderr.on("data", (d: Buffer) => {
      if (d.toString().includes("ready")) ready = true;
    });
    createInterface({ input: consumer.stdout }).on("line", (l) =>
      alerts.push(JSON.parse(l) as Record<string, unknown>),
    );
    await until("the alerts consumer bound its queue", () => ready, 20_000);
    const alertSocket = `rabbitmq:guest:guest@127.0.0.1:5672/${alertQueue}`;
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        rawLog += chunk.toString();
        for (const l of chunk.toString().split("\n")) if (l) logLines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    const log = pino({ level: "info", base: { name: "registrantd" } }, sink);
    store = await MariadbStore.open(url, "registrant", DEFAULT_CONFIG, log);
    stack = await OperatorStack.start({
      rows: [],
      store,
      log,
      traceAll: true,
      // PCT 50: a refresh within ~20 s whatever expiry Kamailio grants
      config: { reregister_expiry_percentage: 50, tm: { ...DEFAULT_CONFIG.tm, fr_timeout: 2 } },
      subscribe: [
        { event: "E_REGISTRANT_REGISTERED", socket: `rabbitmq:guest:guest@127.0.0.1:5672/${tap.queue}` },
        ...["E_REGISTRANT_REGISTERED", "E_REGISTRANT_WRONG_CREDENTIALS", "E_REGISTRANT_REGISTER_TIMEOUT"].map(
          (event) => ({
            event,
            socket: alertSocket,
          }),
        ),
      ],
    });
  });

  after(async () => {
    consumer?.kill("SIGKILL");
    await stack?.stop().catch(() => undefined);
    await store?.close().catch(() => undefined);
    await tap?.close().catch(() => undefined);
    await kamailio?.stop();
    await db?.drop().catch(() => undefined);
  });

  const mi = async (method: string, params: Record<string, string>) => {
    const res = await fetch(`${stack.baseUrl}/mi`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", method, params, id: 1 }),
    });
    return (await res.json()) as { result?: unknown; error?: unknown };
  };
  const state = (c: typeof alice) => stack.service.find(c)?.state;
  const registeredCount = () =>
    logLines.filter((l) => l["mod"] === "registrant.state" && l["aor"] === alice.aor && l["to"] === "REGISTERED_STATE")
      .length;

  it("runs: register, refresh, wrong password, silent registrar, disable", async () => {
    await until("alice REGISTERED", () => state(alice) === RegState.REGISTERED_STATE, 40_000);
    await until("bob WRONG_CREDENTIALS", () => state(bob) === RegState.WRONG_CREDENTIALS_STATE, 40_000);
    await until("dave REGISTER_TIMEOUT", () => state(dave) === RegState.REGISTER_TIMEOUT_STATE, 40_000);
    await until("alice refreshed", () => registeredCount() >= 2, 60_000);
    await until("the REGISTERED event in RabbitMQ", () => tap.messages.length >= 1, 20_000);
    assert.deepEqual(await mi("uac_registrant:disable", alice), { jsonrpc: "2.0", result: "OK", id: 1 });
    await until("alice NOT_REGISTERED", () => state(alice) === RegState.NOT_REGISTERED_STATE, 20_000);
  });

  it("serves every metric in a valid exposition, with values that fit the run", async () => {
    const res = await fetch(`${stack.baseUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    await mkdir(ARTIFACTS, { recursive: true });
    await writeFile(join(ARTIFACTS, "metrics.txt"), text);
    const f = parsePromText(text);
    const v = (family: string, labels: Record<string, string> = {}, sample = family) => {
      const value = sampleValue(f, family, labels, sample);
      assert.notEqual(value, undefined, `${sample}${JSON.stringify(labels)} present`);
      return value!;
    };
    const type = (name: string): PromFamily["type"] | undefined => f.get(name)?.type;

    assert.equal(type("registrantd_registrants"), "gauge");
    assert.equal(v("registrantd_registrants", { state: "NOT_REGISTERED_STATE" }), 1);
    assert.equal(v("registrantd_registrants", { state: "WRONG_CREDENTIALS_STATE" }), 1);
    assert.equal(
      f.get("registrantd_registrants")!.samples.reduce((n, s) => n + s.value, 0),
      3,
    );
    assert.equal(v("registrantd_registrants_disabled"), 1);

    assert.equal(type("registrantd_register_sent_total"), "counter");
    // alice: 2 per registration (401 then 200) x2 + unREGISTER (x2 with auth); bob 2; dave 1+
    assert.ok(v("registrantd_register_sent_total") >= 8, "REGISTERs sent");
    assert.ok(v("registrantd_register_replies_total", { code: "401" }) >= 3, "401 challenges");
    assert.ok(v("registrantd_register_replies_total", { code: "200" }) >= 3, "200 OK");
    assert.ok(v("registrantd_register_timeouts_total") >= 1, "Timer F for the silent registrar");
    assert.ok(v("registrantd_register_retransmissions_total") >= 1, "Timer E retransmissions over UDP");
    assert.equal(v("registrantd_register_transport_errors_total"), 0);
    assert.ok(v("registrantd_transactions_in_flight") >= 0 && v("registrantd_transactions_in_flight") <= 3);

    assert.equal(type("registrantd_registration_latency_seconds"), "histogram");
    const latCount = v(
      "registrantd_registration_latency_seconds",
      {},
      "registrantd_registration_latency_seconds_count",
    );
    assert.ok(latCount >= 2, "first registration and refresh");
    const latSum = v("registrantd_registration_latency_seconds", {}, "registrantd_registration_latency_seconds_sum");
    assert.ok(latSum / latCount > 0 && latSum / latCount < 5, `mean latency ${latSum / latCount} s on loopback`);
    assert.ok(v("registrantd_register_duration_seconds", {}, "registrantd_register_duration_seconds_count") >= 8);

    const since = v("registrantd_registrar_seconds_since_last_success", { registrar: alice.registrar });
    assert.ok(since >= 0 && since < 120, `seconds since last success ${since}`);
    assert.equal(
      f.get("registrantd_registrar_seconds_since_last_success")!.samples.length,
      1,
      "per registrar, never per record; the silent one never succeeded",
    );

    const sink = `rabbitmq:guest@127.0.0.1/${tap.queue}`;
    assert.ok(v("registrantd_events_raised_total") >= 8);
    assert.ok(v("registrantd_events_published_total", { sink }) >= 2, "REGISTERED x2 confirmed");
    assert.equal(v("registrantd_events_dropped_total", { sink }), 0);
    assert.ok(v("registrantd_events_published_total", { sink: "websocket" }) >= 0);
    assert.equal(v("registrantd_broker_up", { sink }), 1);
    assert.equal(v("registrantd_db_up", { kind: "mariadb" }), 1);
    assert.equal(v("registrantd_mi_requests_total", { command: "uac_registrant:disable", result: "ok" }), 1);
    assert.ok(v("nodejs_eventloop_lag_seconds") >= 0);
    assert.ok(v("nodejs_eventloop_lag_p99_seconds") >= 0);
  });

  it("keeps the SIP trace of a record, with the digest response masked", async () => {
    const res = await mi("registrantd:record_trace", alice);
    const result = res.result as { traced: boolean; Messages: { kind: string; message?: string }[] };
    assert.equal(result.traced, true);
    const texts = result.Messages.map((m) => m.message ?? "");
    assert.ok(texts.some((t) => t.startsWith("REGISTER ") && /\r\nAuthorization: Digest username="alice"/.test(t)));
    assert.ok(texts.some((t) => t.startsWith("SIP/2.0 401 ")));
    assert.ok(texts.every((t) => !/response="[0-9a-f]{32}"/.test(t)));
    assert.ok(texts.some((t) => /response="\[redacted\]"/.test(t)));
    const daveTrace = (await mi("registrantd:record_trace", dave)).result as { Messages: { kind: string }[] };
    assert.ok(daveTrace.Messages.some((m) => m.kind === "timeout"));
  });

  it("publishes extended event params that the documented consumer turns into alerts", async () => {
    await until("alerts for bob and dave", () =>
      alerts.some((a) => a["aor"] === bob.aor) && alerts.some((a) => a["aor"] === dave.aor) ? true : undefined,
    );
    const registered = alerts.find((a) => a["event"] === "E_REGISTRANT_REGISTERED" && a["aor"] === alice.aor)!;
    assert.equal(registered["status"], 200);
    assert.equal(registered["reason"], "OK");
    assert.equal(typeof registered["expires"], "number");
    assert.equal(registered["destination"], "127.0.0.1");
    assert.equal(typeof registered["recordId"], "number");
    assert.equal(registered["alert"], false);
    const wrong = alerts.find((a) => a["aor"] === bob.aor)!;
    assert.deepEqual(
      { event: wrong["event"], status: wrong["status"], alert: wrong["alert"], message: wrong["message"] },
      {
        event: "E_REGISTRANT_WRONG_CREDENTIALS",
        status: 401,
        alert: true,
        message: `${bob.aor} at ${bob.registrar}: the registrar refuses the credentials (401 Unauthorized)`,
      },
    );
    const timeout = alerts.find((a) => a["aor"] === dave.aor)!;
    assert.equal(timeout["event"], "E_REGISTRANT_REGISTER_TIMEOUT");
    assert.equal(timeout["alert"], true);
    assert.ok(alerts.every((a) => a["error"] === undefined));
  });

  it("logs one readable line per state change with the SIP cause, and no secret", async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    await writeFile(join(ARTIFACTS, "registrant-life.log"), rawLog);
    const states = logLines.filter((l) => l["mod"] === "registrant.state");
    const aliceLife = states.filter((l) => l["aor"] === alice.aor).map((l) => l["msg"]);
    assert.ok(
      aliceLife.includes("sip:alice@example.test AUTHENTICATING_STATE -> REGISTERED_STATE (200 OK)"),
      aliceLife.join("\n"),
    );
    assert.ok(aliceLife.some((m) => /-> UNREGISTERING_STATE/.test(String(m))));
    assert.ok(aliceLife.some((m) => /-> NOT_REGISTERED_STATE/.test(String(m))));
    const bobLast = states.filter((l) => l["aor"] === bob.aor).at(-1)!;
    assert.equal(bobLast["to"], "WRONG_CREDENTIALS_STATE");
    assert.equal(bobLast["status"], 401);
    for (const l of states) {
      assert.equal(l["level"], 30);
      for (const k of ["aor", "contact", "registrar", "from", "to"])
        assert.equal(typeof l[k], "string", `${k} in ${JSON.stringify(l)}`);
    }
    for (const secret of [PASSWORDS.alice, PASSWORDS.bob, WRONG, "dave-pw-4"])
      assert.ok(!rawLog.includes(secret), `log leaks ${secret}`);
    assert.ok(!/response="[0-9a-f]{32}"/.test(rawLog), "no digest response in the log");
    assert.ok(!/Authorization: Digest/i.test(rawLog), "no Authorization header value in the log");
  });
});
