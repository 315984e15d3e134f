import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../../../src/clock.js";
import { MiError } from "../../../src/errors.js";
import { silentLogger } from "../../../src/log.js";
import type { MiCommand } from "../../../src/mi/command.js";
import { coreCommands, opensipsLevelOf, pinoLevelOf } from "../../../src/mi/commands/core.js";
import { createMiDispatcher } from "../../../src/mi/dispatch.js";
import type { MiDispatcher } from "../../../src/mi/dispatch.js";
import { RegState } from "../../../src/registrant/state.js";
import { FakeRegistrantOps, buildMi } from "../../support/golden-mi.js";

const NOTIFICATION = Symbol("no id");

async function call(d: MiDispatcher, method: string, params?: unknown, id: unknown = 1): Promise<unknown> {
  const req: Record<string, unknown> = { jsonrpc: "2.0", method };
  if (params !== undefined) req["params"] = params;
  if (id !== NOTIFICATION) req["id"] = id;
  const out = await d.handle(JSON.stringify(req), "test");
  if (out.kind === "silent") return "silent";
  if (out.kind === "failed") return "failed";
  return JSON.parse(out.text);
}

const invalid = (data: string) => ({ jsonrpc: "2.0", error: { code: -32602, message: "Invalid params", data }, id: 1 });

function echo(name: string, recipes: MiCommand["recipes"], aliases?: string[]): MiCommand {
  return { name, recipes, handler: (p) => p, ...(aliases ? { aliases } : {}) };
}

describe("recipes (reference uac-registrant §7.2)", () => {
  const d = createMiDispatcher({ log: silentLogger });
  d.register([
    echo("t:two", [
      [
        { name: "a", type: "string" },
        { name: "b", type: "int" },
      ],
      [
        { name: "x", type: "string" },
        { name: "y", type: "string" },
      ],
    ]),
    echo("t:arr", [[{ name: "statistics", type: "array" }]]),
    echo("t:none", [[]]),
  ]);

  it("picks a recipe by count (positional) or by count and names (named)", async () => {
    assert.deepEqual(await call(d, "t:two", { a: "1", b: "2" }), { jsonrpc: "2.0", result: { a: "1", b: 2 }, id: 1 });
    assert.deepEqual(await call(d, "t:two", { x: 5, y: "z" }), { jsonrpc: "2.0", result: { x: "5", y: "z" }, id: 1 });
    assert.deepEqual(await call(d, "t:two", ["p", "q"]), invalid("Ambiguous call, use named parameters instead"));
    assert.deepEqual(await call(d, "t:two", { a: "1", y: "2" }), invalid("Named parameters do not match"));
    assert.deepEqual(await call(d, "t:two", { A: "1", b: 2 }), invalid("Named parameters do not match"));
    assert.deepEqual(await call(d, "t:two", { a: "1" }), invalid("Too few or too many parameters"));
    assert.deepEqual(await call(d, "t:two"), invalid("Too few or too many parameters"));
    assert.deepEqual(await call(d, "t:none", ["x"]), invalid("Too few or too many parameters"));
    assert.deepEqual(await call(d, "t:none", {}), { jsonrpc: "2.0", result: {}, id: 1 });
  });

  it("checks types as OpenSIPS reads them", async () => {
    assert.deepEqual(await call(d, "t:two", { a: true, b: 1 }), invalid("Bad type for parameter 'a'"));
    assert.deepEqual(await call(d, "t:two", { a: "x", b: "1.5" }), invalid("Bad type for parameter 'b'"));
    assert.deepEqual(await call(d, "t:two", { a: null, b: "x" }), invalid("Bad type for parameter 'a'"));
    assert.deepEqual(await call(d, "t:two", { a: "x", b: "-12" }), {
      jsonrpc: "2.0",
      result: { a: "x", b: -12 },
      id: 1,
    });
    assert.deepEqual(await call(d, "t:two", { a: "x", b: 7.9 }), { jsonrpc: "2.0", result: { a: "x", b: 7 }, id: 1 });
    assert.deepEqual(await call(d, "t:arr", { statistics: "x" }), invalid("Bad type for parameter 'statistics'"));
    assert.deepEqual(await call(d, "t:arr", { statistics: [] }), invalid("Empty array in parameter 'statistics'"));
    assert.deepEqual(
      await call(d, "t:arr", { statistics: ["a", {}] }),
      invalid("Bad type for array item in parameter 'statistics'"),
    );
    assert.deepEqual(await call(d, "t:arr", [["a", 1]]), { jsonrpc: "2.0", result: { statistics: ["a", "1"] }, id: 1 });
  });

  it("answers nothing to a notification, even an erroneous one, but answers -32600 with id null", async () => {
    assert.equal(await call(d, "t:none", undefined, NOTIFICATION), "silent");
    assert.equal(await call(d, "nosuch", undefined, NOTIFICATION), "silent");
    const out = await d.handle('{"method":"t:none"}', "test");
    assert.deepEqual(out, {
      kind: "reply",
      text: '{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"},"id":null}',
    });
  });

  it("refuses malformed recipes at registration", () => {
    assert.throws(() => d.register([echo("t:bad", [[{ name: "a b", type: "string" }]])]));
    assert.throws(() =>
      d.register([
        echo("t:dup", [
          [
            { name: "a", type: "string" },
            { name: "a", type: "int" },
          ],
        ]),
      ]),
    );
    assert.throws(() => d.register([echo("t:none", [[]])]), /twice/);
  });
});

