import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  MAX_DELTA_SECONDS,
  contactExpiresParam,
  parseCSeq,
  parseContactExpiries,
  parseContacts,
  parseDeltaSecondsHeader,
  parseRetryAfter,
  parseVia,
  topViaBranch,
} from "../../../src/sip/headers.js";
import { headerValue, headerValues } from "../../../src/sip/message.js";
import { parseNameAddr } from "../../../src/sip/name-addr.js";
import { parseMessage } from "../../../src/sip/parse.js";
import { prng } from "../../support/prng.js";
import { allGoldenFrames, goldenFrame, loadGoldenFile } from "./golden-frames.js";

describe("parseVia", () => {
  it("reads the golden Via", () => {
    const r = parseVia("SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKc6fe.61d5949.0");
    assert.ok(r.ok);
    assert.deepEqual(r.vias[0], {
      protocol: "SIP/2.0",
      transport: "UDP",
      host: "127.0.0.1",
      port: 5080,
      params: new Map([["branch", "z9hG4bKc6fe.61d5949.0"]]),
      branch: "z9hG4bKc6fe.61d5949.0",
    });
  });

  it("reads lists, LWS around slashes, IPv6, received/rport and case", () => {
    const r = parseVia(
      "SIP / 2.0 / tcp [2001:db8::9]:5061 ;Branch=z9hG4bKa;received=192.0.2.1;rport=5062, SIP/2.0/UDP h.example;rport",
    );
    assert.ok(r.ok);
    assert.equal(r.vias.length, 2);
    const [a, b] = r.vias;
    assert.equal(a?.transport, "TCP");
    assert.equal(a?.host, "2001:db8::9");
    assert.equal(a?.port, 5061);
    assert.equal(a?.branch, "z9hG4bKa");
    assert.equal(a?.params.get("received"), "192.0.2.1");
    assert.equal(a?.params.get("rport"), "5062");
    assert.equal(b?.host, "h.example");
    assert.equal(b?.port, undefined);
    assert.equal(b?.params.get("rport"), null);
    assert.equal(b?.branch, undefined);
  });

  it("refuses malformed Vias", () => {
    for (const v of [
      "",
      "SIP/2.0/UDP",
      "SIP/2.0 127.0.0.1",
      "SIP/2.0/UDP 1.2.3.4:0",
      "SIP/2.0/UDP [::1",
      "SIP/2.0/UDP h;",
      'SIP/2.0/UDP h;a="x',
    ]) {
      const r = parseVia(v);
      assert.equal(r.ok, false, v);
      if (!r.ok) assert.equal(r.error.code, "SIP_PARSE");
    }
  });
});

describe("parseCSeq", () => {
  it("reads number and method", () => {
    assert.deepEqual(parseCSeq("2 REGISTER"), { ok: true, seq: 2, method: "REGISTER" });
    assert.deepEqual(parseCSeq(" 2147483647\tREGISTER "), { ok: true, seq: 2147483647, method: "REGISTER" });
    // trimmed as String.prototype.trim trims; the method kept as written
    assert.deepEqual(parseCSeq("\u00a03 register\u00a0"), { ok: true, seq: 3, method: "register" });
    assert.deepEqual(parseCSeq("4 REGISTERS"), { ok: true, seq: 4, method: "REGISTERS" });
  });
  it("refuses malformed values", () => {
    for (const v of [
      "",
      "REGISTER",
      "1",
      "1 ",
      "1REGISTER",
      "-1 REGISTER",
      "2147483648 REGISTER",
      "1 REG ISTER",
      "x1 A",
    ]) {
      assert.equal(parseCSeq(v).ok, false, v);
    }
  });
});

