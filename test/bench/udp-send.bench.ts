/**
 * UDP send micro-benchmark (not a test): what one `dgram` send of a 500-byte datagram costs this process, for
 * the ways the SIP layer can call it. A child process reads the datagrams (its CPU is not counted).
 *
 *   node --import tsx test/bench/udp-send.bench.ts [count]
 *
 * Variants: Node's default (`dns.lookup` + `nextTick` for an IP literal, a closure per send), a synchronous
 * lookup for IP literals, a shared callback instead of a closure, no callback. Sends go out in bursts of 256
 * per macrotask, as a storm hands them to the stack; each variant runs four times, interleaved, and prints the
 * best µs of CPU (user+sys) per send.
 *
 * What it showed (2026-12-04, 2 shared vCPUs): 4.6-5.1 µs per send whatever the variant; the synchronous
 * lookup saves ~0.1 µs, dropping the callback ~0.4 µs (and with it every report of a send failure, so the
 * stack keeps it). The 29-43% a storm's CPU profile gives the native `send` is wall time: the profiler
 * samples by the clock, and a send that wakes the registrar on a busy 2-core machine is often preempted
 * inside the call (the main thread spent about as long waiting on the run queue as running). The SIP
 * layer's own JavaScript, not the datagram path, is where CPU could be saved (sip-storm.bench.ts).
 */
import { fork } from "node:child_process";
import { createSocket } from "node:dgram";
import type { Socket } from "node:dgram";
import { once } from "node:events";
import { ipLiteralLookup } from "../../src/sip/transport/udp.js";

const COUNT = Number(process.argv[2] ?? 200_000);

const BURST = 256;

if (process.argv[2] === "--sink") {
  const s = createSocket("udp4");
  s.bind(0, "127.0.0.1", () => process.send?.(s.address().port));
  let n = 0;
  s.on("message", () => n++);
  process.on("message", () => process.send?.(n));
} else {
  await main();
}

async function main(): Promise<void> {
  const sink = fork(new URL(import.meta.url).pathname, ["--sink"], { execArgv: ["--import", "tsx"] });
  const [port] = (await once(sink, "message")) as [number];
  const payload = Buffer.alloc(500, 0x41);
  const shared = (err: Error | null): void => {
    if (err) throw err;
  };
  type Send = (s: Socket) => void;
  const variants: [string, boolean, Send][] = [
    ["default lookup, closure per send", false, (s) => s.send(payload, port, "127.0.0.1", (e) => shared(e))],
    ["sync lookup, closure per send", true, (s) => s.send(payload, port, "127.0.0.1", (e) => shared(e))],
    ["sync lookup, shared callback", true, (s) => s.send(payload, port, "127.0.0.1", shared)],
    ["sync lookup, no callback", true, (s) => s.send(payload, port, "127.0.0.1")],
    ["default lookup, no callback", false, (s) => s.send(payload, port, "127.0.0.1")],
  ];
  const results = new Map<string, number[]>();
  for (let round = 0; round < 4; round++) {
    for (const [name, sync, send] of variants) {
      const s = createSocket(sync ? { type: "udp4", lookup: ipLiteralLookup } : { type: "udp4" });
      await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", resolve));
      s.setSendBufferSize(4 * 1024 * 1024);
      const before = process.cpuUsage();
      let sent = 0;
      await new Promise<void>((resolve) => {
        const burst = (): void => {
          for (let i = 0; i < BURST && sent < COUNT; i++, sent++) send(s);
          if (sent < COUNT) setImmediate(burst);
          else setImmediate(resolve);
        };
        burst();
      });
      const used = process.cpuUsage(before);
      s.close();
      const us = (used.user + used.system) / COUNT;
      results.set(name, [...(results.get(name) ?? []), us]);
    }
  }
  for (const [name, runs] of results) {
    console.log(`${name.padEnd(36)} ${Math.min(...runs).toFixed(2)} µs CPU per send (best of ${runs.length})`);
  }
  sink.kill();
}
