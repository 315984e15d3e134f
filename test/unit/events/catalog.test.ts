import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { Ajv } from "ajv";
import { REGISTRANT_EVENTS, buildEvent, eventForState } from "../../../src/events/catalog.js";
import { RegState } from "../../../src/registrant/state.js";
import { GOLDEN_CASES } from "../../support/golden-events.js";

const GOLDEN = new URL("../../fixtures/rabbitmq/", import.meta.url).pathname;

describe("event catalog", () => {
  it("builds each of the nine bodies byte for byte as OpenSIPS 4.0 did", () => {
    assert.equal(GOLDEN_CASES.length, REGISTRANT_EVENTS.length);
    for (const c of GOLDEN_CASES) {
      const ev = buildEvent({
        coords: c.coords,
        recordId: 7,
        from: RegState.NOT_REGISTERED_STATE,
        to: c.state,
        atMs: 0,
      });
      assert.ok(ev);
      assert.equal(ev.name, c.event);
      assert.equal(ev.body, readFileSync(`${GOLDEN}/${c.event}.body`, "utf8"));
    }
  });

  it("raises nothing for NOT_REGISTERED", () => {
    assert.equal(eventForState(RegState.NOT_REGISTERED_STATE), undefined);
    assert.equal(
      buildEvent({ coords: GOLDEN_CASES[0]!.coords, recordId: 1, from: 3, to: RegState.NOT_REGISTERED_STATE, atMs: 0 }),
      undefined,
    );
  });

  it("appends the cause only with extended_params", () => {
    const change = {
      coords: GOLDEN_CASES[0]!.coords,
      recordId: 42,
      from: RegState.REGISTERING_STATE,
      to: RegState.REGISTRAR_ERROR_STATE,
      atMs: 0,
      cause: { status: 503, reason: "Service Unavailable", destination: "udp:127.0.0.1:5095" },
    } as const;
    assert.deepEqual(JSON.parse(buildEvent(change)!.body).params, {
      aor: "sip:alice@example.test",
      contact: "sip:alice@127.0.0.1:5080",
      registrar: "sip:127.0.0.1:5070",
    });
    assert.equal(
      buildEvent(change, true)!.body,
      '{"jsonrpc":"2.0","method":"E_REGISTRANT_REGISTRAR_ERROR","params":{"aor":"sip:alice@example.test","contact":"sip:alice@127.0.0.1:5080","registrar":"sip:127.0.0.1:5070","status":503,"reason":"Service Unavailable","destination":"udp:127.0.0.1:5095","record_id":42}}',
    );
  });

  it("escapes like cJSON", () => {
    const ev = buildEvent({
      coords: { aor: 'sip:"q"\\x@h', contact: "sip:a\tb@h", registrar: "sip:h" },
      recordId: 1,
      from: 0,
      to: RegState.REGISTERED_STATE,
      atMs: 0,
    });
    assert.equal(
      ev!.body,
      '{"jsonrpc":"2.0","method":"E_REGISTRANT_REGISTERED","params":{"aor":"sip:\\"q\\"\\\\x@h","contact":"sip:a\\tb@h","registrar":"sip:h"}}',
    );
  });
});

describe("schemas/events/e_registrant.json", () => {
  it("accepts OpenSIPS's bodies and ours, plain and extended, and nothing looser", () => {
    const ajv = new Ajv({ allErrors: true, strict: true });
    const schema = JSON.parse(
      readFileSync(new URL("../../../schemas/events/e_registrant.json", import.meta.url), "utf8"),
    ) as object;
    const valid = ajv.compile(schema);
    for (const c of GOLDEN_CASES) {
      const ours = buildEvent({
        coords: c.coords,
        recordId: 3,
        from: 0,
        to: c.state,
        atMs: 0,
        cause: { status: 200, expiresSec: 60 },
      });
      for (const body of [readFileSync(`${GOLDEN}/${c.event}.body`, "utf8"), ours!.body]) {
        assert.ok(valid(JSON.parse(body)), JSON.stringify(valid.errors));
      }
      assert.ok(
        valid(JSON.parse(buildEvent({ coords: c.coords, recordId: 3, from: 0, to: c.state, atMs: 0 }, true)!.body)),
      );
    }
    assert.equal(
      valid({ jsonrpc: "2.0", method: "E_REGISTRANT_REGISTERED", params: { aor: "a", contact: "c" } }),
      false,
    );
    assert.equal(
      valid({
        jsonrpc: "2.0",
        id: 1,
        method: "E_REGISTRANT_REGISTERED",
        params: { aor: "a", contact: "c", registrar: "r" },
      }),
      false,
    );
  });
});
