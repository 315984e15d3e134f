import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { silentLogger } from "../../src/log.js";
import { startMiHttp } from "../../src/mi/http-server.js";
import type { MiHttpServer } from "../../src/mi/http-server.js";
import type { RegistrantRow } from "../../src/registrant/record-spec.js";
import { REGISTRANT_EVENTS } from "../../src/events/catalog.js";
import { Subscriptions } from "../../src/events/subscriptions.js";
import { eventCommands } from "../../src/mi/commands/events.js";
import { StatusReport } from "../../src/status/status-report.js";
import { EngineHarness, row } from "../support/engine-harness.js";
import { GOLDEN_DIR, RECORD_KEYS, buildMi, loadGoldenMi } from "../support/golden-mi.js";
import type { GoldenExchange } from "../support/golden-mi.js";
import { httpPost } from "../support/mi-clients.js";

/** The `registrant` rows of the golden setup (golden/README.md). */
const GOLDEN_ROWS: RegistrantRow[] = [
  row({
    id: "1",
    aor: "sip:alice@example.test",
    registrar: "sip:127.0.0.1:5070",
    binding_URI: "sip:alice@127.0.0.1:5080",
    expiry: 60,
  }),
  row({
    id: "2",
    aor: "sip:bob@example.test",
    registrar: "sip:127.0.0.1:5070;transport=tcp",
    binding_URI: "sip:bob@127.0.0.1:5080;transport=tcp",
    binding_params: ';reg-id=1;+sip.instance="<urn:uuid:b0b-0001>"',
    forced_socket: "tcp:127.0.0.1:5080",
    expiry: 120,
  }),
  row({
    id: "3",
    aor: "sip:carol@example.test",
    registrar: "sip:127.0.0.1:5070",
    binding_URI: "sip:carol@127.0.0.1:5080",
    expiry: 60,
  }),
  row({
    id: "4",
    aor: "sip:dave@example.test",
    registrar: "sip:example.test",
    binding_URI: "sip:dave@127.0.0.1:5080",
    proxy: "sip:127.0.0.1:5070",
    third_party_registrant: "sip:admin@example.test",
    binding_params: ";transport=udp",
    expiry: 90,
    state: 1,
  }),
];

/** Deliberate differences (docs/compatibility.md #3, #21): [code, message] we answer instead. */
const DELIBERATE: Readonly<Record<string, readonly [number, string]>> = {
  "err-list-bad-uri": [404, "No such registrant"],
  "err-upsert-bad-aor": [-32602, "Invalid params"],
  "err-upsert-registrar-with-user": [-32602, "Invalid params"],
};

