import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../../../src/clock.js";
import { MiError } from "../../../src/errors.js";
import { SipTrace } from "../../../src/trace/sip-trace.js";
import { traceCommands } from "../../../src/trace/trace-commands.js";

const rec = { aor: "sip:a@x.test", contact: "sip:a@10.0.0.1", registrar: "sip:reg.test" };
const register =
  'REGISTER sip:reg.test SIP/2.0\r\nTo: <sip:a@x.test>\r\nContact: <sip:a@10.0.0.1>;expires=60\r\nCall-ID: c1\r\nAuthorization: Digest username="a", response="deadbeef"\r\n\r\n';

function setup() {
  const trace = new SipTrace({ clock: new ManualClock(1_700_000_000_500) });
  const cmds = traceCommands({
    trace,
    exists: (c) => c.aor === rec.aor && c.contact === rec.contact && c.registrar === rec.registrar,
  });
  const byName = (n: string) => cmds.find((c) => c.name === n)!;
  return { trace, global: byName("registrantd:trace"), record: byName("registrantd:record_trace") };
}

describe("registrantd trace MI commands", () => {
  it("names and recipes", () => {
    const { global, record } = setup();
    assert.deepEqual(
      global.recipes.map((r) => r.map((p) => p.name)),
      [[], ["trace_mode"]],
    );
    assert.deepEqual(
      record.recipes.map((r) => r.map((p) => p.name)),
      [
        ["aor", "contact", "registrar"],
        ["aor", "contact", "registrar", "trace_mode"],
      ],
    );
  });

  it("registrantd:trace reads and switches the global mode", () => {
    const { trace, global } = setup();
    assert.deepEqual(global.handler({}), { trace_mode: "off", traced_records: 0 });
    assert.deepEqual(global.handler({ trace_mode: "on" }), { trace_mode: "on", traced_records: 0 });
    assert.equal(trace.globalEnabled, true);
    assert.throws(
      () => global.handler({ trace_mode: "maybe" }),
      (e: unknown) => e instanceof MiError && e.miCode === 400,
    );
  });

  it("registrantd:record_trace switches one record and returns its messages", () => {
    const { trace, record } = setup();
    const r = record.handler({ ...rec, trace_mode: "on" }) as Record<string, unknown>;
    assert.equal(r["trace_mode"], "on");
    assert.equal(r["traced"], true);
    trace.callback({ kind: "out", callId: "c1", bytes: register, peer: "udp:10.0.0.9:5060" });
    trace.callback({ kind: "timeout", callId: "c1", detail: "no final response" });
    const got = record.handler(rec) as { Messages: Record<string, unknown>[] };
    assert.deepEqual(
      got.Messages.map((m) => m["kind"]),
      ["out", "timeout"],
    );
    assert.equal(got.Messages[0]!["timestamp"], 1_700_000_000.5);
    assert.equal(got.Messages[0]!["date"], "2023-11-14T22:13:20.500Z");
    assert.equal(got.Messages[0]!["peer"], "udp:10.0.0.9:5060");
    assert.ok(!JSON.stringify(got).includes("deadbeef"));
    const back = record.handler({ ...rec, trace_mode: "default" }) as Record<string, unknown>;
    assert.equal(back["trace_mode"], "default");
    assert.equal(back["traced"], false);
  });

  it("answers 404 for a record that is not in memory, like uac_registrant", () => {
    const { record } = setup();
    assert.throws(
      () => record.handler({ ...rec, aor: "sip:nobody@x.test" }),
      (e: unknown) => e instanceof MiError && e.miCode === 404 && e.message === "No such registrant",
    );
  });
});
