import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatUri, parseUri, uriParam, urisEqual } from "../../../src/sip/uri.js";
import type { SipUri } from "../../../src/sip/uri.js";

function ok(text: string): SipUri {
  const r = parseUri(text);
  if (!r.ok) throw new Error(`${text}: ${r.error.message}`);
  return r.uri;
}

describe("parseUri / formatUri", () => {
  it("reads every component", () => {
    const u = ok("sips:alice:secret@Example.COM:5061;transport=tls;lr;maddr=239.255.255.1?subject=hi&priority=urgent");
    assert.equal(u.scheme, "sips");
    assert.equal(u.user, "alice");
    assert.equal(u.password, "secret");
    assert.equal(u.host, "Example.COM");
    assert.equal(u.hostKind, "name");
    assert.equal(u.port, 5061);
    assert.deepEqual(
      [...u.params],
      [
        ["transport", "tls"],
        ["lr", null],
        ["maddr", "239.255.255.1"],
      ],
    );
    assert.deepEqual(
      [...u.headers],
      [
        ["subject", "hi"],
        ["priority", "urgent"],
      ],
    );
  });

  it("knows IPv4 and IPv6 hosts", () => {
    const v4 = ok("sip:127.0.0.1:5070");
    assert.equal(v4.hostKind, "ipv4");
    assert.equal(v4.user, undefined);
    const v6 = ok("sip:bob@[2001:db8::1]:5060;transport=tcp");
    assert.equal(v6.hostKind, "ipv6");
    assert.equal(v6.host, "2001:db8::1");
    assert.equal(v6.port, 5060);
  });

  it("round-trips byte for byte", () => {
    for (const text of [
      "sip:127.0.0.1:5070",
      "sip:127.0.0.1:5070;transport=tcp",
      "sip:bob@127.0.0.1:5080;transport=tcp",
      "sip:alice@example.test",
      "sip:%61lice@example.test",
      "sips:u:p@[::1]:5061;lr;Transport=TLS?h=v&x=",
      "sip:+1-212-555-1212;phone-context=example.com@gw.example.com;user=phone",
      "sip:host.example.com.",
      "sip:a@b;x=[::1]",
      "sip:*97#@pbx_1.example",
    ]) {
      assert.equal(formatUri(ok(text)), text);
    }
  });

  it("looks parameters up case-insensitively", () => {
    const u = ok("sip:h;Transport=TCP;LR");
    assert.equal(uriParam(u, "transport"), "TCP");
    assert.equal(uriParam(u, "lr"), null);
    assert.equal(uriParam(u, "maddr"), undefined);
  });

  it("rejects malformed URIs with SIP_URI", () => {
    for (const text of [
      "",
      "sip:",
      "tel:+123",
      "http://example.com",
      "sip:@host",
      "sip:a@",
      "sip:a b@host",
      "sip:host:",
      "sip:host:70000",
      "sip:host:5o60",
      "sip:[::1",
      "sip:[zz::1]",
      "sip:ho st",
      "sip:-host",
      "sip:1.2.3.999",
      "sip:host;",
      "sip:host;=x",
      "sip:host;lr;lr",
      "sip:host;a=",
      "sip:host?x",
      "sip:host%zz",
      "sip:a%4@host",
      "sip:a@host>",
      `sip:${"a".repeat(5000)}`,
    ]) {
      const r = parseUri(text);
      assert.equal(r.ok, false, text);
      if (!r.ok) assert.equal(r.error.code, "SIP_URI");
    }
  });
});

describe("urisEqual (RFC 3261 §19.1.4)", () => {
  it("equal pairs from §19.1.4", () => {
    assert.ok(urisEqual("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"));
    assert.ok(urisEqual("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"));
    assert.ok(urisEqual("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"));
    assert.ok(urisEqual("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"));
    assert.ok(
      urisEqual(
        "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
        "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com",
      ),
    );
    assert.ok(
      urisEqual(
        "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
        "sip:alice@atlanta.com?priority=urgent&subject=project%20x",
      ),
    );
    assert.ok(urisEqual("sip:u@[2001:db8::1]", "sip:u@[2001:DB8:0:0:0:0:0:1]"));
  });

  it("unequal pairs from §19.1.4", () => {
    assert.ok(!urisEqual("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"));
    assert.ok(!urisEqual("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
    assert.ok(!urisEqual("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"));
    assert.ok(!urisEqual("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"));
    assert.ok(!urisEqual("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"));
    assert.ok(!urisEqual("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"));
    assert.ok(!urisEqual("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"));
    assert.ok(!urisEqual("sip:a@h", "sips:a@h"));
    assert.ok(!urisEqual("sip:a:p@h", "sip:a@h"));
    assert.ok(!urisEqual("sip:a@h", "not a uri"));
  });

  it("matches the golden bob binding against the 200's Contact", () => {
    assert.ok(urisEqual("sip:bob@127.0.0.1:5080;transport=tcp", "sip:bob@127.0.0.1:5080;transport=TCP"));
  });
});
