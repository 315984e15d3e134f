import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import {
  NonceCounter,
  answerChallenge,
  computeDigestResponse,
  parseAuthChallenges,
  toDigestChallenge,
} from "../../../src/sip/digest.js";
import type { SipResponse } from "../../../src/sip/message.js";
import { parseMessage } from "../../../src/sip/parse.js";
import { goldenFrame } from "./golden-frames.js";

function response(status: number, challenges: string[], name = "WWW-Authenticate"): SipResponse {
  return {
    kind: "response",
    status,
    reason: "x",
    headers: challenges.map((value) => ({ name: name.toLowerCase(), value })),
    body: Buffer.alloc(0),
  };
}

function golden(file: string, frame: number): SipResponse {
  const r = parseMessage(goldenFrame(file, frame).bytes);
  assert.ok(r.ok && r.message.kind === "response");
  return r.message;
}

/** The `Authorization:` value of a golden request frame. */
function goldenAuth(file: string, frame: number): string {
  const r = parseMessage(goldenFrame(file, frame).bytes);
  assert.ok(r.ok);
  const h = r.message.headers.find((x) => x.name === "authorization" || x.name === "proxy-authorization");
  assert.ok(h);
  return h.value;
}

function cnonceOf(auth: string): string {
  return /cnonce="([^"]*)"/.exec(auth)![1]!;
}

// RFC 7616 §3.9.1
const RFC7616 = {
  username: "Mufasa",
  password: "Circle of Life",
  realm: "http-auth@example.org",
  nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
  opaque: "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
  cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
  method: "GET",
  uri: "/dir/index.html",
};

describe("digest: RFC vectors", () => {
  it("RFC 7616 §3.9.1 MD5 and SHA-256", () => {
    for (const [algorithm, expected] of [
      ["MD5", "8ca523f5e9506fed4657c9700eebdbec"],
      ["SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"],
    ] as const) {
      assert.equal(computeDigestResponse({ ...RFC7616, algorithm, qop: "auth", nc: "00000001" }), expected);
    }
  });

  // The response printed in RFC 7616 §3.9.2 (ae66e67d...) is a reported erratum: no implementation reproduces it
  // from the example's inputs; the corrected value is this one. userhash only changes the username sent.
  it("RFC 7616 §3.9.2 SHA-512-256 (errata-corrected response)", () => {
    assert.equal(
      computeDigestResponse({
        algorithm: "SHA-512-256",
        username: "J\u00e4s\u00f8n Doe",
        password: "Secret, or not?",
        realm: "api@example.org",
        nonce: "5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK",
        cnonce: "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
        nc: "00000001",
        qop: "auth",
        method: "GET",
        uri: "/doe.json",
      }),
      "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5",
    );
  });

  it("answers the RFC 7616 challenge pair with SHA-256, the stronger one, echoing opaque", () => {
    const res = response(401, [
      `Digest realm="${RFC7616.realm}", qop="auth, auth-int", algorithm=MD5, nonce="${RFC7616.nonce}", opaque="${RFC7616.opaque}"`,
      `Digest realm="${RFC7616.realm}", qop="auth, auth-int", algorithm=SHA-256, nonce="${RFC7616.nonce}", opaque="${RFC7616.opaque}"`,
    ]);
    const a = answerChallenge(
      res,
      { username: RFC7616.username, password: RFC7616.password },
      { method: "GET", uri: RFC7616.uri },
      { cnonce: () => RFC7616.cnonce, nonceCounts: new NonceCounter() },
    );
    assert.ok(a.ok);
    assert.equal(a.header, "Authorization");
    assert.equal(
      a.value,
      `Digest username="Mufasa", realm="http-auth@example.org", nonce="${RFC7616.nonce}", uri="/dir/index.html", ` +
        `opaque="${RFC7616.opaque}", qop=auth, nc=00000001, cnonce="${RFC7616.cnonce}", ` +
        `response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", algorithm=SHA-256`,
    );
    assert.equal(a.stale, false);
  });
});