describe("handler outcomes", () => {
  const d = createMiDispatcher({
    log: silentLogger,
    commands: [
      { name: "h:miError", recipes: [[]], handler: () => Promise.reject(new MiError(404, "No such registrant")) },
      { name: "h:crash", recipes: [[]], handler: () => Promise.reject(new Error("db down")) },
      { name: "h:null", recipes: [[]], handler: () => null },
      { name: "h:undefined", recipes: [[]], handler: () => undefined },
      {
        name: "h:cyclic",
        recipes: [[]],
        handler: () => ({
          get self() {
            return this;
          },
        }),
      },
    ],
  });
  it("maps them to OpenSIPS's replies", async () => {
    assert.deepEqual(await call(d, "h:miError"), {
      jsonrpc: "2.0",
      error: { code: 404, message: "No such registrant" },
      id: 1,
    });
    const failed = {
      jsonrpc: "2.0",
      error: { code: -32000, message: "Server error", data: "Command handler returned null" },
      id: 1,
    };
    assert.deepEqual(await call(d, "h:crash"), failed);
    assert.deepEqual(await call(d, "h:null"), failed);
    assert.deepEqual(await call(d, "h:undefined"), { jsonrpc: "2.0", result: "OK", id: 1 });
    assert.equal(await call(d, "h:cyclic"), "failed");
  });
});

describe("names (reference uac-registrant §7.1)", () => {
  const ops = new FakeRegistrantOps();
  const { dispatcher } = buildMi(ops, new ManualClock());
  it("resolves full names, local names, aliases; ambiguous local names answer -32001", async () => {
    for (const m of [
      "uac_registrant:list",
      "reg_list",
      "core:ps",
      "ps",
      "reload",
      "enable",
      "get_statistics",
      "statistics:get",
    ]) {
      const r = (await call(dispatcher, m)) as { error?: { code: number } };
      assert.notEqual(r.error?.code, -32601, m);
    }
    assert.deepEqual(await call(dispatcher, "list"), {
      jsonrpc: "2.0",
      error: {
        code: -32001,
        message: "Method ambiguous",
        data: "supported names: statistics:list, uac_registrant:list",
      },
      id: 1,
    });
    assert.deepEqual(await call(dispatcher, "uac_registrant:nosuch"), {
      jsonrpc: "2.0",
      error: { code: -32601, message: "Method not found" },
      id: 1,
    });
  });
  it("which lists the 4.0 names and the flat ones; with a command, its recipes", async () => {
    const names = ((await call(dispatcher, "which")) as { result: string[] }).result;
    for (const n of [
      "uac_registrant:list",
      "reg_list",
      "reg_upsert",
      "core:version",
      "version",
      "which",
      "get_statistics",
      "ps",
      "log_level",
    ]) {
      assert.ok(names.includes(n), n);
    }
    assert.deepEqual(((await call(dispatcher, "which", { command: "reg_list" })) as { result: unknown }).result, [
      [],
      ["aor", "contact", "registrar"],
    ]);
    assert.deepEqual(
      ((await call(dispatcher, "core:which", ["uac_registrant:"])) as { result: string[] }).result.length,
      7,
    );
    assert.deepEqual(await call(dispatcher, "which", ["nosuch"]), {
      jsonrpc: "2.0",
      error: { code: 404, message: "unknown MI command" },
      id: 1,
    });
  });
});

