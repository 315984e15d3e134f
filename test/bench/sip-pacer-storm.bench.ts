/**
 * The SIP layer as the engine drives it in a storm (not a test): N challenged registrations (REGISTER, 401,
 * REGISTER with digest, 200), all handed at once to the send pacer (256 in flight, as configured by default) in
 * front of `SipStack`, against the bench's load registrar; challenge answers go first, as the engine sends them.
 * Round 0 warms up; round 1 is measured.
 *
 *   node --import tsx test/bench/sip-pacer-storm.bench.ts [n] [heap-profile-file]
 *
 * Prints per round the CPU µs per registration (user + sys, whole process), retransmissions, timeouts, and the
 * timer-wheel entries still held (cancelled ones wait for their slot), then the same after an idle second. With a
 * file name, round 1 runs under V8's sampling heap profiler (every 512 B, collected objects included): sum the
 * profile's selfSize over its tree and divide by N for bytes allocated per registration. `T1=ms` in the
 * environment sets T1 (T2 = 8 × T1, Timer F = 64 × T1), e.g. T1=60000 to keep retransmissions out under valgrind.
 */
import { writeFileSync } from "node:fs";
import { answerChallenge } from "../../src/sip/digest.js";
import { parseContacts } from "../../src/sip/headers.js";
import { headerValues } from "../../src/sip/message.js";
import { SendPacer } from "../../src/sip/send-pacer.js";
import type { RegisterRequest, SendOutcome } from "../../src/sip/sip-client.js";
import { SipStack } from "../../src/sip/sip-stack.js";
import { urisEqual } from "../../src/sip/uri.js";
import { LOAD_PASSWORD, startLoadRegistrar } from "./load-registrar.js";
import { sampleAllocations } from "./alloc-summary.js";

const N = Number(process.argv[2] ?? 20_000);
const PROFILE = process.argv[3];

const registrar = await startLoadRegistrar();
const t1 = Number(process.env["T1"] ?? 500);
const stack = await SipStack.start({
  listen: ["udp:127.0.0.1:0"],
  udpBufferSize: 16 << 20,
  timers: { t1, t2: 8 * t1, timerF: 64 * t1 },
});
const pacer = new SendPacer(stack, { maxInFlight: 256, rate: 0, ratePerRegistrar: 0 });
const hop = `sip:127.0.0.1:${registrar.port}`;

function request(i: number, round: number, cseq: number): RegisterRequest {
  return {
    requestUri: hop,
    to: `sip:u${i}@perf.test`,
    from: `sip:u${i}@perf.test`,
    fromTag: `t${i}`,
    callId: `storm-${round}-${i}`,
    cseq,
    contact: { uri: `sip:u${i}@127.0.0.1:5080`, params: "", expiresSec: 3600 },
    userAgent: "registrantd-bench",
  };
}

function send(req: RegisterRequest, urgent: boolean): Promise<SendOutcome> {
  return new Promise((resolve) => pacer.defer(hop, req, (r, start) => start(r, resolve), urgent));
}

async function register(i: number, round: number): Promise<boolean> {
  const first = request(i, round, 1);
  const o1 = await send(first, false);
  if (o1.kind !== "response" || o1.response.status !== 401) return false;
  const credentials = { username: `u${i}`, password: LOAD_PASSWORD };
  const answer = answerChallenge(o1.response, credentials, { method: "REGISTER", uri: first.requestUri });
  if (!answer.ok) return false;
  const o2 = await send({ ...request(i, round, 2), authorization: answer }, true);
  if (o2.kind !== "response" || o2.response.status !== 200) return false;
  const contacts = parseContacts(headerValues(o2.response, "contact"));
  return contacts.ok && contacts.contacts.some((c) => urisEqual(c.uri, `sip:u${i}@127.0.0.1:5080`));
}

function wheelLine(): string {
  return `timer entries held ${stack.timerEntriesHeld}, in flight ${stack.stats().inFlight}`;
}

async function round(r: number): Promise<void> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const results = await Promise.all(Array.from({ length: N }, (_, i) => register(i, r)));
  const cpu = process.cpuUsage(cpu0);
  const st = stack.stats();
  console.log(
    `round ${r}: ${results.filter(Boolean).length}/${N} registered in ${((performance.now() - t0) / 1000).toFixed(1)} s, ` +
      `${((cpu.user + cpu.system) / N).toFixed(1)} CPU-µs per registration, retransmissions ${st.retransmissions}, ` +
      `timeouts ${st.timeouts}, ${wheelLine()}`,
  );
}

try {
  await round(0);
  const sampler = PROFILE !== undefined ? await sampleAllocations(512) : undefined;
  await round(1);
  if (sampler !== undefined && PROFILE !== undefined) writeFileSync(PROFILE, JSON.stringify(await sampler.stop()));
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  console.log(`after an idle second: ${wheelLine()}`);
} finally {
  pacer.close();
  await stack.close();
  registrar.stop();
}
