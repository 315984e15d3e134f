import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { formatSocketSpec, parseSocketSpec } from "../../../src/sip/transport/socket-spec.js";

describe("parseSocketSpec (OpenSIPS socket strings)", () => {
  const good: [string, string][] = [
    ["udp:127.0.0.1:5080", "udp:127.0.0.1:5080"],
    ["TCP:10.0.0.1:5060", "tcp:10.0.0.1:5060"],
    ["tls:192.0.2.1", "tls:192.0.2.1:5061"],
    ["udp:192.0.2.1", "udp:192.0.2.1:5060"],
    ["udp:[::1]:5080", "udp:[::1]:5080"],
    ["tls:[2001:DB8:0:0::1]:5061", "tls:[2001:db8::1]:5061"],
    ["tcp:::1", "tcp:[::1]:5060"],
    [" udp:127.0.0.1:0 ", "udp:127.0.0.1:0"],
  ];
  for (const [text, canonical] of good) {
    it(`accepts ${JSON.stringify(text)}`, () => {
      const r = parseSocketSpec(text);
      assert.ok(r.ok, text);
      assert.equal(formatSocketSpec(r.spec), canonical);
      assert.equal(r.spec.family, canonical.includes("[") ? 6 : 4);
    });
  }
  for (const text of [
    "",
    "udp",
    "sctp:1.2.3.4:5060",
    "ws:1.2.3.4:80",
    "udp:example.com:5060",
    "udp:1.2.3.4:x",
    "udp:1.2.3.4:70000",
    "udp:[::1",
    "udp:[::1]x",
  ]) {
    it(`refuses ${JSON.stringify(text)} with SIP_SOCKET_NOT_CONFIGURED`, () => {
      const r = parseSocketSpec(text);
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.error.code, "SIP_SOCKET_NOT_CONFIGURED");
    });
  }
});
