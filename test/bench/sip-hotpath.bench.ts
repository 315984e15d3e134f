/**
 * SIP hot-path micro-benchmark (not a test): CPU per call of what the stack does for each challenged
 * registration of a storm, on the messages of the bench's load registrar: build the REGISTER, parse the 401
 * and the 200, match them to their transaction, answer the challenge, compare the 200's Contact with the
 * binding.
 *
 *   node --import tsx test/bench/sip-hotpath.bench.ts [iterations]
 *
 * Each case runs ten times after a warm-up; the best run is printed, in ns per call (on a shared machine the
 * best of many short runs is the steadiest figure). Run it compiled (tsx wraps every named closure in a call
 * of its own, which distorts code that creates closures).
 */
import { answerChallenge } from "../../src/sip/digest.js";
import { parseMessage } from "../../src/sip/parse.js";
import { serializeRegister } from "../../src/sip/serialize.js";
import type { RegisterRequest } from "../../src/sip/sip-client.js";
import { urisEqual } from "../../src/sip/uri.js";
import { TransactionTable } from "../../src/sip/transaction/transaction-table.js";
import type { NonInviteClientTransaction } from "../../src/sip/transaction/non-invite-client.js";

const N = Number(process.argv[2] ?? 50_000);
const RUNS = 10;

const req: RegisterRequest = {
  requestUri: "sip:127.0.0.1:5070",
  to: "sip:u1234@perf.test",
  from: "sip:u1234@perf.test",
  fromTag: "5a1c0ff3",
  callId: "0f3e1d2c3b4a59687766554433221100",
  cseq: 2,
  contact: { uri: "sip:u1234@127.0.0.1:5080", params: "", expiresSec: 60 },
  userAgent: "OpenSIPS (3.4.0 (x86_64/linux))",
};
const via = {
  transport: "UDP",
  host: "127.0.0.1",
  port: 5080,
  branch: "z9hG4bK3f2e1d0c9b8a7a6b.1a",
  rport: true,
} as const;
const common =
  "Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK3f2e1d0c9b8a7a6b.1a;rport\r\n" +
  "To: <sip:u1234@perf.test>;tag=lr1\r\n" +
  "From: <sip:u1234@perf.test>;tag=5a1c0ff3\r\n" +
  "CSeq: 2 REGISTER\r\n" +
  "Call-ID: 0f3e1d2c3b4a59687766554433221100\r\n";
const r401 = Buffer.from(
  `SIP/2.0 401 Unauthorized\r\n${common}` +
    'WWW-Authenticate: Digest realm="perf.test", nonce="1a2b.3c4d5e6f7a8b", qop="auth", algorithm=MD5\r\n' +
    "Content-Length: 0\r\n\r\n",
);
const r200 = Buffer.from(
  `SIP/2.0 200 OK\r\n${common}Contact: <sip:u1234@127.0.0.1:5080>;expires=60\r\nContent-Length: 0\r\n\r\n`,
);
const parsed401 = parseMessage(r401);
if (!parsed401.ok || parsed401.message.kind !== "response") throw new Error("401 does not parse");
const challenge = parsed401.message;

const table = new TransactionTable();
const fakeTxn = { receiveResponse: () => undefined } as unknown as NonInviteClientTransaction;
const source = { transport: "udp", address: "127.0.0.1", port: 5070 } as const;
table.add(via.branch, "REGISTER", fakeTxn, source);
const parsed200 = parseMessage(r200);
if (!parsed200.ok) throw new Error("200 does not parse");
const ok200 = parsed200.message;

const cases: [string, () => unknown][] = [
  ["serializeRegister", () => serializeRegister(req, via)],
  ["parseMessage 401", () => parseMessage(r401)],
  ["parseMessage 200", () => parseMessage(r200)],
  ["table.dispatch 200", () => table.dispatch(ok200, source)],
  [
    "answerChallenge",
    () =>
      answerChallenge(
        challenge,
        { username: "u1234", password: "secret" },
        { method: "REGISTER", uri: req.requestUri },
      ),
  ],
  ["urisEqual contact", () => urisEqual("sip:u1234@127.0.0.1:5080", "sip:u1234@127.0.0.1:5080")],
];

let sink = 0;
for (const [name, fn] of cases) {
  for (let i = 0; i < N; i++) if (fn() !== undefined) sink++;
  let best = Infinity;
  for (let run = 0; run < RUNS; run++) {
    const before = process.cpuUsage();
    for (let i = 0; i < N; i++) if (fn() !== undefined) sink++;
    const used = process.cpuUsage(before);
    best = Math.min(best, ((used.user + used.system) * 1000) / N);
  }
  console.log(`${name.padEnd(22)} ${best.toFixed(0).padStart(6)} ns per call`);
}
if (sink === 0) console.log("");
