import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../../../src/clock.js";
import { Metrics } from "../../../src/metrics/metrics.js";
import type { EventsCountersLike, SipStatsLike } from "../../../src/metrics/metrics.js";
import { transactionMetrics } from "../../../src/metrics/sip-client-metrics.js";
import type { RecordView } from "../../../src/registrant/operations.js";
import { RegState } from "../../../src/registrant/state.js";
import type { RegStateValue } from "../../../src/registrant/state.js";
import { SendPacer } from "../../../src/sip/send-pacer.js";
import type { SendOutcome } from "../../../src/sip/sip-client.js";
import { parsePromText, sampleValue } from "../../support/prom-text.js";

function view(i: number, state: RegStateValue, enabled = true): RecordView {
  return {
    aor: `sip:u${i}@x.test`,
    contact: `sip:u${i}@10.0.0.1`,
    registrar: "sip:reg.test",
    recordId: i,
    expiresSec: 60,
    state,
    enabled,
    lastRegisterSentSec: 0,
    registrationTimeoutSec: 0,
  };
}

function setup(opts: { maxRegistrars?: number } = {}) {
  const clock = new ManualClock(1_700_000_000_000);
  const records = [
    view(1, RegState.REGISTERED_STATE),
    view(2, RegState.REGISTERED_STATE),
    view(3, RegState.WRONG_CREDENTIALS_STATE, false),
  ];
  const sip: SipStatsLike = { sent: 12, retransmissions: 3, timeouts: 1, transportErrors: 2, inFlight: 4 };
  const events: EventsCountersLike = {
    raised: 9,
    rabbitmq: [
      { socket: "rabbitmq:guest@127.0.0.1/registrant", counters: { connected: true, published: 7, dropped: 2 } },
    ],
    websocket: { clients: 1, sent: 11, slowConsumerCutoffs: 0 },
  };
  let dbUp = true;
  const metrics = new Metrics({
    clock,
    records: () => records,
    sip: () => sip,
    events: () => events,
    db: () => ({ kind: "mariadb", up: dbUp }),
    ...(opts.maxRegistrars === undefined ? {} : { maxRegistrars: opts.maxRegistrars }),
  });
  return { clock, metrics, records, setDb: (v: boolean) => (dbUp = v) };
}

const coords = (i: number, registrar = "sip:reg.test") => ({
  aor: `sip:u${i}@x.test`,
  contact: `sip:u${i}@10.0.0.1`,
  registrar,
});

