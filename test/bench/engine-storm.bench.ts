/**
 * The daemon's engine in a registration storm with a fake SIP client (not a test): `startDaemon()` with every
 * layer the bin wires (send pacer and its observers, Status/Report, metrics, state log, events, statistics), a
 * memory store of N records, and a SIP client that answers every REGISTER at once: 401 to one without
 * credentials, 200 echoing the binding to one with. No sockets, no SIP parsing or serialising: what is left is
 * the engine's own work per challenged registration (plus the digest answer and the Contact reading it asks of
 * the SIP layer).
 *
 *   node --import tsx test/bench/engine-storm.bench.ts [n] [rounds]
 *
 * Round 1 registers the whole table (first REGISTERs: new dialogs); every later round moves the clock one expiry
 * on and refreshes it (same dialogs). Prints CPU µs per registration per round. For instruction counts, run it
 * compiled (REGISTRANTD_BENCH_DAEMON=file:///…/src/daemon.js, built with tsconfig.build.json as
 * test/bench/run.ts does) under `valgrind --tool=callgrind node --single-threaded --predictable …` twice with
 * different round counts and divide the difference by the extra registrations: the start-up cancels out. Totals
 * of one build still vary, 20,000 first registrations by up to 0.35 G of ~6.8 G (the GC's schedule moves; with
 * heap_headroom_mb 0 as well): run each build several times, side by side, and compare the medians.
 * HEAP_PROFILE=file.json records V8's sampling heap profile (collected objects included) over rounds
 * HEAP_PROFILE_FROM (default 2) to the last, to be read with a per-function summary (bytes per registration =
 * total / (rounds profiled · n)); from round 1 it sees the first registrations (new dialogs).
 */
import { writeFileSync } from "node:fs";
import { ManualClock } from "../../src/clock.js";
import type { Config } from "../../src/config/config.js";
import { DEFAULT_CONFIG } from "../../src/config/defaults.js";
import type * as DaemonModule from "../../src/daemon.js";
import { silentLogger } from "../../src/log.js";
import type { RegistrantRow } from "../../src/registrant/record-spec.js";
import { RegState } from "../../src/registrant/state.js";
import type { SipResponse } from "../../src/sip/message.js";
import type { Destination, RegisterRequest, SendOutcome, SipClient } from "../../src/sip/sip-client.js";
import { MemoryStore } from "../support/memory-store.js";
import { sampleAllocations } from "./alloc-summary.js";

const N = Number(process.argv[2] ?? 20_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const EXPIRY_SEC = 3600;
const heapProfilePath = process.env["HEAP_PROFILE"];
const heapProfileFrom = Number(process.env["HEAP_PROFILE_FROM"] ?? 2);
const daemonUrl = process.env["REGISTRANTD_BENCH_DAEMON"] ?? new URL("../../src/daemon.js", import.meta.url).href;
const { startDaemon } = (await import(daemonUrl)) as typeof DaemonModule;

const REGISTRAR = "sip:192.0.2.7:5060";
const destination: Destination = { transport: "udp", address: "192.0.2.7", port: 5060, socket: "udp:127.0.0.1:5080" };
const empty = Buffer.alloc(0);
const challenge: SendOutcome = {
  kind: "response",
  destination,
  response: {
    kind: "response",
    status: 401,
    reason: "Unauthorized",
    headers: [{ name: "www-authenticate", value: 'Digest realm="perf.test", nonce="6a1f0e2b9c3d", algorithm=MD5' }],
    body: empty,
  },
};

function ok(contact: string): SendOutcome {
  const response: SipResponse = {
    kind: "response",
    status: 200,
    reason: "OK",
    headers: [{ name: "contact", value: `<${contact}>;expires=${EXPIRY_SEC}` }],
    body: empty,
  };
  return { kind: "response", destination, response };
}

function row(i: number): RegistrantRow {
  return {
    id: String(i + 1),
    registrar: REGISTRAR,
    proxy: null,
    aor: `sip:u${i}@perf.test`,
    third_party_registrant: null,
    username: `u${i}`,
    password: "secret",
    binding_URI: `sip:u${i}@127.0.0.1:5080`,
    binding_params: null,
    expiry: EXPIRY_SEC,
    forced_socket: null,
    cluster_shtag: null,
    state: 0,
  };
}

// TI 1000 s over 2 buckets: the daemon's own timer (every 500 s) never fires during a run; the bench ticks
const config: Config = {
  ...DEFAULT_CONFIG,
  hash_size: 1,
  timer_interval: 1000,
  spread_tick: 0,
  listen: ["udp:127.0.0.1:0"],
  user_agent: "registrantd-bench",
  mi_http: { ...DEFAULT_CONFIG.mi_http, enabled: false },
  events: { ...DEFAULT_CONFIG.events, websocket: { ...DEFAULT_CONFIG.events.websocket, enabled: false } },
};
const clock = new ManualClock(1_795_000_000_000, 0);
const rows = Array.from({ length: N }, (_, i) => row(i));
const store = new MemoryStore(rows);
/** each binding's 200, made beforehand: the SIP stack's parsing is not what this bench measures */
const oks = new Map(rows.map((r) => [r.binding_URI!, ok(r.binding_URI!)]));
const registrar: SipClient = {
  send(request: RegisterRequest): Promise<SendOutcome> {
    if (request.authorization === undefined || request.contact === "*") return Promise.resolve(challenge);
    return Promise.resolve(oks.get(request.contact.uri)!);
  },
};
const daemon = await startDaemon(config, silentLogger, { clock, store, sip: registrar });

let registered = 0;
let failed = 0;
let roundDone: (() => void) | undefined;
daemon.service.onStateChange((c) => {
  if (c.to === RegState.REGISTERED_STATE) registered++;
  else if (c.to >= RegState.REGISTER_TIMEOUT_STATE && c.to <= RegState.REGISTRAR_ERROR_STATE) failed++;
  else return;
  if (registered + failed === N) roundDone?.();
});

async function storm(): Promise<void> {
  registered = 0;
  failed = 0;
  const done = new Promise<void>((resolve) => (roundDone = resolve));
  clock.advance(EXPIRY_SEC * 1000);
  for (let b = 0; b < 2 ** config.hash_size; b++) daemon.service.tick();
  await done;
  if (failed !== 0) throw new Error(`${failed} registrations failed`);
}

let sampler: Awaited<ReturnType<typeof sampleAllocations>> | undefined;
for (let round = 1; round <= ROUNDS; round++) {
  if (round === heapProfileFrom && heapProfilePath !== undefined) sampler = await sampleAllocations(512);
  const c0 = process.cpuUsage();
  await storm();
  const cpu = process.cpuUsage(c0);
  console.log(`round ${round}: ${N} registrations, ${((cpu.user + cpu.system) / N).toFixed(2)} CPU µs each`);
}
if (sampler !== undefined && heapProfilePath !== undefined) {
  writeFileSync(heapProfilePath, JSON.stringify(await sampler.stop()));
}
await daemon.stop();
