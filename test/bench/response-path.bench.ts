/**
 * The receiving side of a challenged registration alone (not a test): per registration, the 401 and the 200 of
 * the bench's load registrar are parsed, matched the way the transaction table reads them (top Via branch, CSeq),
 * the challenge answered and the 200's Contact compared with the binding, as `registrant/response.ts` does for
 * the machine. No sockets, no transactions: a steady input for allocation and instruction counts.
 *
 *   node --import tsx test/bench/response-path.bench.ts [n] [alloc]
 *
 * With `alloc`, V8's sampling heap profiler (collected objects included) runs over the n registrations and the
 * bytes allocated per registration are printed by function (self). Without it the loop just runs: put it under
 * `valgrind --tool=callgrind` with n and 2n and take the difference for instructions per registration. Run it
 * compiled with tsc (see sip-storm.bench.ts).
 */
import { parseCSeq, topViaBranch } from "../../src/sip/headers.js";
import type { SipResponse } from "../../src/sip/message.js";
import { headerValue } from "../../src/sip/message.js";
import { parseMessage } from "../../src/sip/parse.js";
import { urisEqual } from "../../src/sip/uri.js";
import { grantedExpires, wireReaders } from "../../src/registrant/response.js";
import { printAllocations, sampleAllocations } from "./alloc-summary.js";

const N = Number(process.argv[2] ?? 100_000);
const ALLOC = process.argv[3] === "alloc";
/** distinct nonces, as the load registrar sends (each answered once), cycled */
const DISTINCT = 4096;

const common = (i: number): string =>
  `Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK${(0x3f2e1d0c + i).toString(16)}9b8a7a6b.1a;rport\r\n` +
  `From: <sip:u${i}@perf.test>;tag=t${i}\r\n` +
  `To: <sip:u${i}@perf.test>;tag=lr1\r\n` +
  `Call-ID: storm-0-${i}\r\n`;
const r401 = Array.from({ length: DISTINCT }, (_, i) =>
  Buffer.from(
    `SIP/2.0 401 Unauthorized\r\n${common(i)}CSeq: 1 REGISTER\r\n` +
      `WWW-Authenticate: Digest realm="perf.test", nonce="${(i + 1).toString(36)}.3c4d5e6f7a8b", qop="auth", algorithm=MD5\r\n` +
      "Content-Length: 0\r\n\r\n",
  ),
);
const r200 = Array.from({ length: DISTINCT }, (_, i) =>
  Buffer.from(
    `SIP/2.0 200 OK\r\n${common(i)}CSeq: 2 REGISTER\r\n` +
      `Contact: <sip:u${i}@127.0.0.1:5080>;expires=3600\r\nContent-Length: 0\r\n\r\n`,
  ),
);
const bindings = Array.from({ length: DISTINCT }, (_, i) => `sip:u${i}@127.0.0.1:5080`);
const users = Array.from({ length: DISTINCT }, (_, i) => `u${i}`);

/** What the transaction table reads off every response. */
function match(res: SipResponse): boolean {
  const via = headerValue(res, "via");
  const cseq = headerValue(res, "cseq");
  return via !== undefined && cseq !== undefined && topViaBranch(via) !== undefined && parseCSeq(cseq).ok;
}

/** The machine's comparison: equal strings first, RFC 3261 §19.1.4 otherwise. */
const equal = (a: string, b: string): boolean => a === b || urisEqual(a, b);

function registration(i: number): number {
  const k = i % DISTINCT;
  const p401 = parseMessage(r401[k]!);
  if (!p401.ok || p401.message.kind !== "response" || !match(p401.message)) throw new Error("401");
  const answer = wireReaders.answerChallenge(
    p401.message,
    { username: users[k]!, password: "secret" },
    { method: "REGISTER", uri: "sip:127.0.0.1:5070" },
  );
  if (!answer.ok) throw answer.error;
  const p200 = parseMessage(r200[k]!);
  if (!p200.ok || p200.message.kind !== "response" || !match(p200.message)) throw new Error("200");
  const contacts = wireReaders.contacts(p200.message);
  if (contacts === undefined) throw new Error("contacts");
  return grantedExpires(p200.message, contacts, bindings[k]!, equal) + answer.value.length;
}

let sink = 0;
for (let i = 0; i < 20_000; i++) sink += registration(i); // warm-up: optimised code, full nonce counter
if (ALLOC) {
  const sampler = await sampleAllocations(512);
  for (let i = 0; i < N; i++) sink += registration(i);
  printAllocations((await sampler.stop()).head, N, "registration");
} else {
  for (let i = 0; i < N; i++) sink += registration(i);
}
if (sink === 0) console.log("");
