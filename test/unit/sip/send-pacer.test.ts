import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ManualClock } from "../../../src/clock.js";
import type { RegisterRequest, SendOutcome, StartTransaction } from "../../../src/sip/sip-client.js";
import { SendPacer } from "../../../src/sip/send-pacer.js";
import type { SendPacerOptions } from "../../../src/sip/send-pacer.js";
import { FakeTimers } from "../../support/engine-harness.js";
import { FakeSipClient, flush, FAKE_DESTINATION, response } from "../../support/fake-sip-client.js";

function req(i: number, registrar = "sip:registrar.test", proxy?: string): RegisterRequest {
  return {
    requestUri: registrar,
    ...(proxy !== undefined && { proxy }),
    to: `sip:u${i}@example.test`,
    from: `sip:u${i}@example.test`,
    fromTag: `t${i}`,
    callId: `c${i}`,
    cseq: 1,
    contact: { uri: `sip:u${i}@192.0.2.1`, params: "", expiresSec: 3600 },
  };
}

const OK: SendOutcome = { kind: "response", response: response(200), destination: FAKE_DESTINATION };

function setup(options: Partial<SendPacerOptions>) {
  const clock = new ManualClock(1_700_000_000_000, 0);
  const timers = new FakeTimers(clock);
  const inner = Object.assign(new FakeSipClient(), { hasSocket: (s: string) => s === "udp:127.0.0.1:5060" });
  const pacer = new SendPacer(inner, { maxInFlight: 0, rate: 0, ratePerRegistrar: 0, ...options }, clock, timers);
  return { clock, timers, inner, pacer };
}

