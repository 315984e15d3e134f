/**
 * MI benchmark (not a test): `uac_registrant:list` latency with 100,000 records and requests per second for `list`
 * of one record, over mi_http on loopback, against the real RegistrantService (fake SIP, memory store).
 *
 *   node --import tsx test/bench/mi.bench.ts [records] [seconds]
 */
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";
import { silentLogger } from "../../src/log.js";
import { startMiHttp } from "../../src/mi/http-server.js";
import { EngineHarness, row } from "../support/engine-harness.js";
import { buildMi } from "../support/golden-mi.js";

const RECORDS = Number(process.argv[2] ?? 100_000);
const SECONDS = Number(process.argv[3] ?? 5);
const LIST_RUNS = 20;

function post(port: number, body: string, agent: Agent | false): Promise<number> {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(body);
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/mi",
        method: "POST",
        agent,
        headers: { "Content-Type": "application/json", "Content-Length": data.length },
      },
      (res) => {
        let size = 0;
        res.on("data", (c: Buffer) => (size += c.length));
        res.on("end", () => (res.statusCode === 200 ? resolve(size) : reject(new Error(`HTTP ${res.statusCode}`))));
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

const pct = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;

const t0 = performance.now();
const harness = await EngineHarness.started({
  rows: Array.from({ length: RECORDS }, (_, i) =>
    row({
      id: String(i),
      aor: `sip:user${i}@example.com`,
      registrar: `sip:registrar${i % 50}.example.com`,
      binding_URI: `sip:user${i}@192.0.2.10:5060`,
      ...(i % 10 === 0 && { proxy: "sip:proxy.example.com;lr", binding_params: ";transport=udp" }),
    }),
  ),
});
const { dispatcher } = buildMi(harness.service);
const http = await startMiHttp({ enabled: true, ip: "127.0.0.1", port: 0, root: "mi" }, dispatcher, silentLogger);
const port = http.address().port;
console.log(`setup: ${RECORDS} records loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

// list of everything: end-to-end over HTTP, and the dispatcher alone (build + print the reply)
const listAll = '{"jsonrpc":"2.0","method":"uac_registrant:list","id":1}';
const e2e: number[] = [];
let bytes = 0;
for (let i = 0; i < LIST_RUNS; i++) {
  const s = performance.now();
  bytes = await post(port, listAll, false);
  e2e.push(performance.now() - s);
}
const inProc: number[] = [];
for (let i = 0; i < LIST_RUNS; i++) {
  const s = performance.now();
  await dispatcher.handle(listAll, "bench");
  inProc.push(performance.now() - s);
}
e2e.sort((a, b) => a - b);
inProc.sort((a, b) => a - b);
console.log(
  `list all (${RECORDS} records, ${(bytes / 1e6).toFixed(1)} MB): HTTP p50 ${pct(e2e, 50).toFixed(0)} ms p99 ${pct(e2e, 99).toFixed(0)} ms;` +
    ` dispatcher p50 ${pct(inProc, 50).toFixed(0)} ms p99 ${pct(inProc, 99).toFixed(0)} ms`,
);

// list of one record: requests per second with N clients in flight
async function throughput(label: string, agent: Agent | false, inFlight: number): Promise<void> {
  const body = JSON.stringify({
    jsonrpc: "2.0",
    method: "uac_registrant:list",
    id: "1",
    params: ["sip:user4242@example.com", "sip:user4242@192.0.2.10:5060", "sip:registrar42.example.com"],
  });
  const lat: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const s = performance.now();
      await post(port, body, agent);
      lat.push(performance.now() - s);
    }
  };
  const s = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const secs = (performance.now() - s) / 1000;
  lat.sort((a, b) => a - b);
  console.log(
    `list one, ${label}, ${inFlight} in flight: ${(lat.length / secs).toFixed(0)} req/s, p50 ${pct(lat, 50).toFixed(2)} ms p99 ${pct(lat, 99).toFixed(2)} ms`,
  );
}
const keepAlive = new Agent({ keepAlive: true, maxSockets: 64 });
await throughput("keep-alive", keepAlive, 16);
await throughput("new connection per request (as opensips-cli)", false, 16);
keepAlive.destroy();

await http.close();
await harness.service.stop({ unregister: false });
