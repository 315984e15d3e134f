import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { RegState, stateName } from "../../src/registrant/state.js";
import type { RegStateValue } from "../../src/registrant/state.js";
import { headerValue } from "../../src/sip/message.js";
import type { SipRequest } from "../../src/sip/message.js";
import type { RegistrantRow } from "../../src/registrant/record-spec.js";
import type { Coords } from "../../src/registrant/coords.js";
import { LiveEngine, row } from "../support/engine-harness.js";
import { SippServer } from "../support/sipp.js";
import type { SippOptions } from "../support/sipp.js";
import { until } from "../support/until.js";

const S = RegState;
const cseqOf = (m: SipRequest): number => Number(headerValue(m, "cseq")?.split(" ")[0]);
const callIdOf = (m: SipRequest): string => headerValue(m, "call-id") ?? "";

interface Case {
  readonly user: string;
  readonly sipp: SippOptions;
  readonly row?: Partial<Omit<RegistrantRow, "aor">>;
}

const CASES: Record<string, Case> = {
  p407: {
    user: "frank",
    sipp: { scenario: "uas-407-200.xml", transport: "udp", keys: { user: "frank", password: "frankpw" } },
  },
  i423: { user: "grace", sipp: { scenario: "engine-423-200.xml", transport: "udp", vars: { min: 120 } } },
  f403: { user: "heidi", sipp: { scenario: "engine-403.xml", transport: "udp", calls: 100 } },
  r503: {
    user: "ivan",
    sipp: { scenario: "engine-503-retry-after.xml", transport: "udp", vars: { after: 3 }, calls: 100 },
  },
  silent: { user: "judy", sipp: { scenario: "uas-silent.xml", transport: "udp", calls: 100 } },
  two: {
    user: "kate",
    sipp: { scenario: "engine-two-bindings.xml", transport: "udp", calls: 10 },
    row: { binding_params: ';reg-id=1;+sip.instance="<urn:uuid:kate-0001>"' },
  },
  m302: { user: "mike", sipp: { scenario: "engine-302.xml", transport: "udp", calls: 100 } },
  e500: { user: "nina", sipp: { scenario: "engine-500-then-200.xml", transport: "udp", calls: 100 } },
};

const sipps: SippServer[] = [];
const coords: Record<string, Coords> = {};
let engine: LiveEngine | undefined;

before(async () => {
  const rows: RegistrantRow[] = [];
  for (const [name, c] of Object.entries(CASES)) {
    const s = await SippServer.start({ timeoutSec: 300, ...c.sipp });
    sipps.push(s);
    const r = row({
      id: name,
      aor: `sip:${c.user}@sipp.test`,
      registrar: s.uri(),
      binding_URI: `sip:${c.user}@127.0.0.1:5080`,
      expiry: 60,
      ...c.row,
    });
    rows.push(r);
    coords[name] = { aor: r.aor!, contact: r.binding_URI!, registrar: r.registrar! };
  }
  engine = await LiveEngine.start({ rows, timerFMs: 3_000 });
});

after(async () => {
  await engine?.stop();
  await Promise.all(sipps.map((s) => s.stop()));
});

async function reach(name: string, state: RegStateValue, timeoutMs = 45_000): Promise<void> {
  const e = engine!;
  const c = coords[name]!;
  await until(`${name} in ${stateName(state)}`, () => e.state(c) === state, timeoutMs).catch((err: Error) => {
    const sent = e.registers(c.aor).map((m) => `cseq=${cseqOf(m)} ${callIdOf(m)} ${headerValue(m, "contact") ?? ""}`);
    throw new Error(`${err.message}: now ${stateName(e.state(c) as RegStateValue)}\n${sent.join("\n")}`);
  });
}

const sent = (name: string): SipRequest[] => engine!.registers(coords[name]!.aor);

