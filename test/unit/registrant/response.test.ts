import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { grantedExpires, wireReaders } from "../../../src/registrant/response.js";
import type { SipResponse } from "../../../src/sip/message.js";

function ok200(headers: [string, string][]): SipResponse {
  return {
    kind: "response",
    status: 200,
    reason: "OK",
    headers: headers.map(([name, value]) => ({ name, value })),
    body: Buffer.alloc(0),
  };
}

const equal = (a: string, b: string): boolean => a === b || wireReaders.urisEqual(a, b);

describe("registrant replies: the 200's contacts", () => {
  it("reads every contact's URI and raw expires parameter, in order", () => {
    const res = ok200([
      ["contact", '<sip:a@h:5080>;expires=60, "B, b" <sip:b@h>;expires'],
      ["expires", "30"],
      ["contact", "sip:c@h"],
    ]);
    assert.deepEqual(wireReaders.contacts(res), [
      { uri: "sip:a@h:5080", expires: "60" },
      { uri: "sip:b@h", expires: null },
      { uri: "sip:c@h", expires: undefined },
    ]);
    assert.deepEqual(wireReaders.contacts(ok200([["contact", "*"]])), []);
    assert.deepEqual(wireReaders.contacts(ok200([])), []);
    assert.equal(wireReaders.contacts(ok200([["contact", "<sip:a@h"]])), undefined);
    assert.equal(wireReaders.contacts(ok200([["contact", "*, <sip:a@h>"]])), undefined);
  });

  it("grants the expires of our binding, of the same address, or of the Expires header", () => {
    const grant = (headers: [string, string][], binding: string): number => {
      const res = ok200(headers);
      return grantedExpires(res, wireReaders.contacts(res) ?? [], binding, equal);
    };
    const two = "<sip:x@h>;expires=10, <sip:a@h:5080>;expires=60s";
    assert.equal(grant([["contact", two]], "sip:a@h:5080"), 60);
    assert.equal(grant([["contact", two]], "sip:A@H:5080"), 0); // the user part compares exactly
    assert.equal(grant([["contact", "<sip:a@H:5080;ob>;expires=45"]], "sip:a@h:5080"), 45);
    assert.equal(
      grant(
        [
          ["contact", "<sip:a@h:5080>;expires=0"],
          ["expires", "90"],
        ],
        "sip:a@h:5080",
      ),
      90,
    );
    assert.equal(
      grant(
        [
          ["contact", "<sip:a@h:5080>"],
          ["expires", "x"],
        ],
        "sip:a@h:5080",
      ),
      0,
    );
  });
});
