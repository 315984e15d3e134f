process.env["TZ"] = "UTC";

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ManualClock } from "../../../src/clock.js";
import { MiError } from "../../../src/errors.js";
import { silentLogger } from "../../../src/log.js";
import { createMiDispatcher } from "../../../src/mi/dispatch.js";
import type { MiCommand, MiParams } from "../../../src/mi/command.js";
import type { Coords } from "../../../src/registrant/coords.js";
import type { TableChange } from "../../../src/registrant/state-change.js";
import { RegState, stateName } from "../../../src/registrant/state.js";
import type { RegStateValue } from "../../../src/registrant/state.js";
import { StatusReport } from "../../../src/status/status-report.js";

const GOLDEN = new URL("../../fixtures/mi/golden/", import.meta.url).pathname;

function goldenResult(file: string): unknown {
  const text = readFileSync(`${GOLDEN}/${file}`, "utf8");
  const body = text.slice(text.lastIndexOf("\n{") + 1);
  const reply = JSON.parse(body) as { result?: unknown; error?: unknown };
  return reply.result ?? reply.error;
}

function run(cmds: MiCommand[], name: string, params: MiParams = {}): unknown {
  const cmd = cmds.find((c) => c.name === name || c.aliases?.includes(name));
  assert.ok(cmd, `command ${name}`);
  return cmd.handler(params);
}

const alice: Coords = {
  aor: "sip:alice@example.test",
  contact: "sip:alice@127.0.0.1:5080",
  registrar: "sip:127.0.0.1:5070",
};
const bob: Coords = {
  aor: "sip:bob@example.test",
  contact: "sip:bob@127.0.0.1:5080;transport=tcp",
  registrar: "sip:127.0.0.1:5070;transport=tcp",
};
const carol: Coords = {
  aor: "sip:carol@example.test",
  contact: "sip:carol@127.0.0.1:5080",
  registrar: "sip:127.0.0.1:5070",
};
const dave: Coords = {
  aor: "sip:dave@example.test",
  contact: "sip:dave@127.0.0.1:5080",
  registrar: "sip:example.test",
};

/** replays the golden capture's life of the four DB records */
function goldenLife(): StatusReport {
  const clock = new ManualClock(1795422243_000);
  const sr = new StatusReport(clock);
  sr.setCoreStatus("running");
  const records = [alice, bob, carol, dave];
  records.forEach((coords, i) => sr.onTableChange({ kind: "added", coords, recordId: i + 1 }));
  let from: RegStateValue = RegState.NOT_REGISTERED_STATE;
  const go = (coords: Coords, atSec: number, ...states: RegStateValue[]) => {
    for (const to of states) {
      sr.onStateChange({ coords, recordId: records.indexOf(coords) + 1, from, to, atMs: atSec * 1000 + 123 });
      from = to;
    }
  };
  const { REGISTERING_STATE: R, AUTHENTICATING_STATE: A, REGISTERED_STATE: OK, WRONG_CREDENTIALS_STATE: W } = RegState;
  go(alice, 1795422249, R, A, OK);
  go(bob, 1795422254, R, A, OK);
  go(carol, 1795422254, R, A, W);
  go(alice, 1795422289, R, A, OK);
  go(carol, 1795422304, R, A, W);
  return sr;
}

