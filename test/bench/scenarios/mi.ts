/**
 * Scenario 4, MI over mi_http: `uac_registrant:list` of the whole table (N records), and `list` of one record
 * sent every 100 ms on a new connection (as opensips-cli does) while a storm runs.
 */
import { request } from "node:http";
import type { Rig } from "./rig.js";

export interface MiCallResult {
  readonly ms: number;
  readonly bytes: number;
}

export function miCall(port: number, method: string, params?: unknown): Promise<MiCallResult> {
  const body = Buffer.from(JSON.stringify({ jsonrpc: "2.0", method, id: 1, ...(params !== undefined && { params }) }));
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/mi",
        method: "POST",
        agent: false,
        headers: { "Content-Type": "application/json", "Content-Length": body.length },
      },
      (res) => {
        let bytes = 0;
        res.on("data", (c: Buffer) => (bytes += c.length));
        res.on("end", () =>
          res.statusCode === 200
            ? resolve({ ms: performance.now() - t0, bytes })
            : reject(new Error(`MI ${method}: HTTP ${res.statusCode}`)),
        );
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error(`MI ${method}: no answer in 60 s`)));
    req.on("error", reject);
    req.end(body);
  });
}

export interface LatencyFigures {
  readonly count: number;
  readonly errors: number;
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
  readonly maxMs: number | undefined;
}

function latencies(samples: number[], errors: number): LatencyFigures {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => (s.length === 0 ? undefined : s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))]);
  return { count: s.length, errors, p50Ms: at(50), p99Ms: at(99), maxMs: s.at(-1) };
}

/** Starts `list` of one record every `everyMs`; stop() ends it and returns the latencies. */
export function listOneDuring(rig: Rig, everyMs = 100): { stop: () => Promise<LatencyFigures> } {
  const port = rig.probe.ready.miPort!;
  const samples: number[] = [];
  let errors = 0;
  let stopped = false;
  const loop = (async () => {
    for (let i = 0; !stopped; i++) {
      const started = performance.now();
      try {
        samples.push((await miCall(port, "uac_registrant:list", rig.coords((i * 7919) % rig.n))).ms);
      } catch {
        errors++;
      }
      const wait = everyMs - (performance.now() - started);
      if (wait > 0 && !stopped) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return latencies(samples, errors);
    },
  };
}

export interface ListAllFigures extends LatencyFigures {
  readonly n: number;
  readonly bytes: number;
}

/** `uac_registrant:list` of everything, `runs` times in a row. */
export async function listAll(rig: Rig, runs = 3): Promise<ListAllFigures> {
  const port = rig.probe.ready.miPort!;
  const samples: number[] = [];
  let bytes = 0;
  for (let i = 0; i < runs; i++) {
    const r = await miCall(port, "uac_registrant:list");
    samples.push(r.ms);
    bytes = r.bytes;
  }
  return { n: rig.n, bytes, ...latencies(samples, 0) };
}
