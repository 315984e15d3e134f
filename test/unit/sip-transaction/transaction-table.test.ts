import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../../../src/clock.js";
import { TransportError } from "../../../src/errors.js";
import type { SipMessage } from "../../../src/sip/message.js";
import { parseMessage } from "../../../src/sip/parse.js";
import { NonInviteClientTransaction } from "../../../src/sip/transaction/non-invite-client.js";
import type { NictOutcome } from "../../../src/sip/transaction/non-invite-client.js";
import { TimerWheel } from "../../../src/sip/transaction/timer-wheel.js";
import { RFC_TIMERS } from "../../../src/sip/transaction/timers.js";
import { TransactionTable } from "../../../src/sip/transaction/transaction-table.js";
import type { ResponseSource } from "../../../src/sip/transaction/transaction-table.js";

function msg(text: string): SipMessage {
  const r = parseMessage(Buffer.from(text.replace(/\n/g, "\r\n")));
  assert.ok(r.ok, text);
  return r.message;
}

function response(branch: string, method = "REGISTER", status = 200): SipMessage {
  return msg(
    `SIP/2.0 ${status} OK\nVia: SIP/2.0/UDP 127.0.0.1:5080;branch=${branch};rport=5080\nFrom: <sip:a@x>;tag=1\n` +
      `To: <sip:a@x>;tag=2\nCall-ID: c\nCSeq: 1 ${method}\nContent-Length: 0\n\n`,
  );
}

const REGISTRAR: ResponseSource = { transport: "udp", address: "192.0.2.10", port: 5060 };

function open(table: TransactionTable, branch: string, dest: ResponseSource = REGISTRAR) {
  const wheel = new TimerWheel({ clock: new ManualClock(), autoDrive: false });
  const outcomes: NictOutcome[] = [];
  const txn = new NonInviteClientTransaction(
    Buffer.from("x"),
    { reliable: dest.transport !== "udp", send: () => undefined },
    RFC_TIMERS,
    wheel,
    {
      onOutcome: (o) => outcomes.push(o),
      onTerminated: () => table.remove(branch, "REGISTER"),
    },
  );
  table.add(branch, "REGISTER", txn, dest);
  txn.start();
  return outcomes;
}

