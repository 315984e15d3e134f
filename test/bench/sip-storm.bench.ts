/**
 * The SIP layer alone in a registration storm (not a test): N challenged registrations (REGISTER, 401, REGISTER
 * with digest, 200) through `SipStack` against the bench's load registrar, `window` registrations in flight as
 * send pacing allows at its default (256), the 200's Contact compared with the binding as the engine does. No
 * engine, store, status or events: what is left is the SIP layer's CPU per registration.
 *
 *   node --import tsx test/bench/sip-storm.bench.ts [n] [window] [rounds]
 *
 * Prints, per round, CPU-s (user + sys, the whole process) per 1,000 registrations and the main thread's share
 * of it; the load registrar runs in its own process and is not counted. `T1=ms` in the environment sets T1 (and
 * T2 = 8 × T1, Timer F = 64 × T1), e.g. to keep retransmissions out of a run under valgrind, whose instruction
 * counts are the steadiest A/B measure on a shared machine. For figures, run it compiled with tsc: under tsx
 * every named closure costs a helper call of its own.
 *
 * Under callgrind on the 2 shared cores, `--single-threaded` (V8 compiles and collects on the main thread) and
 * the totals of N 5000 × 3 rounds (about 7 G instructions) still varied by up to 0.9 G between two runs of the
 * same build when the machine was loaded: run base and change side by side, several pairs, and compare the pairs.
 */
import { readFileSync } from "node:fs";
import { answerChallenge } from "../../src/sip/digest.js";
import { headerValues } from "../../src/sip/message.js";
import { parseContacts } from "../../src/sip/headers.js";
import type { RegisterRequest } from "../../src/sip/sip-client.js";
import { SipStack } from "../../src/sip/sip-stack.js";
import { urisEqual } from "../../src/sip/uri.js";
import { LOAD_PASSWORD, startLoadRegistrar } from "./load-registrar.js";

const N = Number(process.argv[2] ?? 20_000);
const WINDOW = Number(process.argv[3] ?? 256);
const ROUNDS = Number(process.argv[4] ?? 3);

/** utime + stime of the main thread (clock ticks of 10 ms: good enough over a second or more). */
function mainThreadCpuS(): number {
  const st = readFileSync(`/proc/self/task/${process.pid}/stat`, "latin1");
  const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

function request(port: number, i: number, round: number, cseq: number): RegisterRequest {
  return {
    requestUri: `sip:127.0.0.1:${port}`,
    to: `sip:u${i}@perf.test`,
    from: `sip:u${i}@perf.test`,
    fromTag: `t${i}`,
    callId: `storm-${round}-${i}`,
    cseq,
    contact: { uri: `sip:u${i}@127.0.0.1:5080`, params: "", expiresSec: 3600 },
    userAgent: "registrantd-bench",
  };
}

async function register(stack: SipStack, port: number, i: number, round: number): Promise<boolean> {
  const first = request(port, i, round, 1);
  const o1 = await stack.send(first);
  if (o1.kind !== "response" || o1.response.status !== 401) return false;
  const answer = answerChallenge(
    o1.response,
    { username: `u${i}`, password: LOAD_PASSWORD },
    { method: "REGISTER", uri: first.requestUri },
  );
  if (!answer.ok) return false;
  const o2 = await stack.send({ ...request(port, i, round, 2), authorization: answer });
  if (o2.kind !== "response" || o2.response.status !== 200) return false;
  const contacts = parseContacts(headerValues(o2.response, "contact"));
  return contacts.ok && contacts.contacts.some((c) => urisEqual(c.uri, `sip:u${i}@127.0.0.1:5080`));
}

const registrar = await startLoadRegistrar();
const t1 = Number(process.env["T1"] ?? 500);
const stack = await SipStack.start({
  listen: ["udp:127.0.0.1:0"],
  udpBufferSize: 16 << 20,
  timers: { t1, t2: 8 * t1, timerF: 64 * t1 },
});
try {
  for (let round = 0; round < ROUNDS; round++) {
    const cpu0 = process.cpuUsage();
    const main0 = mainThreadCpuS();
    const t0 = performance.now();
    let next = 0;
    let ok = 0;
    const worker = async (): Promise<void> => {
      while (next < N) if (await register(stack, registrar.port, next++, round)) ok++;
    };
    await Promise.all(Array.from({ length: WINDOW }, worker));
    const wallS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuS = (cpu.user + cpu.system) / 1e6;
    const mainS = mainThreadCpuS() - main0;
    const st = stack.stats();
    // the round's completed transactions are all still held (Timer K, 5 s): what they keep is on the heap
    const heapMB = process.memoryUsage().heapUsed / 2 ** 20;
    console.log(
      `round ${round}: ${ok}/${N} registered in ${wallS.toFixed(1)} s, ` +
        `${((cpuS * 1000) / N).toFixed(4)} CPU-s per 1,000 (main thread ${((mainS * 1000) / N).toFixed(4)}, ` +
        `sys ${(((cpu.system / 1e6) * 1000) / N).toFixed(4)}), retransmissions ${st.retransmissions}, heap ${heapMB.toFixed(0)} MB`,
    );
  }
} finally {
  await stack.close();
  registrar.stop();
}