describe("parseNameAddr / parseContacts", () => {
  it("reads name-addr and addr-spec forms", () => {
    assert.deepEqual(parseNameAddr('"Alice \\"A\\"" <sip:alice@h;transport=tcp>;tag=1;expires=60'), {
      displayName: 'Alice "A"',
      uri: "sip:alice@h;transport=tcp",
      params: new Map([
        ["tag", "1"],
        ["expires", "60"],
      ]),
    });
    assert.deepEqual(parseNameAddr("Bob Smith <sip:bob@h>"), {
      displayName: "Bob Smith",
      uri: "sip:bob@h",
      params: new Map(),
    });
    // addr-spec: what follows the first ';' are header parameters (§20.10)
    assert.deepEqual(parseNameAddr("sip:carol@h;expires=30;Q=0.5;lr"), {
      uri: "sip:carol@h",
      params: new Map<string, string | null>([
        ["expires", "30"],
        ["q", "0.5"],
        ["lr", null],
      ]),
    });
    assert.equal(parseNameAddr("<sip:[2001:db8::1]:5060>")?.uri, "sip:[2001:db8::1]:5060");
  });

  it("refuses malformed name-addrs", () => {
    for (const v of [
      "",
      "   ",
      "<>",
      "<sip:a@h",
      '"open <sip:a@h>',
      "a@b <sip:x@y>",
      "<sip:a@h>;=1",
      "<sip:a@h> junk",
    ]) {
      assert.equal(parseNameAddr(v), undefined, v);
    }
  });

  it("reads the golden 200 with two bindings (sipp-5097 frame 704) and bob's reordered params", () => {
    const r = parseMessage(goldenFrame("sipp-5097-two_contacts.txt", 704).bytes);
    assert.ok(r.ok);
    const c = parseContacts(headerValues(r.message, "contact"));
    assert.ok(c.ok);
    assert.equal(c.star, false);
    assert.deepEqual(
      c.contacts.map((x) => [x.uri, x.params.get("expires")]),
      [
        ["sip:kate@127.0.0.1:5080", "60"],
        ["sip:stale@127.0.0.2:5999", "3600"],
      ],
    );
    const tcp = parseMessage(goldenFrame("kamailio-tcp-5070.txt", 21).bytes);
    assert.ok(tcp.ok);
    const b = parseContacts(headerValues(tcp.message, "contact"));
    assert.ok(b.ok);
    assert.deepEqual(
      [...b.contacts[0]!.params],
      [
        ["expires", "120"],
        ["+sip.instance", '"<urn:uuid:b0b-0001>"'],
        ["reg-id", "1"],
      ],
    );
  });

  it("splits comma lists outside quotes and brackets", () => {
    const c = parseContacts(['"Doe, John" <sip:j@h;a=1,b>;expires=5, sip:k@h;expires=6', "<sip:l@h>"]);
    assert.ok(c.ok);
    assert.deepEqual(
      c.contacts.map((x) => [x.displayName, x.uri, x.params.get("expires")]),
      [
        ["Doe, John", "sip:j@h;a=1,b", "5"],
        [undefined, "sip:k@h", "6"],
        [undefined, "sip:l@h", undefined],
      ],
    );
  });

  it("Contact: * stands alone", () => {
    assert.deepEqual(parseContacts(["*"]), { ok: true, star: true, contacts: [] });
    assert.equal(parseContacts(["*, <sip:a@h>"]).ok, false);
    assert.equal(parseContacts(["*", "<sip:a@h>"]).ok, false);
    assert.deepEqual(parseContacts([]), { ok: true, star: false, contacts: [] });
  });

  it("refuses malformed lists", () => {
    for (const v of ['"open', "<sip:a@h", "<sip:a@h>,,<sip:b@h>", '<sip:a@h>;expires="1']) {
      const r = parseContacts([v]);
      assert.equal(r.ok, false, v);
      if (!r.ok) assert.equal(r.error.code, "SIP_PARSE");
    }
  });
});