describe("the engine against sipp registrars (loopback UDP)", { concurrency: true }, () => {
  test("407 → Proxy-Authorization → REGISTERED", async () => {
    await reach("p407", S.REGISTERED_STATE);
    const [first, second] = sent("p407");
    assert.equal(headerValue(first!, "proxy-authorization"), undefined);
    assert.match(headerValue(second!, "proxy-authorization") ?? "", /^Digest username="frank", realm="sipp.test"/);
    assert.equal(callIdOf(second!), callIdOf(first!));
    assert.equal(cseqOf(second!), 2);
  });

  test("423 Min-Expires: 120 → the retry asks for 120, same Call-ID, CSeq 2 → REGISTERED for 120 s", async () => {
    await reach("i423", S.REGISTERED_STATE);
    const [first, second] = sent("i423");
    assert.match(headerValue(first!, "contact") ?? "", /;expires=60$/);
    assert.match(headerValue(second!, "contact") ?? "", /;expires=120$/);
    assert.equal(callIdOf(second!), callIdOf(first!));
    assert.equal(cseqOf(second!), 2);
    assert.equal(engine!.service.find(coords["i423"]!)?.expiresSec, 120);
  });

  test("403 → REGISTRAR_ERROR; retried later with a new Call-ID", async () => {
    await reach("f403", S.REGISTRAR_ERROR_STATE);
    const firstAt = Date.now();
    await until("a retry", () => sent("f403").length >= 2, 40_000);
    const [a, b] = sent("f403");
    assert.notEqual(callIdOf(b!), callIdOf(a!));
    assert.equal(cseqOf(b!), 1);
    assert.ok(Date.now() - firstAt > 1_000, "not hammered on the next tick");
  });

  test("503 with Retry-After: 3 → REGISTRAR_ERROR, next try no sooner than 3 s", async () => {
    await reach("r503", S.REGISTRAR_ERROR_STATE);
    const view = engine!.service.find(coords["r503"]!)!;
    const failed = engine!.changes.filter(
      (c) => c.coords.aor === coords["r503"]!.aor && c.to === S.REGISTRAR_ERROR_STATE,
    );
    const waitMs = view.registrationTimeoutSec * 1000 - failed.at(-1)!.atMs;
    // the deadline is whole seconds, rounded up; the change is stamped a moment after it is computed
    assert.ok(waitMs >= 2_900 && waitMs <= 4_100, `deadline = Retry-After, got ${waitMs} ms`);
    await until("the retry", () => sent("r503").length >= 2, 30_000);
    const out = engine!.wire.filter((w) => w.direction === "out" && headerValue(w.message, "to")?.includes("ivan"));
    assert.ok(out[1]!.atMs - out[0]!.atMs >= 2_900, `waited ${out[1]!.atMs - out[0]!.atMs} ms`);
  });

  test("silence → REGISTER_TIMEOUT after Timer F", async () => {
    await reach("silent", S.REGISTER_TIMEOUT_STATE);
    assert.equal(engine!.service.find(coords["silent"]!)?.dstIp, undefined);
  });

  test("unique binding (reg-id + +sip.instance): one Contact: * removal, a fresh REGISTER, then loop protection", async () => {
    await until(
      "the fresh REGISTER answered",
      () => sent("two").length >= 3 && engine!.state(coords["two"]!) === S.REGISTERED_STATE,
      45_000,
    );
    const [reg, star, fresh] = sent("two");
    assert.match(headerValue(reg!, "contact") ?? "", /;reg-id=1;\+sip\.instance="<urn:uuid:kate-0001>";expires=60$/);
    assert.equal(headerValue(star!, "contact"), "*");
    assert.equal(headerValue(star!, "expires"), "0");
    assert.equal(callIdOf(star!), callIdOf(reg!));
    assert.equal(cseqOf(star!), 2);
    assert.notEqual(callIdOf(fresh!), callIdOf(reg!));
    assert.equal(cseqOf(fresh!), 1);
    assert.equal(sent("two").filter((m) => headerValue(m, "contact") === "*").length, 1, "only one removal");
  });

  test("302 → INTERNAL_ERROR; the backoff spaces the retries", async () => {
    await reach("m302", S.INTERNAL_ERROR_STATE);
    await until("a retry", () => sent("m302").length >= 2, 40_000);
    const out = engine!.wire.filter((w) => w.direction === "out" && headerValue(w.message, "to")?.includes("mike"));
    assert.ok(out[1]!.atMs - out[0]!.atMs >= 2_000, `retried after ${out[1]!.atMs - out[0]!.atMs} ms`);
  });

  test("500 then 200 → REGISTRAR_ERROR, then REGISTERED with a new Call-ID", async () => {
    await until("nina registered", () => engine!.state(coords["e500"]!) === S.REGISTERED_STATE, 45_000);
    const states = engine!.changes.filter((c) => c.coords.aor === coords["e500"]!.aor).map((c) => c.to);
    assert.ok(states.includes(S.REGISTRAR_ERROR_STATE));
    const [a, b] = sent("e500");
    assert.notEqual(callIdOf(b!), callIdOf(a!));
  });
});
