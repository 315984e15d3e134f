import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { pino } from "pino";
import { RegState } from "../../../src/registrant/state.js";
import type { StateChange } from "../../../src/registrant/state-change.js";
import { LOG_REDACTION } from "../../../src/log.js";
import { createStateLog, redactUriPassword, stateLogFields, stateLogMessage } from "../../../src/state-log.js";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split("\n")) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, log: pino({ level: "info" }, stream) };
}

const coords = { aor: "sip:alice@example.test", contact: "sip:alice@192.0.2.10:5060", registrar: "sip:example.test" };

describe("state log", () => {
  it("writes one info line per change with coords, states and the SIP cause", () => {
    const { lines, log } = capture();
    const listener = createStateLog(log);
    const change: StateChange = {
      coords,
      recordId: 7,
      from: RegState.AUTHENTICATING_STATE,
      to: RegState.REGISTERED_STATE,
      atMs: 1,
      cause: { status: 200, reason: "OK", expiresSec: 60, destination: "udp:192.0.2.1:5060" },
    };
    listener(change);
    listener({
      coords,
      recordId: 7,
      from: RegState.REGISTERING_STATE,
      to: RegState.REGISTER_TIMEOUT_STATE,
      atMs: 2,
      cause: { detail: "no final response" },
    });
    assert.equal(lines.length, 2);
    const [first, second] = lines;
    assert.equal(first!["level"], 30);
    assert.equal(first!["mod"], "registrant.state");
    assert.equal(first!["msg"], "sip:alice@example.test AUTHENTICATING_STATE -> REGISTERED_STATE (200 OK)");
    assert.deepEqual(
      {
        aor: first!["aor"],
        contact: first!["contact"],
        registrar: first!["registrar"],
        from: first!["from"],
        to: first!["to"],
        status: first!["status"],
        reason: first!["reason"],
        expires: first!["expires"],
        destination: first!["destination"],
        record_id: first!["record_id"],
      },
      {
        ...coords,
        from: "AUTHENTICATING_STATE",
        to: "REGISTERED_STATE",
        status: 200,
        reason: "OK",
        expires: 60,
        destination: "udp:192.0.2.1:5060",
        record_id: 7,
      },
    );
    assert.equal(
      second!["msg"],
      "sip:alice@example.test REGISTERING_STATE -> REGISTER_TIMEOUT_STATE (no final response)",
    );
  });

  it("masks a password written into a URI's userinfo", () => {
    assert.equal(
      redactUriPassword("sip:alice:s3cret@example.test;transport=tcp"),
      "sip:alice:[redacted]@example.test;transport=tcp",
    );
    assert.equal(redactUriPassword("sips:bob@example.test:5061"), "sips:bob@example.test:5061");
    assert.equal(redactUriPassword("sip:example.test:5060"), "sip:example.test:5060");
    assert.equal(redactUriPassword("sip:alice:pw@example.test:5060"), "sip:alice:[redacted]@example.test:5060");
    assert.equal(redactUriPassword("SIP:alice:p@ss@example.test"), "SIP:alice:[redacted]@ss@example.test");
    assert.equal(redactUriPassword("tel:+1555:pw@x"), "tel:+1555:[redacted]@x");
    const { lines, log } = capture();
    createStateLog(log)({
      coords: { ...coords, aor: "sip:alice:s3cret@example.test" },
      recordId: 1,
      from: 0,
      to: 1,
      atMs: 0,
    });
    assert.ok(!JSON.stringify(lines).includes("s3cret"));
  });

  it("builds no line while info is off", () => {
    const { lines, log } = capture();
    log.level = "warn";
    let reads = 0;
    createStateLog(log)({
      get coords() {
        reads++;
        return coords;
      },
      recordId: 1,
      from: 0,
      to: 1,
      atMs: 0,
    });
    assert.equal(reads, 0);
    assert.equal(lines.length, 0);
  });

  it("writes the same bytes as the daemon's redacting logger would, without its redaction pass", () => {
    const written: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        written.push(chunk.toString());
        cb();
      },
    });
    const root = pino(
      { level: "info", redact: LOG_REDACTION, base: { name: "registrantd" }, timestamp: false },
      stream,
    );
    const change: StateChange = {
      coords: { ...coords, aor: "sip:alice:pw@example.test" },
      recordId: 3,
      from: RegState.REGISTERING_STATE,
      to: RegState.REGISTRAR_ERROR_STATE,
      atMs: 1,
      cause: { status: 503, reason: "Service Unavailable", destination: "udp:192.0.2.1:5060", detail: "password" },
    };
    createStateLog(root)(change);
    root.child({ mod: "registrant.state" }).info(stateLogFields(change), stateLogMessage(change));
    assert.equal(written.length, 2);
    assert.equal(written[0], written[1]);
  });
});
