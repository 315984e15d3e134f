/**
 * SIP client transaction benchmark (not a test): REGISTER transactions over UDP loopback with 10,000 and
 * 100,000 in flight at once, against a responder in a child process that answers every REGISTER with a 200
 * (its CPU is not counted). Prints transactions/s, CPU (user+sys) per transaction, retransmissions, timeouts,
 * and how many Node timers were active at the peak (the timer wheel keeps that at one, whatever the load).
 *
 *   node --import tsx test/bench/transactions.bench.ts [window ...]
 *
 * Each window runs 3×window transactions, refilling as answers come, so `window` stay in flight throughout.
 *
 * T1 is RFC 3261's RTT estimate. With 100,000 requests queued on loopback the last one's RTT is seconds, so the
 * RFC default (500 ms) makes every queued request retransmit and the responder collapses under its own
 * backlog (measured: 1.28M retransmissions, 97% timeouts). T1 is therefore max(500 ms, window/20 ms): 500 ms
 * at 10,000, 5 s at 100,000; `T1=ms` in the environment overrides it.
 */
import { spawn } from "node:child_process";
import type { RegisterRequest } from "../../src/sip/sip-client.js";
import { SipStack } from "../../src/sip/sip-stack.js";

const WINDOWS = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
if (WINDOWS.length === 0) WINDOWS.push(10_000, 100_000);

/** The responder: copies Via/From/To/Call-ID/CSeq into a 200, as cheaply as plain JS allows. */
const RESPONDER = `
const dgram = require("node:dgram");
const s = dgram.createSocket("udp4");
s.on("message", (m, r) => {
  const t = m.toString("latin1");
  let out = "SIP/2.0 200 OK\\r\\n";
  for (const line of t.split("\\r\\n")) {
    const c = line.charCodeAt(0);
    if (c === 86 || c === 70 || c === 84 || c === 67) {
      if (line.startsWith("Via:") || line.startsWith("From:") || line.startsWith("Call-ID:") || line.startsWith("CSeq:")) out += line + "\\r\\n";
      else if (line.startsWith("To:")) out += line + ";tag=b\\r\\n";
      else if (line.startsWith("Contact:")) out += line + "\\r\\n";
    }
  }
  s.send(out + "Content-Length: 0\\r\\n\\r\\n", r.port, r.address);
});
s.bind(0, "127.0.0.1", () => {
  try { s.setRecvBufferSize(16 << 20); s.setSendBufferSize(16 << 20); } catch {}
  process.stdout.write(String(s.address().port) + "\\n");
});
`;

async function startResponder(): Promise<{ port: number; stop: () => void }> {
  const child = spawn(process.execPath, ["-e", RESPONDER], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once("exit", (code) => reject(new Error(`responder exited ${code}`)));
  });
  return { port, stop: () => child.kill("SIGKILL") };
}

function request(port: number, i: number): RegisterRequest {
  return {
    requestUri: `sip:127.0.0.1:${port}`,
    to: `sip:u${i}@perf.test`,
    from: `sip:u${i}@perf.test`,
    fromTag: `t${i}`,
    callId: `bench-${i}`,
    cseq: 1,
    contact: { uri: `sip:u${i}@127.0.0.1:5080`, params: "", expiresSec: 3600 },
    userAgent: "registrantd-bench",
  };
}

function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
}

async function run(window: number): Promise<void> {
  const responder = await startResponder();
  const t1 = Number(process.env["T1"] ?? Math.max(500, window / 20));
  const stack = await SipStack.start({
    listen: ["udp:127.0.0.1:0"],
    udpBufferSize: 16 << 20,
    timers: { t1, t2: Math.max(4_000, t1), timerF: 64 * t1 },
  });
  const total = window * 3;
  let started = 0;
  let ok = 0;
  let other = 0;
  let peakInFlight = 0;
  let peakTimers = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    let done = 0;
    const next = (): void => {
      const i = started++;
      void stack.send(request(responder.port, i)).then((o) => {
        if (o.kind === "response" && o.response.status === 200) ok++;
        else other++;
        if (++done === total) resolve();
        else if (started < total) next();
      });
    };
    for (let i = 0; i < window && started < total; i++) next();
    const sampler = setInterval(() => {
      peakInFlight = Math.max(peakInFlight, stack.stats().inFlight);
      peakTimers = Math.max(peakTimers, activeTimers() - 1); // minus the sampler itself
      if (done === total) clearInterval(sampler);
    }, 50);
  });
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const st = stack.stats();
  await stack.close();
  responder.stop();
  const cpuS = (cpu.user + cpu.system) / 1e6;
  console.log(
    JSON.stringify({
      window,
      t1_ms: t1,
      transactions: total,
      ok,
      other,
      wall_s: +(wallMs / 1000).toFixed(2),
      tx_per_s: Math.round(total / (wallMs / 1000)),
      cpu_user_s: +(cpu.user / 1e6).toFixed(2),
      cpu_sys_s: +(cpu.system / 1e6).toFixed(2),
      cpu_us_per_tx: +((cpuS * 1e6) / total).toFixed(1),
      retransmissions: st.retransmissions,
      timeouts: st.timeouts,
      dropped: st.dropped,
      peak_in_flight: peakInFlight,
      peak_node_timers: peakTimers,
    }),
  );
}

for (const w of WINDOWS) await run(w);