describe("StatusReport", () => {
  it("sr_list_reports after the records' life equals the golden capture", () => {
    const cmds = goldenLife().commands();
    assert.deepEqual(
      run(cmds, "sr_list_reports", { group: "uac_registrant" }),
      goldenResult("sr_list_reports-uac_registrant.http"),
    );
    assert.deepEqual(
      run(cmds, "status_report:reports", { group: "uac_registrant" }),
      goldenResult("status_report-reports-uac_registrant.http"),
    );
    assert.deepEqual(
      run(cmds, "sr_list_reports", {
        group: "uac_registrant",
        identifier: "aor=sip:alice@example.test;contact=sip:alice@127.0.0.1:5080;registrar=sip:127.0.0.1:5070",
      }),
      goldenResult("sr_list_reports-one.http"),
    );
  });

  it("status, identifiers and the all-groups listing have the golden shapes", () => {
    const cmds = goldenLife().commands();
    assert.deepEqual(
      run(cmds, "sr_list_status", { group: "uac_registrant" }),
      goldenResult("sr_list_status-uac_registrant.http"),
    );
    assert.deepEqual(
      run(cmds, "status_report:status", { group: "uac_registrant" }),
      goldenResult("status_report-status-uac_registrant.http"),
    );
    assert.deepEqual(run(cmds, "sr_list_status"), goldenResult("sr_list_status-all.http"));
    assert.deepEqual(
      run(cmds, "sr_list_identifiers", { group: "uac_registrant" }),
      goldenResult("sr_list_identifiers-uac_registrant.http"),
    );
  });

  it("through the MI dispatcher, every golden sr_* / status_report:* reply is byte-identical", async () => {
    const mi = createMiDispatcher({ log: silentLogger, commands: goldenLife().commands() });
    for (const file of [
      "sr_list_reports-uac_registrant.http",
      "status_report-reports-uac_registrant.http",
      "sr_list_reports-one.http",
      "sr_list_status-uac_registrant.http",
      "status_report-status-uac_registrant.http",
      "sr_list_status-all.http",
      "sr_get_status-uac_registrant.http",
      "sr_list_identifiers-uac_registrant.http",
    ]) {
      const text = readFileSync(`${GOLDEN}/${file}`, "utf8");
      const [request, response] = text.split("=== RESPONSE ===");
      const requestBody = request!.slice(request!.indexOf("\r\n\r\n") + 4).trim();
      const responseBody = response!.slice(response!.indexOf("\r\n\r\n") + 4);
      const out = await mi.handle(requestBody, "http");
      assert.equal(out.kind, "reply", file);
      assert.equal(out.kind === "reply" ? out.text : "", responseBody, file);
    }
  });

  it("answers OpenSIPS's 404s and the aggregate", () => {
    const cmds = goldenLife().commands();
    assert.throws(
      () => run(cmds, "sr_get_status", { group: "uac_registrant" }),
      (e: unknown) => e instanceof MiError && e.miCode === 404 && e.message === "Identity not found",
    );
    assert.deepEqual(goldenResult("sr_get_status-uac_registrant.http"), { code: 404, message: "Identity not found" });
    assert.throws(
      () => run(cmds, "sr_list_status", { group: "nope" }),
      (e: unknown) => e instanceof MiError && e.miCode === 404 && e.message === "Group not found",
    );
    assert.throws(
      () => run(cmds, "sr_list_reports", { group: "uac_registrant", identifier: "x" }),
      (e: unknown) => e instanceof MiError && e.miCode === 404 && e.message === "Identifier not found",
    );
    assert.deepEqual(run(cmds, "sr_get_status", { group: "uac_registrant", identifier: "all" }), {
      Readiness: false,
      Status: -1,
      Details: "aggregated",
    });
    assert.deepEqual(run(cmds, "sr_get_status", { group: "core" }), { Readiness: true, Status: 1, Details: "running" });
    assert.deepEqual(
      run(cmds, "status_report:get", {
        group: "uac_registrant",
        identifier:
          "aor=sip:bob@example.test;contact=sip:bob@127.0.0.1:5080;transport=tcp;registrar=sip:127.0.0.1:5070;transport=tcp",
      }),
      { Readiness: true, Status: 1, Details: "REGISTERED_STATE" },
    );
  });

  it("finds one identifier by its name without listing the group, also when a URI holds ';contact='", () => {
    const sr = goldenLife();
    const odd: Coords = {
      aor: "sip:odd@example.test;contact=x",
      contact: "sip:odd@127.0.0.1;registrar=y",
      registrar: "sip:127.0.0.1:5070",
    };
    sr.onTableChange({ kind: "added", coords: odd, recordId: 9 });
    for (const listed of sr.identifiers("uac_registrant")!) {
      const one = sr.identifier("uac_registrant", listed.name);
      assert.ok(one, listed.name);
      assert.deepEqual(
        [one.name, one.status, one.details, one.reports],
        [listed.name, listed.status, listed.details, listed.reports],
      );
    }
    assert.equal(sr.identifiers("uac_registrant")!.length, 5);
    assert.equal(sr.identifier("uac_registrant", "aor=sip:x@y;contact=sip:x@z;registrar=sip:y"), undefined);
    assert.equal(sr.identifier("uac_registrant", "main"), undefined);
    assert.equal(sr.identifier("core", "main")?.details, "running");
    assert.equal(sr.identifier("nope", "main"), undefined);
  });

  it("keeps 20 reports and removes the identifier with its record", () => {
    const sr = new StatusReport(new ManualClock());
    sr.onTableChange({ kind: "added", coords: alice, recordId: 1 });
    for (let i = 0; i < 30; i++) {
      sr.onStateChange({ coords: alice, recordId: 1, from: 0, to: i % 2 ? 1 : 3, atMs: 1_700_000_000_000 + i * 1000 });
    }
    const [ident] = sr.identifiers("uac_registrant")!;
    assert.equal(ident!.reports.length, 20);
    assert.equal(ident!.reports[19]!.log, "state changed to REGISTERING_STATE\n");
    sr.onTableChange({ kind: "removed", coords: alice, recordId: 1 });
    assert.deepEqual(sr.identifiers("uac_registrant"), []);
  });
});