describe("digest: golden OpenSIPS exchanges", () => {
  const cases = [
    // file, challenge frame, answer frame, user, password, request uri
    ["kamailio-udp-5070.txt", 2, 3, "alice", "alicepw", "sip:127.0.0.1:5070"],
    ["kamailio-udp-5070.txt", 6, 7, "alice", "alicepw", "sip:127.0.0.1:5070"],
    ["kamailio-udp-5070.txt", 391, 395, "alice", "alicepw", "sip:127.0.0.1:5070"],
    ["kamailio-udp-5070.txt", 357, 363, "dave", "davepw", "sip:example.test"],
    ["kamailio-tcp-5070.txt", 18, 20, "bob", "bobpw", "sip:127.0.0.1:5070;transport=tcp"],
    ["sipp-5097-two_contacts.txt", 700, 701, "kate", "katepw", "sip:127.0.0.1:5097"],
    ["sipp-5092-407_200.txt", 702, 703, "frank", "frankpw", "sip:127.0.0.1:5092"],
  ] as const;
  for (const [file, challenge, answer, username, password, uri] of cases) {
    it(`${file}: frame ${answer} answers frame ${challenge} byte for byte`, () => {
      const wire = goldenAuth(file, answer);
      const cnonce = /cnonce=/.test(wire) ? cnonceOf(wire) : "unused";
      const a = answerChallenge(
        golden(file, challenge),
        { username, password },
        { method: "REGISTER", uri },
        { cnonce: () => cnonce, nonceCounts: new NonceCounter() },
      );
      assert.ok(a.ok, a.ok ? "" : a.error.message);
      assert.equal(a.value, wire);
    });
  }

  it("the 407 is answered with Proxy-Authorization and no qop (RFC 2069 style)", () => {
    const a = answerChallenge(
      golden("sipp-5092-407_200.txt", 702),
      { username: "frank", password: "frankpw" },
      { method: "REGISTER", uri: "sip:127.0.0.1:5092" },
    );
    assert.ok(a.ok);
    assert.equal(a.header, "Proxy-Authorization");
    assert.doesNotMatch(a.value, /qop|nc=|cnonce/);
  });

  it("a 0x-prefixed MD5 HA1 stands for the password", () => {
    const ha1 = createHash("md5").update("alice:example.test:alicepw").digest("hex");
    const wire = goldenAuth("kamailio-udp-5070.txt", 3);
    const a = answerChallenge(
      golden("kamailio-udp-5070.txt", 2),
      { username: "alice", password: `0x${ha1}` },
      { method: "REGISTER", uri: "sip:127.0.0.1:5070" },
      { cnonce: () => cnonceOf(wire), nonceCounts: new NonceCounter() },
    );
    assert.ok(a.ok);
    assert.equal(a.value, wire);
    // upper-case hex is a plain password (OpenSIPS only takes lower case)
    const upper = answerChallenge(
      golden("kamailio-udp-5070.txt", 2),
      { username: "alice", password: `0x${ha1.toUpperCase()}` },
      { method: "REGISTER", uri: "sip:127.0.0.1:5070" },
      { cnonce: () => cnonceOf(wire), nonceCounts: new NonceCounter() },
    );
    assert.ok(upper.ok);
    assert.notEqual(upper.value, wire);
  });
});

const CREDS = { username: "u", password: "p" };
const REQ = { method: "REGISTER", uri: "sip:r.example" };
function answer(res: SipResponse, nc = new NonceCounter()) {
  return answerChallenge(res, CREDS, REQ, { cnonce: () => "c0ffee", nonceCounts: nc });
}
function md5(s: string): string {
  return createHash("md5").update(s).digest("hex");
}