describe("parseContactExpiries", () => {
  /** What it must answer: parseContacts' contacts reduced to their URI and `expires` parameter. */
  function reference(values: string[]): unknown {
    const r = parseContacts(values);
    if (!r.ok) return { ok: false, message: r.error.message };
    const contacts = r.contacts.map((c) => ({
      uri: c.uri,
      expires: c.params.has("expires") ? c.params.get("expires") : undefined,
    }));
    return { ok: true, star: r.star, contacts };
  }
  function actual(values: string[]): unknown {
    const r = parseContactExpiries(values);
    return r.ok ? r : { ok: false, message: r.error.message };
  }

  it("reads the URI and expires of each contact", () => {
    assert.deepEqual(
      parseContactExpiries(['"Doe, John" <sip:j@h;expires=1>;EXPIRES=5;expires=6, sip:k@h;expires', "<sip:l@h>"]),
      {
        ok: true,
        star: false,
        contacts: [
          { uri: "sip:j@h;expires=1", expires: "5" },
          { uri: "sip:k@h", expires: null },
          { uri: "sip:l@h", expires: undefined },
        ],
      },
    );
    // the error parseContacts gives: an open quote further on outranks a bad contact before it
    assert.deepEqual(actual(['x y z, "open']), { ok: false, message: "unbalanced quotes or brackets in Contact" });
    assert.deepEqual(actual(["x y z, <sip:a@h>"]), { ok: false, message: "bad Contact" });
  });

  it("answers like parseContacts on every golden Contact and 30,000 mutations of them (seeded)", () => {
    const values = allGoldenFrames().flatMap((f) => {
      const r = parseMessage(f.bytes);
      return r.ok ? headerValues(r.message, "contact") : [];
    });
    values.push('"Zo\u00eb \\"q\\"" <sip:z@h;a=1,b>;expires=3, *, sip:k@h;x=">";expires="7"');
    assert.ok(values.length > 10);
    for (const v of values) assert.deepEqual(actual([v]), reference([v]), v);
    const random = prng(20261205);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const pieces = [...' \t,;:=/"<>[]\\*', "\u00a0", "\u2028", "\r", "expires", "EXPIRES=", "0", "sip:", "\u00e9"];
    let parsed = 0;
    for (let n = 0; n < 30_000; n++) {
      let v = pick(values);
      for (let k = 1 + Math.floor(random() * 3); k > 0; k--) {
        const at = Math.floor(random() * (v.length + 1));
        const cut = random() < 0.5 ? 0 : Math.floor(random() * 3);
        v = v.slice(0, at) + (random() < 0.7 ? pick(pieces) : "") + v.slice(at + cut);
      }
      const values2 = random() < 0.2 ? [v, pick(values)] : [v];
      const expected = reference(values2);
      assert.deepEqual(actual(values2), expected, JSON.stringify(values2));
      if ((expected as { ok: boolean }).ok) parsed++;
    }
    assert.ok(parsed > 5_000, `only ${parsed} parsed`);
  });
});

describe("delta-seconds readers", () => {
  it("Expires / Min-Expires are strict digits, capped at 2**32-1", () => {
    assert.deepEqual(parseDeltaSecondsHeader(" 120 "), { ok: true, seconds: 120 });
    assert.deepEqual(parseDeltaSecondsHeader("0"), { ok: true, seconds: 0 });
    assert.deepEqual(parseDeltaSecondsHeader("99999999999999999999999"), { ok: true, seconds: MAX_DELTA_SECONDS });
    for (const v of ["", "-1", "60s", "1 2", "abc"]) assert.equal(parseDeltaSecondsHeader(v).ok, false, v);
  });

  it("reads the golden 423 Min-Expires and 503 Retry-After", () => {
    const r423 = parseMessage(
      goldenFrame("sipp-5093-423_200.txt", goldenFrameNumber("sipp-5093-423_200.txt", 423)).bytes,
    );
    assert.ok(r423.ok);
    assert.deepEqual(parseDeltaSecondsHeader(headerValue(r423.message, "min-expires") ?? ""), {
      ok: true,
      seconds: 120,
    });
    const r503 = parseMessage(goldenFrame("sipp-5095-503_retry_after.txt", 699).bytes);
    assert.ok(r503.ok);
    const ra = parseRetryAfter(headerValue(r503.message, "retry-after") ?? "");
    assert.ok(ra.ok);
    assert.equal(ra.seconds, 30);
  });

  it("Retry-After takes a comment and parameters", () => {
    const r = parseRetryAfter("18000 (in a (long) meeting) ;duration=3600");
    assert.ok(r.ok);
    assert.equal(r.seconds, 18000);
    assert.equal(r.comment, "in a (long) meeting");
    assert.equal(r.params.get("duration"), "3600");
    for (const v of ["", "x", "5 (open", "5 ;=", "-5"]) assert.equal(parseRetryAfter(v).ok, false, v);
  });

  it("a contact's expires parameter reads as OpenSIPS reads it", () => {
    assert.deepEqual(contactExpiresParam("60"), { seconds: 60, wellFormed: true });
    assert.deepEqual(contactExpiresParam("60s"), { seconds: 60, wellFormed: false });
    assert.deepEqual(contactExpiresParam("-5"), { seconds: 0, wellFormed: false });
    assert.deepEqual(contactExpiresParam("abc"), { seconds: 0, wellFormed: false });
    assert.deepEqual(contactExpiresParam('"60"'), { seconds: 0, wellFormed: false });
    assert.deepEqual(contactExpiresParam(null), { seconds: 0, wellFormed: false });
    assert.deepEqual(contactExpiresParam("9".repeat(40)), { seconds: MAX_DELTA_SECONDS, wellFormed: true });
  });
});

