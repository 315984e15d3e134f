/**
 * State-change listeners benchmark (not a test): the CPU each layer around the engine spends per state change and
 * per SIP datagram, as the daemon wires them (src/daemon.ts), with N records (default 100,000) changing state in a
 * shuffled order: Status/Report, metrics, the state log (silent, and at info into a discarding stream), events with
 * nobody subscribed, and the SIP trace's wire feed while nothing is traced.
 *
 *   node --import tsx test/bench/listeners.bench.ts [records]
 */
import { Writable } from "node:stream";
import { pino } from "pino";
import { ManualClock } from "../../src/clock.js";
import { startEvents } from "../../src/events/events-service.js";
import { LOG_REDACTION, silentLogger } from "../../src/log.js";
import { createMetrics } from "../../src/metrics/metrics.js";
import type { StateChange, StateChangeListener } from "../../src/registrant/state-change.js";
import { RegState } from "../../src/registrant/state.js";
import type { RegStateValue } from "../../src/registrant/state.js";
import { createStateLog } from "../../src/state-log.js";
import { StatusReport } from "../../src/status/status-report.js";
import { createSipTrace } from "../../src/trace/sip-trace.js";
import { wireTrace } from "../../src/trace/wire-trace.js";

const RECORDS = Number(process.argv[2] ?? 100_000);
const clock = new ManualClock(1_795_000_000_000);
const records = Array.from({ length: RECORDS }, (_, i) => ({
  aor: `sip:user${i}@example.com`,
  contact: `sip:user${i}@192.0.2.${i % 250}:5060`,
  registrar: `sip:registrar${i % 50}.example.com`,
}));
const order = Array.from({ length: RECORDS }, (_, i) => i);
for (let i = RECORDS - 1, seed = 1; i > 0; i--) {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  const j = seed % (i + 1);
  [order[i], order[j]] = [order[j]!, order[i]!];
}

const { REGISTERING_STATE: R, AUTHENTICATING_STATE: A, REGISTERED_STATE: OK } = RegState;
const STORM: readonly RegStateValue[] = [R, A, OK];
const CAUSE = { status: 200, reason: "OK", expiresSec: 60, destination: "udp:192.0.2.1:5060" };

/** CPU ns per change of one storm pass over every record (the change object made as the engine makes it) */
function perChange(listener: StateChangeListener): number {
  let from: RegStateValue = RegState.NOT_REGISTERED_STATE;
  const c0 = process.cpuUsage();
  for (const to of STORM) {
    for (const i of order) {
      const c = records[i]!;
      const change: StateChange = {
        coords: { aor: c.aor, contact: c.contact, registrar: c.registrar },
        recordId: i + 1,
        from,
        to,
        atMs: clock.nowMs(),
        ...(to === OK && { cause: CAUSE }),
      };
      listener(change);
    }
    from = to;
    clock.advance(1000);
  }
  const used = process.cpuUsage(c0);
  return Math.round(((used.user + used.system) * 1000) / (RECORDS * STORM.length));
}

const sr = new StatusReport(clock);
records.forEach((coords, i) => sr.onTableChange({ kind: "added", coords, recordId: i + 1 }));
const metrics = createMetrics({ clock, records: () => [], processMetrics: false });
const events = await startEvents(
  { subscribe: [], outbox_size: 10, extended_params: false, websocket: { enabled: false, ip: "", port: 0, path: "" } },
  { log: silentLogger, snapshot: () => [] },
);
const discard = new Writable({ write: (_chunk, _enc, cb) => cb() });
const infoLog = pino({ level: "info", redact: LOG_REDACTION, base: { name: "registrantd" } }, discard);

const listeners: Record<string, StateChangeListener> = {
  // the loop itself (a change object per change, as the engine makes it): subtract it from the others
  "baseline (no-op listener)": () => {},
  "status-report": (c) => sr.onStateChange(c),
  metrics: metrics.onStateChange,
  "state-log (silent)": createStateLog(silentLogger),
  "state-log (info)": createStateLog(infoLog),
  "events (no subscriber)": (c) => events.onStateChange(c),
};
const out: Record<string, number> = {};
for (const round of [1, 2]) {
  for (const [name, listener] of Object.entries(listeners)) {
    const ns = perChange(listener);
    if (round === 2) out[`${name} ns/change`] = ns;
  }
}

// the wire feed sees every datagram; nothing traced
const onWire = wireTrace(createSipTrace({ clock }));
const bytes = Buffer.from("REGISTER sip:example.com SIP/2.0\r\nCall-ID: abc@x\r\n\r\n");
const peer = { address: "192.0.2.1", port: 5060 };
const c0 = process.cpuUsage();
for (let i = 0; i < RECORDS * 3; i++) onWire({ direction: "out", socket: "udp:192.0.2.9:5060", peer, bytes });
const used = process.cpuUsage(c0);
out["wire trace, nothing traced ns/datagram"] = Math.round(((used.user + used.system) * 1000) / (RECORDS * 3));

await events.close(100);
console.log(JSON.stringify({ records: RECORDS, ...out }));
