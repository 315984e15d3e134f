import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  firstValue,
  parseRequest,
  printError,
  printJson,
  printNumber,
  printSuccess,
  scanJsonValue,
} from "../../../src/mi/jsonrpc.js";
import { ctime } from "../../../src/mi/ctime.js";

describe("scanJsonValue", () => {
  it("finds the end of the first object, skipping brackets inside strings", () => {
    const text = ' {"a":"}{\\"]","b":[1,{"c":2}]} trailing';
    const r = scanJsonValue(text);
    assert.deepEqual(r, { kind: "value", start: 1, end: text.indexOf(" trailing") });
  });
  it("waits for more input on an unfinished value; a scalar runs to the end", () => {
    assert.deepEqual(scanJsonValue('{"a":['), { kind: "incomplete" });
    assert.deepEqual(scanJsonValue("   "), { kind: "incomplete" });
    assert.deepEqual(scanJsonValue(" nope"), { kind: "value", start: 1, end: 5 });
  });
  it("cuts at every offset of a request the same way", () => {
    const req = '{"jsonrpc": "2.0", "id": "1", "method": "which", "params": {"command": "x}"}}';
    for (let i = 1; i < req.length; i++) assert.equal(scanJsonValue(req.slice(0, i)).kind, "incomplete", `cut at ${i}`);
    assert.deepEqual(scanJsonValue(req + req), { kind: "value", start: 0, end: req.length });
  });
  it("firstValue drops what follows the value (mi_http, mi_datagram)", () => {
    assert.equal(firstValue('{"a":1}garbage'), '{"a":1}');
    assert.equal(firstValue("nope"), "nope");
  });
});

describe("parseRequest (OpenSIPS §1.1)", () => {
  it("accepts a request; empty params are no params", () => {
    assert.deepEqual(parseRequest('{"jsonrpc":"2.0","method":"which","params":{},"id":"7"}'), {
      ok: true,
      method: "which",
      params: undefined,
      id: "7",
    });
    assert.deepEqual(parseRequest('{"jsonrpc":"2.0","method":"x","params":[]}'), {
      ok: true,
      method: "x",
      params: undefined,
      id: undefined,
    });
  });
  it("matches top-level members case-insensitively", () => {
    const r = parseRequest('{"JSONRPC":"2.0","Method":"ps","ID":3,"Params":["a"]}');
    assert.deepEqual(r, { ok: true, method: "ps", params: ["a"], id: 3 });
  });
  it("truncates fractional ids and keeps null", () => {
    assert.equal((parseRequest('{"jsonrpc":"2.0","method":"ps","id":7.9}') as { id: unknown }).id, 7);
    assert.equal((parseRequest('{"jsonrpc":"2.0","method":"ps","id":null}') as { id: unknown }).id, null);
  });
  it("answers -32700 for text that is not JSON", () => {
    assert.deepEqual(parseRequest('{"jsonrpc":"2.0",'), {
      ok: false,
      error: { code: -32700, message: "Parse error" },
      id: null,
      parseError: true,
    });
    assert.equal((parseRequest("") as { parseError: boolean }).parseError, true);
  });
  it("answers -32600 for batches, bad ids, missing version, non-string method, scalar params", () => {
    const invalid = { code: -32600, message: "Invalid Request" };
    assert.deepEqual(parseRequest('[{"jsonrpc":"2.0","method":"ps","id":1}]'), {
      ok: false,
      error: invalid,
      id: null,
      parseError: false,
    });
    assert.deepEqual(parseRequest('{"jsonrpc":"2.0","method":"ps","id":true}'), {
      ok: false,
      error: invalid,
      id: null,
      parseError: false,
    });
    assert.deepEqual(parseRequest('{"method":"ps","id":7}'), { ok: false, error: invalid, id: 7, parseError: false });
    assert.deepEqual(parseRequest('{"jsonrpc":"2.0","method":5,"id":"a"}'), {
      ok: false,
      error: invalid,
      id: "a",
      parseError: false,
    });
    assert.deepEqual(parseRequest('{"jsonrpc":"2.0","method":"ps","params":"x","id":1}'), {
      ok: false,
      error: invalid,
      id: 1,
      parseError: false,
    });
    assert.deepEqual(parseRequest('{"jsonrpc":"2.0","method":"ps","params":null,"id":1}'), {
      ok: false,
      error: invalid,
      id: 1,
      parseError: false,
    });
    assert.deepEqual(parseRequest("42"), { ok: false, error: invalid, id: null, parseError: false });
  });
});

describe("printing (OpenSIPS §1.5)", () => {
  it("keeps OpenSIPS's member order: jsonrpc, result|error, id", () => {
    assert.equal(printSuccess("abc", "OK"), '{"jsonrpc":"2.0","result":"OK","id":"abc"}');
    assert.equal(printSuccess(null, { a: [1, "x"] }), '{"jsonrpc":"2.0","result":{"a":[1,"x"]},"id":null}');
    assert.equal(
      printError(1, { code: -32602, message: "Invalid params", data: "Too few or too many parameters" }),
      '{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"Too few or too many parameters"},"id":1}',
    );
    assert.equal(
      printError(1, { code: 404, message: "No such registrant" }),
      '{"jsonrpc":"2.0","error":{"code":404,"message":"No such registrant"},"id":1}',
    );
  });
  it("prints numbers as cJSON does", () => {
    assert.equal(printNumber(0), "0");
    assert.equal(printNumber(-42), "-42");
    assert.equal(printNumber(1.5), "1.500000");
    assert.equal(printNumber(2.5e9 + 0.5), "2.500000e+09");
    assert.equal(printNumber(1e-7), "1.000000e-07");
    assert.equal(printNumber(Number.NaN), "null");
    assert.equal(printNumber(1e21), "1000000000000000000000");
  });
  it("escapes strings and leaves UTF-8 and slashes alone", () => {
    assert.equal(printJson('a"b\\c\n\u0001/é'), '"a\\"b\\\\c\\n\\u0001/é"');
    assert.equal(printJson({ a: undefined, b: true, c: null }), '{"b":true,"c":null}');
  });
});

describe("ctime", () => {
  it("prints C ctime in local time, the day padded with a space, 0 as the epoch", () => {
    const tz = process.env["TZ"];
    process.env["TZ"] = "UTC";
    try {
      assert.equal(ctime(0), "Thu Jan  1 00:00:00 1970");
      assert.equal(ctime(1795422289), "Mon Nov 23 08:24:49 2026");
      process.env["TZ"] = "Europe/Bucharest";
      assert.equal(ctime(1795422289), "Mon Nov 23 10:24:49 2026");
    } finally {
      if (tz === undefined) delete process.env["TZ"];
      else process.env["TZ"] = tz;
    }
  });
});