/** The order the exchanges were captured in: response Date, then SEQUENCE.log order. */
function inCaptureOrder(exchanges: GoldenExchange[]): GoldenExchange[] {
  const sequence = readFileSync(new URL("SEQUENCE.log", GOLDEN_DIR), "utf8")
    .split("\n")
    .map((l) => /^\S+ ([\w-]+)/.exec(l)?.[1] ?? "");
  const pos = (name: string) => {
    const i = sequence.indexOf(name);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  const date = (ex: GoldenExchange) => Date.parse(ex.response.headers["date"] ?? "");
  return [...exchanges].sort((a, b) => date(a) - date(b) || pos(a.name) - pos(b.name));
}

/** Same keys in the same order and the same value types, optional keys aside when live state differs. */
function assertRecordShape(ours: Record<string, unknown>, golden: Record<string, unknown>, what: string): void {
  assert.deepEqual(Object.keys(ours).slice(0, RECORD_KEYS.length), RECORD_KEYS, what);
  const goldenKeys = Object.keys(golden);
  const order = Object.keys(ours).map((k) => goldenKeys.indexOf(k));
  for (const [i, k] of Object.keys(ours).entries()) {
    if (order[i]! >= 0) assert.equal(typeof ours[k], typeof golden[k], `${what}: ${k}`);
  }
  const known = order.filter((i) => i >= 0);
  assert.deepEqual(
    known,
    [...known].sort((a, b) => a - b),
    `${what}: key order ${Object.keys(ours).join(",")}`,
  );
}

describe("golden uac_registrant exchanges replayed against the real RegistrantService", () => {
  let harness: EngineHarness;
  let http: MiHttpServer;
  const golden = loadGoldenMi();
  const exchanges = inCaptureOrder(golden.filter((e) => /uac_registrant:|"reg_/.test(e.request.body)));

  const subs = new Subscriptions({ outboxSize: 10, log: silentLogger });

  before(async () => {
    harness = new EngineHarness({ rows: GOLDEN_ROWS });
    // the events helper's EVI and Status/Report commands answer through the same dispatcher
    const sr = new StatusReport(harness.clock);
    sr.setCoreStatus("running");
    harness.service.onTableChange((c) => sr.onTableChange(c));
    harness.service.onStateChange((c) => sr.onStateChange(c));
    await harness.service.start();
    for (const event of REGISTRANT_EVENTS)
      subs.subscribe(event, "rabbitmq:guest:guest@127.0.0.1:5672/opensips_registrant");
    subs.subscribe(
      "E_REGISTRANT_REGISTERED",
      "rabbitmq:guest:guest@127.0.0.1:5672/exchange=amq.topic?opensips.registrant.registered",
    );
    const { dispatcher } = buildMi(harness.service);
    dispatcher.register(eventCommands(subs));
    dispatcher.register(sr.commands());
    http = await startMiHttp({ enabled: true, ip: "127.0.0.1", port: 0, root: "mi" }, dispatcher, silentLogger);
  });
  after(async () => {
    await http?.close();
    await harness?.service.stop({ unregister: false });
    await subs.close(100);
  });

  it("replays every exchange in capture order with the same status, codes, messages and shapes", async () => {
    assert.ok(exchanges.length > 40);
    for (const ex of exchanges) {
      const got = await httpPost(http.address().port, ex.request.body, { method: ex.request.method });
      assert.equal(got.status, ex.response.status, ex.name);
      if (ex.response.body === "") {
        assert.equal(got.body, "", ex.name);
        continue;
      }
      const want = JSON.parse(ex.response.body) as {
        result?: unknown;
        error?: { code: number; message: string };
        id: unknown;
      };
      const ours = JSON.parse(got.body) as typeof want;
      assert.equal(ours.id, want.id, ex.name);
      const deliberate = DELIBERATE[ex.name];
      if (deliberate) {
        assert.deepEqual([ours.error?.code, ours.error?.message], deliberate, ex.name);
        continue;
      }
      assert.deepEqual(Object.keys(ours), Object.keys(want), ex.name);
      if (want.error) {
        assert.deepEqual(ours.error, want.error, ex.name);
        continue;
      }
      const w = want.result as { Records?: Record<string, unknown>[]; Registrant?: Record<string, unknown> } | string;
      const o = ours.result as typeof w;
      if (typeof w === "string") {
        assert.equal(o, w, ex.name);
      } else if (w.Registrant) {
        assert.ok(typeof o === "object" && o.Registrant, ex.name);
        assertRecordShape(o.Registrant, w.Registrant, ex.name);
      } else {
        assert.ok(typeof o === "object" && Array.isArray(o.Records), ex.name);
        for (const r of o.Records) {
          const twin = w.Records!.find((g) => g["AOR"] === r["AOR"]) ?? w.Records![0]!;
          assertRecordShape(r, twin, `${ex.name} ${String(r["AOR"])}`);
        }
      }
    }
  });

  it("answers the EVI and Status/Report exchanges with the same status, errors and shapes", async () => {
    const others = golden.filter((e) =>
      /"(events_list|subscribers_list|sr_\w+|evi:\w+|status_report:\w+)"/.test(e.request.body),
    );
    assert.ok(others.length >= 10);
    for (const ex of others) {
      const got = await httpPost(http.address().port, ex.request.body);
      assert.equal(got.status, ex.response.status, ex.name);
      const want = JSON.parse(ex.response.body) as { result?: unknown; error?: unknown };
      const ours = JSON.parse(got.body) as typeof want;
      if (want.error) assert.deepEqual(ours.error, want.error, ex.name);
      else assert.deepEqual(shape(ours.result), shape(want.result), ex.name);
    }
  });
});

type Shape = string | Shape[] | { [k: string]: Shape };

/** Keys in order and value types; an array as the set of its element shapes. */
function shape(v: unknown): Shape {
  if (Array.isArray(v)) return [...new Map(v.map((x) => [JSON.stringify(shape(x)), shape(x)])).values()];
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
  return v === null ? "null" : typeof v;
}