describe("digest: choices and failures", () => {
  it("-sess hashes nonce and cnonce into HA1", () => {
    const a = answer(response(401, ['Digest realm="r", nonce="n", qop="auth", algorithm=MD5-sess']));
    assert.ok(a.ok);
    const ha1 = md5(`${md5("u:r:p")}:n:c0ffee`);
    const expected = md5(`${ha1}:n:00000001:c0ffee:auth:${md5("REGISTER:sip:r.example")}`);
    assert.match(a.value, new RegExp(`response="${expected}", algorithm=MD5-sess$`));
  });

  it("auth-int (when auth is not offered) hashes the request body", () => {
    const a = answer(response(401, ['Digest realm="r", nonce="n", qop="auth-int"']));
    assert.ok(a.ok);
    const expected = md5(`${md5("u:r:p")}:n:00000001:c0ffee:auth-int:${md5(`REGISTER:sip:r.example:${md5("")}`)}`);
    assert.match(a.value, new RegExp(`qop=auth-int, nc=00000001, cnonce="c0ffee", response="${expected}"`));
  });

  it("prefers auth over auth-int and ignores unknown qop values", () => {
    const a = answer(response(401, ['Digest realm="r", nonce="n", qop="auth-int,auth"']));
    assert.ok(a.ok);
    assert.match(a.value, /qop=auth,/);
    const b = answer(response(401, ['Digest realm="r", nonce="n", qop="token"']));
    assert.ok(b.ok);
    assert.doesNotMatch(b.value, /qop/);
  });

  it("always writes algorithm, MD5 when the challenge named none", () => {
    const a = answer(response(401, ['Digest realm="r", nonce="n"']));
    assert.ok(a.ok);
    assert.equal(
      a.value,
      `Digest username="u", realm="r", nonce="n", uri="sip:r.example", response="${md5(`${md5("u:r:p")}:n:${md5("REGISTER:sip:r.example")}`)}", algorithm=MD5`,
    );
  });

  it("counts nonce uses: a reused nonce gets nc=2, a new one starts at 1", () => {
    const nc = new NonceCounter();
    const res = response(401, ['Digest realm="r", nonce="n1", qop=auth']);
    assert.match((answer(res, nc) as { value: string }).value, /nc=00000001/);
    assert.match((answer(res, nc) as { value: string }).value, /nc=00000002/);
    assert.match(
      (answer(response(401, ['Digest realm="r", nonce="n2", qop=auth']), nc) as { value: string }).value,
      /nc=00000001/,
    );
  });

  it("hashes each request's own method and URI, whatever was answered before (HA2 is remembered per URI)", () => {
    // same length and last character: the two URIs share a memo slot, and they alternate with another method
    const requests = [
      { method: "REGISTER", uri: "sip:a.example" },
      { method: "REGISTER", uri: "sip:b.example" },
      { method: "OPTIONS", uri: "sip:b.example" },
      { method: "REGISTER", uri: "sip:a.example" },
    ];
    for (const request of requests) {
      const a = answerChallenge(response(401, ['Digest realm="r", nonce="n"']), CREDS, request);
      assert.ok(a.ok);
      const expected = md5(`${md5("u:r:p")}:n:${md5(`${request.method}:${request.uri}`)}`);
      assert.match(a.value, new RegExp(`response="${expected}"`));
    }
  });

  it("keeps the nonce counter bounded", () => {
    const nc = new NonceCounter(3);
    for (let i = 0; i < 10; i++) nc.next(`n${i}`);
    assert.equal(nc.size, 3);
    assert.equal(nc.next("n0"), 1);
    assert.equal(nc.next("n9"), 2);
  });

  it("forgets the least recently used nonce first: a reused one moves to the newest end", () => {
    const nc = new NonceCounter(3);
    assert.deepEqual(
      ["a", "b", "c", "a", "d"].map((n) => nc.next(n)),
      [1, 1, 1, 2, 1],
    );
    // b was the oldest when d came: forgotten; a, c and d are kept
    assert.equal(nc.size, 3);
    assert.equal(nc.next("a"), 3); // b is still unknown; this evicts c
    assert.equal(nc.next("d"), 2);
    assert.equal(nc.next("b"), 1);
    assert.equal(nc.next("c"), 1);
    const none = new NonceCounter(0);
    assert.equal(none.next("x"), 1);
    assert.equal(none.next("x"), 1);
    assert.equal(none.size, 0);
  });

  it("reports stale=true", () => {
    const a = answer(response(401, ['Digest realm="r", nonce="n", qop="auth", stale=TRUE']));
    assert.ok(a.ok && a.stale);
  });

  it("picks the strongest supported challenge, first among equals", () => {
    const a = answer(
      response(401, [
        'Digest realm="r", nonce="md5", algorithm=MD5, qop=auth',
        'Digest realm="r", nonce="x", algorithm=AKAv1-MD5, qop=auth',
        'Digest realm="r", nonce="s512", algorithm=SHA-512-256, qop=auth',
        'Digest realm="r", nonce="s256", algorithm=sha-256, qop=auth',
        'Digest realm="r", nonce="s512b", algorithm=SHA-512-256-sess, qop=auth',
      ]),
    );
    assert.ok(a.ok);
    assert.match(a.value, /nonce="s512".*algorithm=SHA-512-256$/);
  });

  it("reads several challenges in one header value, Basic included", () => {
    const list = parseAuthChallenges(
      'Basic realm="b", Digest realm="r", nonce="n", qop="auth,auth-int", Negotiate abc==',
    );
    assert.deepEqual(
      list?.map((c) => [c.scheme, [...c.params]]),
      [
        ["Basic", [["realm", "b"]]],
        [
          "Digest",
          [
            ["realm", "r"],
            ["nonce", "n"],
            ["qop", "auth,auth-int"],
          ],
        ],
        ["Negotiate", []],
      ],
    );
    const a = answer(response(401, ['Basic realm="b", Digest realm="r", nonce="n"']));
    assert.ok(a.ok);
    assert.deepEqual(
      [...parseAuthChallenges("Digest realm=r, nonce=ab/c+d==, qop=auth")![0]!.params],
      [
        ["realm", "r"],
        ["nonce", "ab/c+d=="],
        ["qop", "auth"],
      ],
    );
  });

  it("unescapes quoted values and re-escapes them in the answer", () => {
    const a = answer(response(401, ['Digest realm="a \\"b\\" c", nonce="n"']));
    assert.ok(a.ok);
    assert.match(a.value, /realm="a \\"b\\" c"/);
    const c = toDigestChallenge(parseAuthChallenges('Digest realm="a \\"b\\" c", nonce="n"')![0]!);
    assert.ok(typeof c !== "string");
    assert.equal(c.realm, 'a "b" c');
  });

  it("a malformed header value loses all its challenges, the strongest too; the first of equals wins", () => {
    const a = answer(
      response(401, [
        'Digest realm="r", nonce="md5"',
        'Digest realm="r", nonce="s256", algorithm=SHA-256, qop=auth, x="open',
        'Digest realm="r", nonce="md5b"',
      ]),
    );
    assert.ok(a.ok);
    assert.match(a.value, /nonce="md5".*algorithm=MD5$/);
    const b = answer(
      response(401, [
        'Digest realm="r", nonce="first", algorithm=SHA-256',
        'Digest realm="r", nonce="second", algorithm=SHA-256',
      ]),
    );
    assert.ok(b.ok);
    assert.match(b.value, /nonce="first"/);
  });

  it("the first occurrence of an auth-param counts, its name in any case", () => {
    const a = answer(response(401, ['Digest REALM="a", realm="b", Nonce="n", nonce="m"']));
    assert.ok(a.ok);
    assert.match(a.value, /realm="a", nonce="n"/);
  });

  it("answers Proxy-Authenticate on a 407", () => {
    const a = answer(response(407, ['Digest realm="r", nonce="n"'], "Proxy-Authenticate"));
    assert.ok(a.ok && a.header === "Proxy-Authorization");
  });

  it("returns SIP_DIGEST errors, never throws", () => {
    const cases: Array<[SipResponse, RegExp]> = [
      [response(401, []), /no challenge/],
      [response(401, ['Digest realm="r", nonce="n", algorithm=SHA-1']), /unsupported algorithm SHA-1/],
      [response(401, ['Digest realm="r", nonce="n", algorithm=AKAv1-MD5']), /unsupported algorithm/],
      [response(401, ['Digest realm="r", nonce="n", algorithm=MD5-sess']), /MD5-sess without qop/],
      [response(401, ['Digest realm="r", nonce="n", algorithm=SHA-256-sess, qop="x"']), /without qop/],
      [response(401, ['Digest nonce="n"']), /without realm/],
      [response(401, ['Digest realm="", nonce="n"']), /without realm/],
      [response(401, ['Digest realm="r"']), /without nonce/],
      [response(401, ['Basic realm="r"']), /not Digest/],
      [response(401, ['Digest realm="r, nonce="n']), /malformed/],
      [response(401, ['Digest realm="r", nonce="n"'], "Proxy-Authenticate"), /no challenge/],
      [response(200, ['Digest realm="r", nonce="n"']), /status 200/],
    ];
    for (const [res, why] of cases) {
      const a = answer(res);
      assert.equal(a.ok, false);
      if (!a.ok) {
        assert.equal(a.error.code, "SIP_DIGEST");
        assert.match(a.error.message, why);
      }
    }
  });
});