describe("SendPacer", () => {
  it("passes everything straight through with every limit off", async () => {
    const { inner, pacer } = setup({});
    const outcomes = Array.from({ length: 100 }, (_, i) => pacer.send(req(i)));
    assert.equal(inner.sent.length, 100);
    for (const s of inner.sent) s.resolve(OK);
    assert.deepEqual(await Promise.all(outcomes), Array(100).fill(OK));
    assert.deepEqual(pacer.stats(), { inFlight: 0, queued: 0, paced: 0 });
    assert.equal(pacer.hasSocket("udp:127.0.0.1:5060"), true);
  });

  it("caps the transactions in flight and starts the queued ones in order as answers come", async () => {
    const { inner, pacer } = setup({ maxInFlight: 3 });
    const outcomes = Array.from({ length: 10 }, (_, i) => pacer.send(req(i)));
    assert.equal(inner.sent.length, 3);
    assert.deepEqual(pacer.stats(), { inFlight: 3, queued: 7, paced: 7 });
    for (let answered = 0; answered < 10; answered++) {
      inner.sent[answered]!.resolve(OK);
      await flush();
      assert.ok(inner.sent.length - (answered + 1) <= 3, "never more than 3 in flight");
    }
    assert.deepEqual(
      inner.sent.map((s) => s.request.callId),
      Array.from({ length: 10 }, (_, i) => `c${i}`),
    );
    assert.equal((await Promise.all(outcomes)).length, 10);
    assert.equal(pacer.stats().inFlight, 0);
  });

  it("keeps the overall rate: 100/s sends 100 per second on fake time, never ahead", async () => {
    const { inner, pacer, timers } = setup({ rate: 100 });
    for (let i = 0; i < 300; i++) void pacer.send(req(i, `sip:r${i % 7}.test`));
    const burst = inner.sent.length;
    assert.ok(burst >= 1 && burst <= 2, `initial burst ${burst}`);
    await timers.advance(1000);
    assert.ok(inner.sent.length >= 100 && inner.sent.length <= 102, `after 1 s: ${inner.sent.length}`);
    await timers.advance(1000);
    assert.ok(inner.sent.length >= 200 && inner.sent.length <= 202, `after 2 s: ${inner.sent.length}`);
    await timers.advance(1500);
    assert.equal(inner.sent.length, 300);
    assert.equal(timers.count, 0, "no timer left once the queue is empty");
  });

  it("limits each next hop on its own, next hops taking turns, the proxy being the next hop", async () => {
    const { inner, pacer, timers } = setup({ ratePerRegistrar: 10 });
    for (let i = 0; i < 30; i++) void pacer.send(req(i, "sip:slow.test"));
    for (let i = 30; i < 40; i++) void pacer.send(req(i, "sip:a.test", "sip:proxy.test"));
    for (let i = 40; i < 50; i++) void pacer.send(req(i, "sip:b.test", "sip:proxy.test"));
    await timers.advance(1000);
    const perHop = (pred: (r: RegisterRequest) => boolean) => inner.sent.filter((s) => pred(s.request)).length;
    const slow = perHop((r) => r.requestUri === "sip:slow.test");
    const viaProxy = perHop((r) => r.proxy === "sip:proxy.test");
    assert.ok(slow >= 10 && slow <= 11, `slow registrar after 1 s: ${slow}`);
    assert.ok(viaProxy >= 10 && viaProxy <= 11, `through the proxy after 1 s: ${viaProxy}`);
    await timers.advance(2500);
    assert.equal(inner.sent.length, 50);
  });

  it("a next hop with tokens is not held up by another one waiting for its next token", async () => {
    const { inner, pacer } = setup({ maxInFlight: 10, ratePerRegistrar: 1 });
    void pacer.send(req(1, "sip:a.test"));
    void pacer.send(req(2, "sip:a.test")); // waits about a second for a.test's next token
    void pacer.send(req(3, "sip:b.test"));
    await flush();
    assert.deepEqual(
      inner.sent.map((s) => s.request.callId),
      ["c1", "c3"],
    );
  });

  it("a request's transaction starts only when it leaves the queue (waiting is not a timeout)", async () => {
    const { inner, pacer, timers } = setup({ maxInFlight: 1, rate: 1000 });
    const first = pacer.send(req(1));
    const second = pacer.send(req(2));
    await timers.advance(60_000);
    assert.equal(inner.sent.length, 1, "the second waits while the first is in flight, however long");
    inner.sent[0]!.resolve({ kind: "timeout" });
    assert.deepEqual(await first, { kind: "timeout" });
    await flush();
    assert.equal(inner.sent.length, 2);
    inner.sent[1]!.resolve(OK);
    assert.deepEqual(await second, OK);
  });

  it("close() answers the waiting requests with a transport error and cancels its timer", async () => {
    const { inner, pacer, timers } = setup({ rate: 10 });
    const outcomes = Array.from({ length: 5 }, (_, i) => pacer.send(req(i)));
    assert.equal(inner.sent.length, 1);
    pacer.close();
    assert.equal(timers.count, 0);
    const results = await Promise.all(outcomes.slice(1));
    for (const r of results) assert.equal(r.kind, "transport-error");
    assert.equal(pacer.stats().queued, 0);
  });

  it("defer: the item waits as it is, onSlot builds and starts its request when it leaves the queue", async () => {
    const { inner, pacer } = setup({ maxInFlight: 1 });
    const built: number[] = [];
    const outcomes: SendOutcome[] = [];
    const onSlot = (i: number, start: StartTransaction): void => {
      built.push(i);
      start(req(i), (o) => outcomes.push(o));
    };
    for (let i = 0; i < 3; i++) pacer.defer("sip:registrar.test", i, onSlot);
    assert.deepEqual(built, [0], "only the one with a slot is built");
    assert.deepEqual(pacer.stats(), { inFlight: 1, queued: 2, paced: 2 });
    inner.sent[0]!.resolve(OK);
    await flush();
    assert.deepEqual(built, [0, 1]);
    inner.sent[1]!.resolve(OK);
    await flush();
    inner.sent[2]!.resolve(OK);
    await flush();
    assert.deepEqual(built, [0, 1, 2]);
    assert.equal(outcomes.length, 3);
    assert.equal(pacer.stats().inFlight, 0);
  });

  it("defer: a slot whose owner starts nothing goes to the next one in line", async () => {
    const { inner, pacer } = setup({ maxInFlight: 1 });
    const onSlot = (i: number, start: StartTransaction): void => {
      if (i !== 1) start(req(i), () => undefined);
    };
    for (let i = 0; i < 3; i++) pacer.defer("sip:registrar.test", i, onSlot);
    inner.sent[0]!.resolve(OK);
    await flush();
    assert.deepEqual(
      inner.sent.map((s) => s.request.callId),
      ["c0", "c2"],
    );
    assert.deepEqual(pacer.stats(), { inFlight: 1, queued: 0, paced: 2 });
  });

  it("defer: an urgent send (a challenge answer) goes before the sends waiting for their first slot", async () => {
    const { inner, pacer } = setup({ maxInFlight: 1 });
    const onSlot = (i: number, start: StartTransaction): void => start(req(i), () => undefined);
    for (let i = 0; i < 3; i++) pacer.defer("sip:registrar.test", i, onSlot);
    pacer.defer("sip:registrar.test", 10, onSlot, true);
    pacer.defer("sip:registrar.test", 11, onSlot, true);
    for (let i = 0; i < 4; i++) {
      inner.sent[i]!.resolve(OK);
      await flush();
    }
    assert.deepEqual(
      inner.sent.map((s) => s.request.callId),
      ["c0", "c10", "c11", "c1", "c2"],
    );
  });

  it("defer after close() hands the item a start that refuses with a transport error", async () => {
    const { pacer } = setup({ maxInFlight: 1 });
    const outcomes: SendOutcome[] = [];
    const onSlot = (i: number, start: StartTransaction): void => start(req(i), (o) => outcomes.push(o));
    pacer.defer("sip:registrar.test", 0, onSlot);
    pacer.defer("sip:registrar.test", 1, onSlot);
    pacer.close();
    await flush();
    assert.deepEqual(
      outcomes.map((o) => o.kind),
      ["transport-error"],
    );
  });

  it("observers see each outcome and its duration before the sender; a rejected send is a transport error", async () => {
    const { clock, inner, pacer } = setup({ maxInFlight: 1 });
    const seen: [string, string, number][] = [];
    pacer.observe((r, o, ms) => seen.push([r.callId, o.kind, ms]));
    const first = pacer.send(req(1)).then((o) => {
      assert.deepEqual(seen, [["c1", "response", 250]], "observed before its sender hears of it");
      return o;
    });
    const second = pacer.send(req(2));
    clock.advance(250);
    inner.sent[0]!.resolve(OK);
    assert.deepEqual(await first, OK);
    await flush();
    inner.sent[1]!.resolve(Promise.reject(new Error("boom")) as unknown as SendOutcome);
    const failed = await second;
    assert.equal(failed.kind === "transport-error" && failed.error.message, "boom");
    assert.deepEqual(seen.length, 1, "a send that rejects has no outcome to observe");
    assert.equal(pacer.stats().inFlight, 0);
  });

  it("an inner client with start(): the callback is used, not send(); observers, slot and sender as with a promise", async () => {
    const clock = new ManualClock(1_700_000_000_000, 0);
    const started: [RegisterRequest, (o: SendOutcome) => void][] = [];
    const inner = {
      send: (): Promise<SendOutcome> => Promise.reject(new Error("send() used")),
      start: (r: RegisterRequest, done: (o: SendOutcome) => void) => void started.push([r, done]),
      hasSocket: () => true,
    };
    const pacer = new SendPacer(inner, { maxInFlight: 1, rate: 0, ratePerRegistrar: 0 }, clock, new FakeTimers(clock));
    const seen: string[] = [];
    pacer.observe((r, o, ms) => seen.push(`${r.callId} ${o.kind} ${ms}`));
    const first = pacer.send(req(1));
    const second = pacer.send(req(2));
    assert.deepEqual(
      started.map(([r]) => r.callId),
      ["c1"],
    );
    clock.advance(40);
    started[0]![1](OK);
    assert.deepEqual(seen, ["c1 response 40"]);
    assert.deepEqual(
      started.map(([r]) => r.callId),
      ["c1", "c2"],
      "the slot is free at once",
    );
    started[1]![1](OK);
    assert.deepEqual(await Promise.all([first, second]), [OK, OK]);
    assert.deepEqual(pacer.stats(), { inFlight: 0, queued: 0, paced: 1 });
  });

  it("refuses negative or non-finite limits", () => {
    assert.throws(() => setup({ rate: -1 }), RangeError);
    assert.throws(() => setup({ maxInFlight: Number.NaN }), RangeError);
  });
});
