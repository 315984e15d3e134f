/**
 * SIP client transaction benchmark (not a test): REGISTER transactions over UDP loopback with 10,000 and
 * 100,000 in flight at once. Prints transactions/s, CPU (user+sys) per transaction, heap per open transaction,
 * retransmissions, and the number of active Node timers at the peak (the timer wheel keeps it at one).
 *
 *   node --import tsx test/bench/transactions.bench.ts [window ...]
 *
 * How: a responder in a child process (its CPU is not counted) holds its answers until `window` REGISTERs are
 * open, then answers them all. So exactly `window` transactions, with their Timer E and F, are open at the peak,
 * whatever the speed of this machine. T1 = T2 = 10 s: a 2-core box needs seconds to queue 100,000 REGISTERs, and
 * with the RFC's 500 ms every queued request would retransmit and the responder drown in its own backlog
 * (measured: 7M retransmissions, 64% timeouts). This measures what holding and completing transactions costs;
 * `T1=ms` in the environment overrides it.
 */
import { spawn } from "node:child_process";
import type { RegisterRequest } from "../../src/sip/sip-client.js";
import { SipStack } from "../../src/sip/sip-stack.js";

const WINDOWS = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
if (WINDOWS.length === 0) WINDOWS.push(10_000, 100_000);

/**
 * The responder: keeps each REGISTER's Via/From/To/Call-ID/CSeq as a ready 200; once `window` are held (or no
 * new one came for 2 s), answers them in chunks, yielding between chunks; later ones are answered at once.
 */
const RESPONDER = `
const dgram = require("node:dgram");
const window = Number(process.argv[1]);
const s = dgram.createSocket("udp4");
const held = [];
const seen = new Set();
let open = false;
let lastNew = Date.now();
function answer(m) {
  const t = m.toString("latin1");
  let out = "SIP/2.0 200 OK\\r\\n";
  let key = "";
  for (const line of t.split("\\r\\n")) {
    if (line.startsWith("Via:") || line.startsWith("From:") || line.startsWith("CSeq:") || line.startsWith("Contact:")) out += line + "\\r\\n";
    else if (line.startsWith("Call-ID:")) { out += line + "\\r\\n"; key = line; }
    else if (line.startsWith("To:")) out += line + ";tag=b\\r\\n";
  }
  return { key, bytes: Buffer.from(out + "Content-Length: 0\\r\\n\\r\\n", "latin1") };
}
function flush() {
  const chunk = held.splice(0, 256);
  for (const a of chunk) s.send(a.bytes, a.port, a.address);
  if (held.length > 0) setImmediate(flush);
}
s.on("message", (m, r) => {
  const a = answer(m);
  if (open) { s.send(a.bytes, r.port, r.address); return; }
  if (seen.has(a.key)) return;
  seen.add(a.key);
  lastNew = Date.now();
  held.push({ bytes: a.bytes, port: r.port, address: r.address });
  if (held.length >= window) { open = true; flush(); }
});
setInterval(() => { if (!open && held.length > 0 && Date.now() - lastNew > 2000) { open = true; flush(); } }, 200).unref();
s.bind(0, "127.0.0.1", () => {
  try { s.setRecvBufferSize(16 << 20); s.setSendBufferSize(16 << 20); } catch {}
  process.stdout.write(String(s.address().port) + "\\n");
});
`;

async function startResponder(window: number): Promise<{ port: number; stop: () => void }> {
  const child = spawn(process.execPath, ["-e", RESPONDER, String(window)], { stdio: ["ignore", "pipe", "inherit"] });
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
  const responder = await startResponder(window);
  const t1 = Number(process.env["T1"] ?? 10_000);
  const stack = await SipStack.start({
    listen: ["udp:127.0.0.1:0"],
    udpBufferSize: 16 << 20,
    timers: { t1, t2: Math.max(4_000, t1), timerF: 64 * t1 },
  });
  globalThis.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  let ok = 0;
  let other = 0;
  let peakInFlight = 0;
  let peakTimers = 0;
  let peakHeap = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sampler = setInterval(() => {
    peakInFlight = Math.max(peakInFlight, stack.stats().inFlight);
    peakTimers = Math.max(peakTimers, activeTimers() - 1); // minus the sampler itself
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed - heap0);
  }, 50);
  const all: Promise<void>[] = [];
  // queue the REGISTERs in slices so the loopback buffers keep up; they all stay open until the responder answers
  for (let i = 0; i < window; i++) {
    all.push(
      stack.send(request(responder.port, i)).then((o) => {
        if (o.kind === "response" && o.response.status === 200) ok++;
        else other++;
      }),
    );
    if (i % 250 === 249) await new Promise((r) => setImmediate(r));
  }
  const filledMs = performance.now() - t0;
  await Promise.all(all);
  clearInterval(sampler);
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
      ok,
      other,
      fill_s: +(filledMs / 1000).toFixed(2),
      wall_s: +(wallMs / 1000).toFixed(2),
      tx_per_s: Math.round(window / (wallMs / 1000)),
      cpu_user_s: +(cpu.user / 1e6).toFixed(2),
      cpu_sys_s: +(cpu.system / 1e6).toFixed(2),
      cpu_us_per_tx: +((cpuS * 1e6) / window).toFixed(1),
      peak_heap_bytes_per_open_tx: Math.round(peakHeap / window),
      retransmissions: st.retransmissions,
      timeouts: st.timeouts,
      dropped: st.dropped,
      peak_in_flight: peakInFlight,
      peak_node_timers: peakTimers,
    }),
  );
}

for (const w of WINDOWS) await run(w);
