import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BRANCH_COOKIE, cryptoIds, sequentialIds } from "../../../src/sip/ids.js";
import { isToken, parseGenericParams, splitCommaList, unquote, quote } from "../../../src/sip/params.js";

describe("ids", () => {
  it("crypto ids: branch carries the RFC 3261 cookie, every id is a token, none repeats", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const branch = cryptoIds.branch();
      assert.ok(branch.startsWith(BRANCH_COOKIE));
      assert.match(branch, /^z9hG4bK[0-9a-f]{16}$/);
      assert.match(cryptoIds.cnonce(), /^[0-9a-f]{16}$/);
      assert.match(cryptoIds.fromTag(), /^[0-9a-f]{8}$/);
      assert.match(cryptoIds.callId(), /^[0-9a-f]{32}$/);
      for (const id of [branch, cryptoIds.callId()]) {
        assert.ok(isToken(id));
        assert.ok(!seen.has(id));
        seen.add(id);
      }
    }
  });

  it("sequential ids are predictable and independent per kind", () => {
    const ids = sequentialIds("t");
    assert.equal(ids.branch(), "z9hG4bKt1");
    assert.equal(ids.branch(), "z9hG4bKt2");
    assert.equal(ids.cnonce(), "tcnonce1");
    assert.equal(ids.fromTag(), "ttag1");
    assert.equal(ids.callId(), "tcallid1");
    assert.equal(sequentialIds("t").branch(), "z9hG4bKt1");
  });
});

describe("params scanners", () => {
  it("splits comma lists outside quotes and angle brackets", () => {
    assert.deepEqual(splitCommaList('a, "b,c" <d,e>;f=",", g'), ["a", '"b,c" <d,e>;f=","', "g"]);
    assert.deepEqual(splitCommaList(""), [""]);
    assert.equal(splitCommaList('"open, x'), undefined);
    assert.equal(splitCommaList("<open, x"), undefined);
  });

  it("reads generic params: lower-cased names, raw values, first wins", () => {
    assert.deepEqual(
      [...parseGenericParams(' ; Expires = 60 ;q=0.7;+sip.instance="<urn:x>";lr;EXPIRES=1;received=[::1]', 0)!],
      [
        ["expires", "60"],
        ["q", "0.7"],
        ["+sip.instance", '"<urn:x>"'],
        ["lr", null],
        ["received", "[::1]"],
      ],
    );
    for (const bad of [";", ";=1", ";a=", ';a="x', "a=1", ";a=1 b", ";a=<x>"]) {
      assert.equal(parseGenericParams(bad, 0), undefined, bad);
    }
  });

  it("quotes and unquotes with escapes", () => {
    assert.equal(quote('a"b\\c'), '"a\\"b\\\\c"');
    assert.equal(unquote(quote('a"b\\c')), 'a"b\\c');
    assert.equal(unquote("plain"), "plain");
  });
});