describe("core and statistics commands", () => {
  const clock = new ManualClock(1_795_422_243_000);
  const ops = new FakeRegistrantOps([
    {
      recordId: 1,
      aor: "sip:a@x",
      contact: "sip:a@1.2.3.4",
      registrar: "sip:x",
      expiresSec: 60,
      state: RegState.REGISTERED_STATE,
      enabled: true,
      lastRegisterSentSec: 0,
      registrationTimeoutSec: 0,
    },
  ]);
  const { dispatcher, stats } = buildMi(ops, clock);
  it("uptime counts from the start in [sec]", async () => {
    clock.advance(69_000);
    const r = (await call(dispatcher, "uptime")) as { result: Record<string, string> };
    assert.equal(r.result["Up time"], "69 [sec]");
    assert.deepEqual(Object.keys(r.result), ["Now", "Up since", "Up time"]);
  });
  it("log_level answers as OpenSIPS, Bad PID for another process", async () => {
    assert.deepEqual(await call(dispatcher, "log_level", { level: "4" }), {
      jsonrpc: "2.0",
      result: { "New global log level": 4 },
      id: 1,
    });
    assert.deepEqual(await call(dispatcher, "log_level", [4, process.pid]), {
      jsonrpc: "2.0",
      result: { "Log level": 4 },
      id: 1,
    });
    assert.deepEqual(await call(dispatcher, "log_level", [4, 1]), invalid("Bad PID"));
  });
  it("get_statistics answers group:name keys; unknown → 404", async () => {
    stats.counter("uac_registrant", "register_sent").inc(3);
    const r = (await call(dispatcher, "get_statistics", [["uac_registrant:", "requests"]])) as {
      result: Record<string, number>;
    };
    assert.equal(r.result["uac_registrant:register_sent"], 3);
    assert.equal(r.result["uac_registrant:records"], 1);
    assert.equal(r.result["uac_registrant:records_registered"], 1);
    assert.equal(typeof r.result["mi:requests"], "number");
    assert.deepEqual(await call(dispatcher, "statistics:get", { statistics: ["nosuch"] }), {
      jsonrpc: "2.0",
      error: { code: 404, message: "Statistics Not Found" },
      id: 1,
    });
    assert.deepEqual(await call(dispatcher, "reset_statistics", [["register_sent"]]), {
      jsonrpc: "2.0",
      result: "OK",
      id: 1,
    });
    assert.equal(stats.counter("uac_registrant", "register_sent").get(), 0);
    const listed = (await call(dispatcher, "list_statistics", [["register_sent"]])) as {
      result: Record<string, string>;
    };
    assert.deepEqual(listed.result, { register_sent: "incremental" });
  });
});

describe("log levels", () => {
  it("maps pino and OpenSIPS levels both ways", () => {
    assert.deepEqual([10, 20, 30, 40, 50, 60].map(opensipsLevelOf), [5, 4, 3, 1, -1, -2]);
    assert.deepEqual([-3, -1, 1, 2, 3, 4, 5].map(pinoLevelOf), [
      "fatal",
      "error",
      "warn",
      "info",
      "info",
      "debug",
      "trace",
    ]);
  });
  it("log_level without params shows a pino start level as OpenSIPS's", async () => {
    const d = createMiDispatcher({ log: silentLogger });
    d.register(
      coreCommands({
        registry: d.registry,
        clock: new ManualClock(),
        startedAtMs: 0,
        version: "0",
        processes: () => ["attendant"],
        setLogLevel: () => undefined,
        initialLogLevel: 30,
      }),
    );
    assert.deepEqual(await call(d, "log_level"), {
      jsonrpc: "2.0",
      result: { Processes: [{ PID: process.pid, "Log level": 3, Type: "attendant" }] },
      id: 1,
    });
  });
});
