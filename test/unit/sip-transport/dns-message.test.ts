import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeReply, encodeQuery } from "../../../src/sip/transport/dns-message.js";

function name(n: string): Buffer {
  return Buffer.concat([
    ...n.split(".").map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0]),
  ]);
}

function rr(owner: Buffer, type: number, ttl: number, data: Buffer): Buffer {
  const h = Buffer.alloc(10);
  h.writeUInt16BE(type, 0);
  h.writeUInt16BE(1, 2);
  h.writeUInt32BE(ttl, 4);
  h.writeUInt16BE(data.length, 8);
  return Buffer.concat([owner, h, data]);
}

/** A reply to `_sip._udp.reg.test SRV` with an SRV, a NAPTR, an AAAA and a CNAME, owners compressed. */
function reply(id: number): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x8180, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(4, 6);
  const q = Buffer.concat([name("_sip._udp.reg.test"), Buffer.from([0, 33, 0, 1])]);
  const ptr = Buffer.from([0xc0, 12]);
  const srv = Buffer.concat([Buffer.from([0, 10, 0, 60, 0x13, 0xc4]), name("a.reg.test")]);
  const naptr = Buffer.concat([
    Buffer.from([0, 10, 0, 20, 1, 0x53, 7]),
    Buffer.from("SIP+D2U"),
    Buffer.from([0]),
    name("_sip._udp.reg.test"),
  ]);
  const aaaa = Buffer.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  const cname = Buffer.from([0xc0, 12]);
  return Buffer.concat([
    header,
    q,
    rr(ptr, 33, 120, srv),
    rr(ptr, 35, 300, naptr),
    rr(ptr, 28, 30, aaaa),
    rr(ptr, 5, 10, cname),
  ]);
}

describe("DNS messages (RFC 1035)", () => {
  it("encodes a recursive query with EDNS0", () => {
    const q = encodeQuery(0x1234, "_sip._udp.reg.test.", "SRV");
    assert.equal(q.readUInt16BE(0), 0x1234);
    assert.equal(q.readUInt16BE(2), 0x0100);
    assert.deepEqual(q.subarray(12, 12 + 20), name("_sip._udp.reg.test"));
    assert.equal(q.readUInt16BE(32), 33);
    assert.equal(q.readUInt16BE(10), 1, "one OPT record");
  });

  it("decodes SRV, NAPTR, AAAA and CNAME records with compressed names and their TTLs", () => {
    const r = decodeReply(reply(7));
    assert.ok(r.ok);
    assert.equal(r.reply.id, 7);
    assert.equal(r.reply.rcode, 0);
    assert.equal(r.reply.question, "_sip._udp.reg.test");
    assert.deepEqual(
      r.reply.answers.map((a) => [a.ttl, a.data]),
      [
        [120, { type: "SRV", srv: { priority: 10, weight: 60, port: 5060, name: "a.reg.test" } }],
        [
          300,
          {
            type: "NAPTR",
            naptr: {
              order: 10,
              preference: 20,
              flags: "S",
              service: "SIP+D2U",
              regexp: "",
              replacement: "_sip._udp.reg.test",
            },
          },
        ],
        [30, { type: "AAAA", address: "2001:db8::1" }],
        [10, { type: "CNAME", target: "_sip._udp.reg.test" }],
      ],
    );
  });

  it("never throws on truncated or looping input", () => {
    const full = reply(1);
    for (let cut = 0; cut < full.length; cut++) {
      const r = decodeReply(full.subarray(0, cut));
      assert.equal(r.ok, false, `cut at ${cut}`);
    }
    const loop = Buffer.from(full);
    loop[12] = 0xc0; // the question name points at itself
    loop[13] = 12;
    assert.equal(decodeReply(loop).ok, false);
    assert.equal(decodeReply(encodeQuery(1, "x.test", "A")).ok, false, "a query is not a reply");
  });
});