describe("TransactionTable (RFC 3261 §17.1.3 + source check)", () => {
  it("matches by top Via branch and CSeq method, in any order", () => {
    const table = new TransactionTable();
    const a = open(table, "z9hG4bKa");
    const b = open(table, "z9hG4bKb");
    assert.equal(table.dispatch(response("z9hG4bKb"), REGISTRAR), "delivered");
    assert.equal(table.dispatch(response("z9hG4bKa"), REGISTRAR), "delivered");
    assert.equal(a.length, 1);
    assert.equal(b.length, 1);
  });

  it("drops and counts: unknown branch, other method, another source port or address, requests, garbage", () => {
    const table = new TransactionTable();
    const outcomes = open(table, "z9hG4bKa");
    assert.equal(table.dispatch(response("z9hG4bKzz"), REGISTRAR), "unmatched");
    assert.equal(table.dispatch(response("z9hG4bKa", "OPTIONS"), REGISTRAR), "unmatched");
    assert.equal(table.dispatch(response("z9hG4bKa"), { ...REGISTRAR, port: 5061 }), "spoofed");
    assert.equal(table.dispatch(response("z9hG4bKa"), { ...REGISTRAR, address: "192.0.2.66" }), "spoofed");
    assert.equal(table.dispatch(response("z9hG4bKa"), { ...REGISTRAR, transport: "tcp" }), "spoofed");
    const options = msg(
      "OPTIONS sip:x@y SIP/2.0\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKa\nFrom: <sip:a@x>;tag=1\nTo: <sip:a@x>\nCall-ID: c\nCSeq: 1 OPTIONS\nMax-Forwards: 70\nContent-Length: 0\n\n",
    );
    assert.equal(table.dispatch(options, REGISTRAR), "unmatched");
    assert.equal(table.dispatch(undefined, REGISTRAR), "unparsable");
    const noBranch = msg(
      "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 1.2.3.4\nFrom: <sip:a@x>;tag=1\nTo: <sip:a@x>\nCall-ID: c\nCSeq: 1 REGISTER\nContent-Length: 0\n\n",
    );
    assert.equal(table.dispatch(noBranch, REGISTRAR), "unparsable");
    assert.deepEqual(table.dropped, { unparsable: 2, unmatched: 3, spoofed: 3 });
    assert.equal(outcomes.length, 0, "nothing reached the transaction user");
  });

  it("over TCP a response on the request's connection is accepted; a broken connection fails its transactions", () => {
    const table = new TransactionTable();
    const dest: ResponseSource = { transport: "tcp", address: "192.0.2.10", port: 5060, connectionId: 7 };
    const a = open(table, "z9hG4bKa", dest);
    const b = open(table, "z9hG4bKb", dest);
    // the same connection seen from another address (NAT'd registrar) is still the request's connection
    assert.equal(
      table.dispatch(response("z9hG4bKa"), { transport: "tcp", address: "198.51.100.1", port: 40000, connectionId: 7 }),
      "delivered",
    );
    assert.equal(table.hasConnection(7), true);
    assert.equal(table.failConnection(7, new TransportError("reset")), 1);
    assert.equal(a[0]?.kind, "response");
    assert.equal(b[0]?.kind, "transport-error");
    assert.equal(table.size, 0);
    assert.equal(table.hasConnection(7), false);
  });

  it("one branch may carry transactions of several methods (CANCEL shares its INVITE's): each method its own", () => {
    const table = new TransactionTable();
    const seen: string[] = [];
    const txn = (name: string) => ({ receiveResponse: () => seen.push(name) }) as unknown as NonInviteClientTransaction;
    table.add("z9hG4bKa", "REGISTER", txn("register"), REGISTRAR);
    table.add("z9hG4bKa", "options", txn("options"), REGISTRAR);
    assert.throws(() => table.add("z9hG4bKa", "OPTIONS", txn("again"), REGISTRAR), /already open/);
    assert.equal(table.size, 2);
    assert.equal(table.dispatch(response("z9hG4bKa", "OPTIONS"), REGISTRAR), "delivered");
    assert.equal(table.dispatch(response("z9hG4bKa", "register"), REGISTRAR), "delivered");
    assert.deepEqual(seen, ["options", "register"]);
    table.remove("z9hG4bKa", "REGISTER");
    assert.equal(table.dispatch(response("z9hG4bKa"), REGISTRAR), "unmatched");
    assert.equal(table.dispatch(response("z9hG4bKa", "OPTIONS"), REGISTRAR), "delivered");
    assert.equal(table.transactions().length, 1);
    table.remove("z9hG4bKa", "OPTIONS");
    table.remove("z9hG4bKa", "OPTIONS");
    assert.equal(table.size, 0);
    assert.deepEqual(table.transactions(), []);
  });

  it("a retired branch absorbs retransmissions from where the request went for one to two T4, then forgets", () => {
    const clock = new ManualClock();
    const table = new TransactionTable(clock, 5_000);
    const seen: string[] = [];
    const txn = { receiveResponse: () => seen.push("txn") } as unknown as NonInviteClientTransaction;
    table.add("z9hG4bKa", "REGISTER", txn, REGISTRAR);
    assert.equal(table.dispatch(response("z9hG4bKa"), REGISTRAR), "delivered");
    table.retire("z9hG4bKa", "REGISTER", REGISTRAR);
    assert.equal(table.size, 0);
    clock.advance(4_999);
    assert.equal(table.dispatch(response("z9hG4bKa"), REGISTRAR), "delivered", "absorbed, as Completed does");
    assert.equal(table.dispatch(response("z9hG4bKa"), { ...REGISTRAR, port: 5061 }), "spoofed");
    clock.advance(5_000);
    assert.equal(table.dispatch(response("z9hG4bKa"), REGISTRAR), "delivered", "still within 2 × T4");
    clock.advance(5_001);
    assert.equal(table.dispatch(response("z9hG4bKa"), REGISTRAR), "unmatched");
    table.retire("z9hG4bKb", "REGISTER", REGISTRAR);
    assert.equal(table.retiredSize, 1);
    clock.advance(10_000);
    table.age();
    assert.equal(table.retiredSize, 0, "an idle table forgets within 2 × T4 when its owner ages it");
    assert.deepEqual(seen, ["txn"], "the transaction itself heard only the first response");
    assert.deepEqual(table.dropped, { unparsable: 0, unmatched: 1, spoofed: 1 });
  });

  it("retired branches are found before and after the first lookup of their generation, from the right source only", () => {
    const clock = new ManualClock();
    const table = new TransactionTable(clock, 5_000);
    const other: ResponseSource = { transport: "udp", address: "192.0.2.11", port: 5060 };
    for (let i = 0; i < 1_000; i++) table.retire(`z9hG4bK${i}`, "REGISTER", i % 2 === 0 ? REGISTRAR : other);
    assert.equal(table.retiredSize, 1_000);
    assert.equal(table.dispatch(response("z9hG4bK998"), REGISTRAR), "delivered");
    assert.equal(table.dispatch(response("z9hG4bK999"), REGISTRAR), "spoofed");
    assert.equal(table.dispatch(response("z9hG4bK999"), other), "delivered");
    for (let i = 1_000; i < 1_010; i++) table.retire(`z9hG4bK${i}`, "REGISTER", REGISTRAR);
    assert.equal(table.retiredSize, 1_010);
    assert.equal(table.dispatch(response("z9hG4bK1009"), REGISTRAR), "delivered", "retired after the first lookup");
    assert.equal(table.dispatch(response("z9hG4bK0"), REGISTRAR), "delivered");
    clock.advance(5_000);
    table.retire("z9hG4bKnew", "REGISTER", REGISTRAR);
    assert.equal(table.dispatch(response("z9hG4bK1"), other), "delivered", "the generation before still answers");
    assert.equal(table.dispatch(response("z9hG4bKnew"), REGISTRAR), "delivered");
    clock.advance(10_000);
    table.age();
    assert.equal(table.retiredSize, 0);
    assert.equal(table.dispatch(response("z9hG4bK1"), other), "unmatched");
    assert.deepEqual(table.dropped, { unparsable: 0, unmatched: 1, spoofed: 1 });
  });
});