/** Frame number of the first response with this status in a golden file. */
function goldenFrameNumber(file: string, status: number): number {
  const found = loadGoldenFile(file).frames.find((f) => f.bytes.toString("latin1").startsWith(`SIP/2.0 ${status} `));
  if (found === undefined) throw new Error(`no ${status} in ${file}`);
  return found.frame;
}

describe("topViaBranch", () => {
  /** What the transaction table used to compute: the first entry's branch when the whole value parses. */
  const reference = (value: string): string | undefined => {
    const r = parseVia(value);
    return r.ok ? r.vias[0]?.branch : undefined;
  };

  it("reads the branch of the top entry only when the whole value parses", () => {
    const cases: [string, string | undefined][] = [
      ["SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKc6fe.61d5949.0", "z9hG4bKc6fe.61d5949.0"],
      ["SIP / 2.0 / tcp  [2001:db8::1] : 5060 ; BRANCH = z9hG4bK1 ;rport", "z9hG4bK1"],
      ["SIP/2.0/UDP h;branch=z9hG4bK1, SIP/2.0/UDP p:5060;branch=z9hG4bK2", "z9hG4bK1"],
      ["SIP/2.0/UDP h;branch=z9hG4bK1, SIP/2.0/UDP p:0;branch=z9hG4bK2", undefined],
      ["SIP/2.0/UDP h;branch=z9hG4bK1,", undefined],
      ["SIP/2.0/UDP h;branch;branch=z9hG4bK1", undefined],
      ["SIP/2.0/UDP h;branch=a;branch=b", "a"],
      ['SIP/2.0/UDP h;x="a,b";branch="q"', '"q"'],
      ["SIP/2.0/UDP h;rport", undefined],
      ["SIP/2.0/UDP [::1", undefined],
      ["SIP/2.0/UDP [1.2.3.4]:5060;branch=z", undefined],
      ["SIP/2.0/UDP h:65536;branch=z", undefined],
      ['SIP/2.0/UDP h;branch="z', undefined],
      ["\u00a0SIP/2.0/UDP h;branch=z\u3000", "z"],
    ];
    for (const [value, branch] of cases) {
      assert.equal(topViaBranch(value), branch, value);
      assert.equal(reference(value), branch, `reference: ${value}`);
    }
  });

  it("answers like parseVia on every golden Via and 50,000 mutations of them (seeded)", () => {
    const vias = allGoldenFrames().flatMap((f) => {
      const r = parseMessage(f.bytes);
      return r.ok ? headerValues(r.message, "via") : [];
    });
    vias.push('SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bKx;received=::1;rport=1, SIP/2.0/UDP h;x="a,b"');
    assert.ok(vias.length > 10);
    for (const v of vias) assert.equal(topViaBranch(v), reference(v), v);
    const random = prng(20261204);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const pieces = [
      ...' \t,;:=/"<>[]\\',
      "\u00a0",
      "\u2028",
      "\ufeff",
      "\r",
      "branch",
      "BRANCH=",
      "0",
      "65535",
      "::1",
      "é",
    ];
    let parsed = 0;
    for (let n = 0; n < 50_000; n++) {
      let v = pick(vias);
      for (let k = 1 + Math.floor(random() * 3); k > 0; k--) {
        const at = Math.floor(random() * (v.length + 1));
        const cut = random() < 0.5 ? 0 : Math.floor(random() * 4);
        v = v.slice(0, at) + (random() < 0.8 ? pick(pieces) : "") + v.slice(at + cut);
      }
      const expected = reference(v);
      if (expected !== undefined) parsed++;
      assert.equal(topViaBranch(v), expected, JSON.stringify(v));
    }
    assert.ok(parsed > 5_000, `only ${parsed} mutations kept a branch`);
  });
});
