import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../../../src/clock.js";
import { MiError, StoreUnavailableError } from "../../../src/errors.js";
import { silentLogger } from "../../../src/log.js";
import { instrumentMiDispatcher } from "../../../src/metrics/mi-metrics.js";
import type { MiResult } from "../../../src/metrics/metrics.js";
import { StoreHealth } from "../../../src/metrics/store-health.js";
import { createMiDispatcher } from "../../../src/mi/dispatch.js";
import type { RegistrantStore } from "../../../src/store/store.js";

describe("instrumentMiDispatcher", () => {
  it("counts by registered command name and result, on every path of the dispatcher", async () => {
    const seen: [string, MiResult][] = [];
    const inner = createMiDispatcher({
      log: silentLogger,
      commands: [
        { name: "uac_registrant:list", aliases: ["reg_list"], recipes: [[]], handler: () => ({ Records: [] }) },
        {
          name: "uac_registrant:enable",
          recipes: [[{ name: "aor", type: "string" }]],
          handler: () => {
            throw new MiError(404, "No such registrant");
          },
        },
      ],
    });
    const mi = instrumentMiDispatcher(inner, { observeMiRequest: (c, r) => seen.push([c, r]) });
    const call = (o: unknown) => mi.handle(typeof o === "string" ? o : JSON.stringify(o), "test");
    await call({ jsonrpc: "2.0", method: "reg_list", id: 1 });
    await call({ jsonrpc: "2.0", method: "uac_registrant:list", id: 2 });
    await call({ jsonrpc: "2.0", method: "uac_registrant:enable", params: { aor: "sip:x@y" }, id: 3 });
    await call({ jsonrpc: "2.0", method: "uac_registrant:enable", id: 4 });
    await call({ jsonrpc: "2.0", method: "no_such_thing", id: 5 });
    await call({ jsonrpc: "2.0", method: "reg_list" });
    await call("{not json");
    assert.deepEqual(seen, [
      ["uac_registrant:list", "ok"],
      ["uac_registrant:list", "ok"],
      ["uac_registrant:enable", "error"],
      ["uac_registrant:enable", "error"],
      ["unknown", "error"],
      ["uac_registrant:list", "notification"],
      ["unknown", "invalid_request"],
    ]);
    assert.equal(mi.registry, inner.registry);
  });
});

describe("StoreHealth", () => {
  function fakeStore(fail: { now: boolean }, calls: string[]): RegistrantStore {
    const maybe = <T>(what: string, v: T): Promise<T> => {
      calls.push(what);
      return fail.now ? Promise.reject(new StoreUnavailableError("down")) : Promise.resolve(v);
    };
    return {
      kind: "mariadb",
      scanAll: () => maybe("scanAll", 0),
      loadOne: () => maybe("loadOne", []),
      writeState: () => maybe("writeState", undefined),
      close: () => Promise.resolve(),
    };
  }

  it("reports the outcome of the last store call and probes only after a quiet spell", async () => {
    const clock = new ManualClock();
    const fail = { now: false };
    const calls: string[] = [];
    const health = new StoreHealth(fakeStore(fail, calls), 30_000, clock);
    assert.equal(await health.store.scanAll(() => undefined), 0);
    assert.deepEqual(health.read(), { kind: "mariadb", up: true });
    assert.deepEqual(calls, ["scanAll"], "no probe right after a call");
    fail.now = true;
    await assert.rejects(health.store.writeState({ aor: "a", contact: "c", registrar: "r" }, 1), StoreUnavailableError);
    assert.deepEqual(health.read(), { kind: "mariadb", up: false });
    fail.now = false;
    clock.advance(30_000);
    assert.equal(health.read().up, false, "the probe's answer shows on the next read");
    await new Promise((r) => setImmediate(r));
    assert.equal(calls.at(-1), "loadOne");
    assert.deepEqual(health.read(), { kind: "mariadb", up: true });
  });
});