describe("StatusReport's compact store", () => {
  /** the identifiers as a Map keyed by name would keep them: the behaviour the compact store must reproduce */
  class ModelReport {
    readonly idents = new Map<string, { state: RegStateValue; reports: { timestampSec: number; log: string }[] }>();
    change(coords: Coords, to: RegStateValue | "added" | "removed", atSec: number): void {
      const name = `aor=${coords.aor};contact=${coords.contact};registrar=${coords.registrar}`;
      if (to === "removed") {
        this.idents.delete(name);
        return;
      }
      let ident = this.idents.get(name);
      if (ident === undefined) {
        ident = { state: 0, reports: [{ timestampSec: atSec, log: "created with state NOT_REGISTERED_STATE\n" }] };
        this.idents.set(name, ident);
      }
      if (to === "added") return;
      ident.state = to;
      ident.reports.push({ timestampSec: atSec, log: `state changed to ${stateName(to)}\n` });
      if (ident.reports.length > 20) ident.reports.shift();
    }
  }

  it("lists what a Map keyed by identifier lists, through shared AORs, removals, re-additions and slot reuse", () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    // 3 AORs × 2 contacts × 2 registrars: many records share an AOR; fresh string objects each time
    const KEYS = 12;
    const coordsOf = (i: number): Coords => ({
      aor: `sip:u${i % 3}@example.test`,
      contact: `sip:u${i % 3}@10.0.0.${(i >> 2) % 2}`,
      registrar: `sip:r${(i >> 1) % 2}.example.test`,
    });
    // the engine's records: one in the table per coordinates, and retired ones finishing their unREGISTER,
    // which keep raising state changes under the same coordinates until they are removed
    let nextId = 1;
    const live = new Map<number, number>();
    const retired: { key: number; id: number }[] = [];
    const clock = new ManualClock(1_795_000_000_000);
    const sr = new StatusReport(clock);
    const model = new ModelReport();
    for (let step = 0; step < 4000; step++) {
      clock.advance(1000);
      const key = random(KEYS);
      const coords = coordsOf(key);
      const atSec = Math.floor(clock.nowMs() / 1000);
      const id = live.get(key);
      // removals rare enough for rings to wrap
      const op = random(40);
      if (op === 0 && id !== undefined) {
        live.delete(key);
        retired.push({ key, id });
      } else if (op === 1 && retired.length > 0) {
        const gone = retired.splice(random(retired.length), 1)[0]!;
        sr.onTableChange({ kind: "removed", coords: coordsOf(gone.key), recordId: gone.id });
        model.change(coordsOf(gone.key), "removed", atSec);
      } else if (op < 5 || id === undefined) {
        const recordId = nextId++;
        live.set(key, recordId);
        const change: TableChange =
          id === undefined
            ? { kind: "added", coords, recordId }
            : { kind: "replaced", coords, recordId, previousId: id };
        sr.onTableChange(change);
        model.change(coords, "added", atSec);
      } else {
        const old = retired.find((r) => r.key === key && random(2) === 0);
        const to = random(10) as RegStateValue;
        sr.onStateChange({ coords, recordId: old?.id ?? id, from: 0, to, atMs: clock.nowMs() });
        model.change(coords, to, atSec);
      }
      const got = sr.identifiers("uac_registrant")!.map((i) => ({
        name: i.name,
        status: i.status,
        details: i.details,
        reports: i.reports.map((r) => ({ timestampSec: r.timestampSec, log: r.log })),
      }));
      const want = [...model.idents].reverse().map(([name, i]) => ({
        name,
        status: i.state === RegState.REGISTERED_STATE ? 1 : -1,
        details: stateName(i.state),
        reports: i.reports,
      }));
      assert.deepEqual(got, want, `step ${step}`);
    }
  });

  it("does not follow a record id to a slot its identifier left, even when a record with the same AOR took it", () => {
    const clock = new ManualClock(1_795_000_000_000);
    const sr = new StatusReport(clock);
    const other = { ...alice, contact: "sip:alice@127.0.0.9:5080" };
    // record 1 retired while record 2 took its place with the same coordinates: one identifier for both
    sr.onTableChange({ kind: "added", coords: alice, recordId: 1 });
    sr.onTableChange({ kind: "added", coords: alice, recordId: 2 });
    sr.onStateChange({ coords: alice, recordId: 2, from: 0, to: RegState.REGISTERING_STATE, atMs: clock.nowMs() });
    // the retired record is forgotten: the identifier goes (as OpenSIPS's name-keyed store would have it)
    sr.onTableChange({ kind: "removed", coords: alice, recordId: 1 });
    // a record with the same AOR reuses the freed slot
    sr.onTableChange({ kind: "added", coords: other, recordId: 3 });
    sr.onStateChange({ coords: alice, recordId: 2, from: 1, to: RegState.REGISTERED_STATE, atMs: clock.nowMs() });
    assert.deepEqual(
      sr.identifiers("uac_registrant")!.map((i) => [i.name, i.details, i.reports.length]),
      [
        [`aor=${alice.aor};contact=${alice.contact};registrar=${alice.registrar}`, "REGISTERED_STATE", 2],
        [`aor=${other.aor};contact=${other.contact};registrar=${other.registrar}`, "NOT_REGISTERED_STATE", 1],
      ],
    );
  });
});