describe("Metrics", () => {
  it("serves every family in a valid exposition with the values of its sources", async () => {
    const { metrics, clock, setDb } = setup();
    metrics.onStateChange({
      coords: coords(1),
      recordId: 1,
      from: RegState.NOT_REGISTERED_STATE,
      to: RegState.REGISTERING_STATE,
      atMs: clock.nowMs(),
    });
    metrics.onStateChange({
      coords: coords(1),
      recordId: 1,
      from: RegState.REGISTERING_STATE,
      to: RegState.AUTHENTICATING_STATE,
      atMs: clock.nowMs() + 20,
    });
    metrics.onStateChange({
      coords: coords(1),
      recordId: 1,
      from: RegState.AUTHENTICATING_STATE,
      to: RegState.REGISTERED_STATE,
      atMs: clock.nowMs() + 40,
    });
    clock.advance(5_040);
    metrics.observeTransaction(0.02, 401);
    metrics.observeTransaction(0.02, 200);
    metrics.observeTransaction(32, undefined);
    metrics.observeMiRequest("uac_registrant:list", "ok");
    metrics.observeMiRequest("unknown", "error");
    setDb(false);

    const f = parsePromText(await metrics.scrape());
    assert.equal(sampleValue(f, "registrantd_registrants", { state: "REGISTERED_STATE" }), 2);
    assert.equal(sampleValue(f, "registrantd_registrants", { state: "WRONG_CREDENTIALS_STATE" }), 1);
    assert.equal(sampleValue(f, "registrantd_registrants", { state: "NOT_REGISTERED_STATE" }), 0);
    assert.equal(f.get("registrantd_registrants")!.samples.length, 10, "every state, zeros included");
    assert.equal(sampleValue(f, "registrantd_registrants_disabled"), 1);
    assert.equal(sampleValue(f, "registrantd_register_sent_total"), 12);
    assert.equal(sampleValue(f, "registrantd_register_retransmissions_total"), 3);
    assert.equal(sampleValue(f, "registrantd_register_timeouts_total"), 1);
    assert.equal(sampleValue(f, "registrantd_register_transport_errors_total"), 2);
    assert.equal(sampleValue(f, "registrantd_transactions_in_flight"), 4);
    assert.equal(sampleValue(f, "registrantd_register_replies_total", { code: "401" }), 1);
    assert.equal(sampleValue(f, "registrantd_register_replies_total", { code: "200" }), 1);
    assert.equal(
      sampleValue(f, "registrantd_register_duration_seconds", {}, "registrantd_register_duration_seconds_count"),
      3,
    );
    assert.equal(
      sampleValue(f, "registrantd_registration_latency_seconds", {}, "registrantd_registration_latency_seconds_count"),
      1,
    );
    assert.equal(
      sampleValue(f, "registrantd_registration_latency_seconds", {}, "registrantd_registration_latency_seconds_sum"),
      0.04,
    );
    assert.equal(
      sampleValue(
        f,
        "registrantd_registration_latency_seconds",
        { le: "0.025" },
        "registrantd_registration_latency_seconds_bucket",
      ),
      0,
    );
    assert.equal(
      sampleValue(
        f,
        "registrantd_registration_latency_seconds",
        { le: "0.05" },
        "registrantd_registration_latency_seconds_bucket",
      ),
      1,
    );
    assert.equal(sampleValue(f, "registrantd_registrar_seconds_since_last_success", { registrar: "sip:reg.test" }), 5);
    assert.equal(sampleValue(f, "registrantd_events_raised_total"), 9);
    assert.equal(
      sampleValue(f, "registrantd_events_published_total", { sink: "rabbitmq:guest@127.0.0.1/registrant" }),
      7,
    );
    assert.equal(sampleValue(f, "registrantd_events_published_total", { sink: "websocket" }), 11);
    assert.equal(
      sampleValue(f, "registrantd_events_dropped_total", { sink: "rabbitmq:guest@127.0.0.1/registrant" }),
      2,
    );
    assert.equal(sampleValue(f, "registrantd_broker_up", { sink: "rabbitmq:guest@127.0.0.1/registrant" }), 1);
    assert.equal(sampleValue(f, "registrantd_db_up", { kind: "mariadb" }), 0);
    assert.equal(sampleValue(f, "registrantd_mi_requests_total", { command: "uac_registrant:list", result: "ok" }), 1);
    assert.equal(sampleValue(f, "registrantd_mi_requests_total", { command: "unknown", result: "error" }), 1);
    assert.equal(sampleValue(f, "registrantd_websocket_clients"), 1);
    assert.ok(sampleValue(f, "nodejs_eventloop_lag_seconds")! >= 0);
    for (const fam of f.values()) if (fam.name.startsWith("registrantd_")) assert.ok(fam.help, `${fam.name} has HELP`);
    metrics.close();
  });

  it("keeps the registrar label set bounded: later registrars are `other`", async () => {
    const { metrics, clock } = setup({ maxRegistrars: 2 });
    for (let i = 0; i < 5; i++) {
      metrics.onStateChange({
        coords: coords(i, `sip:reg${i}.test`),
        recordId: i,
        from: RegState.REGISTERING_STATE,
        to: RegState.REGISTERED_STATE,
        atMs: clock.nowMs() - i * 1000,
      });
    }
    const f = parsePromText(await metrics.scrape());
    const labels = f.get("registrantd_registrar_seconds_since_last_success")!.samples.map((s) => s.labels["registrar"]);
    assert.deepEqual(labels.sort(), ["other", "sip:reg0.test", "sip:reg1.test"]);
    assert.equal(
      sampleValue(f, "registrantd_registrar_seconds_since_last_success", { registrar: "other" }),
      2,
      "the freshest of the rest",
    );
    metrics.close();
  });

  it("ignores status codes outside 100-699 and measures transactions as the send pacer's observer", async () => {
    const { metrics, clock } = setup();
    metrics.observeTransaction(0.1, 42);
    const outcome = {
      kind: "response",
      response: { kind: "response", status: 423, reason: "Interval Too Brief", headers: [], body: Buffer.alloc(0) },
      destination: { transport: "udp", address: "10.0.0.9", port: 5060, socket: "udp:10.0.0.1:5060" },
    } as const satisfies SendOutcome;
    const inner = {
      send: async () => {
        clock.advance(150);
        return outcome;
      },
      hasSocket: () => true,
    };
    const client = new SendPacer(inner, { maxInFlight: 0, rate: 0, ratePerRegistrar: 0 }, clock);
    client.observe(transactionMetrics(metrics));
    await client.send({
      requestUri: "sip:r",
      to: "sip:a@r",
      from: "sip:a@r",
      fromTag: "t",
      callId: "c",
      cseq: 1,
      contact: "*",
    });
    const f = parsePromText(await metrics.scrape());
    assert.deepEqual(
      f.get("registrantd_register_replies_total")!.samples.map((s) => s.labels["code"]),
      ["423"],
    );
    assert.equal(
      sampleValue(f, "registrantd_register_duration_seconds", {}, "registrantd_register_duration_seconds_sum"),
      0.25,
    );
    metrics.close();
  });
});

describe("parsePromText (strict)", () => {
  const ok = "# HELP a_total A.\n# TYPE a_total counter\na_total 1\n";
  it("accepts a plain exposition", () => {
    assert.equal(parsePromText(ok).get("a_total")!.samples[0]!.value, 1);
  });
  for (const [why, text] of [
    ["no final newline", ok.slice(0, -1)],
    ["TYPE after samples", "a 1\n# TYPE a gauge\n"],
    ["second TYPE", "# TYPE a gauge\n# TYPE a gauge\na 1\n"],
    ["split family", '# TYPE a gauge\na{x="1"} 1\n# TYPE b gauge\nb 1\na{x="2"} 2\n'],
    ["duplicate series", '# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n'],
    ["negative counter", "# TYPE a_total counter\na_total -1\n"],
    ["bad label escape", '# TYPE a gauge\na{x="\\t"} 1\n'],
    ["bad value", "# TYPE a gauge\na one\n"],
    ["histogram without +Inf", '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
    ["histogram not cumulative", '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ["+Inf != count", '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n'],
    ["foreign suffix", "# TYPE a gauge\na_sum 1\n# TYPE a_sum gauge\n"],
  ] as const) {
    it(`refuses: ${why}`, () => assert.throws(() => parsePromText(text)));
  }
});
