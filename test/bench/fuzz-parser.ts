/**
 * Seeded fuzzer for the SIP wire layer: mutates the golden OpenSIPS/Kamailio/sipp messages and feeds them to
 * parseMessage, StreamFramer and every reader that takes network input (Via, CSeq, Contact, name-addr, URI,
 * digest challenges, delta-seconds). Any exception is a failure; a watchdog reports a hang; memory is sampled.
 *
 *   node --expose-gc --import tsx test/bench/fuzz-parser.ts --seed 1 --count 1000000
 *
 * The same seed always produces the same messages, so a failure is reproduced with its seed and index.
 * test/unit/sip/fuzz.test.ts runs a short slice of it in the suite.
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { getHeapStatistics } from "node:v8";
import { fileURLToPath } from "node:url";
import { DigestError, SipParseError } from "../../src/errors.js";
import { answerChallenge, NonceCounter } from "../../src/sip/digest.js";
import {
  contactExpiresParam,
  parseCSeq,
  parseContacts,
  parseDeltaSecondsHeader,
  parseRetryAfter,
  parseVia,
} from "../../src/sip/headers.js";
import { headerValues } from "../../src/sip/message.js";
import { parseNameAddr } from "../../src/sip/name-addr.js";
import { parseMessage } from "../../src/sip/parse.js";
import { StreamFramer } from "../../src/sip/stream-framer.js";
import { formatUri, parseUri, urisEqual } from "../../src/sip/uri.js";
import { prng } from "../support/prng.js";
import { allGoldenFrames } from "../unit/sip/golden-frames.js";

const EXTRA = [
  'SIP/2.0 200 OK\r\nv: SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bKx;received=::1;rport=1\r\nf: "A \\"q\\"" <sip:a@h>;tag=1\r\n' +
    't: <sip:a@h>;tag=2\r\ni: c@h\r\ncSeq: 7 REGISTER\r\nm: <sip:a@[::1]:5060;transport=tcp>;expires=60;+sip.instance="<urn:uuid:1>", sip:b@h;expires=5\r\n' +
    "Expires: 60\r\nl: 5\r\n\r\nhello",
  "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:a@h>\r\n" +
    'Call-ID: x\r\nCSeq: 1 REGISTER\r\nWWW-Authenticate: Digest realm="r",\r\n nonce="n", qop="auth,auth-int", algorithm=SHA-256-sess, opaque="o", stale=true\r\n' +
    'WWW-Authenticate: Basic realm="b", Digest realm="r2", nonce="n2", algorithm=SHA-512-256\r\nContent-Length: 0\r\n\r\n',
  "SIP/2.0 407 Proxy Authentication Required\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:a@h>\r\n" +
    'Call-ID: x\r\nCSeq: 1 REGISTER\r\nProxy-Authenticate: Digest realm="p", nonce="n", algorithm=MD5-sess\r\nContent-Length: 0\r\n\r\n',
  "SIP/2.0 423 Interval Too Brief\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:a@h>\r\n" +
    "Call-ID: x\r\nCSeq: 1 REGISTER\r\nMin-Expires: 120\r\nRetry-After: 30 (busy) ;duration=10\r\nContent-Length: 0\r\n\r\n",
  "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:a@h>\r\n" +
    "Call-ID: x\r\nCSeq: 1 REGISTER\r\nContact: *\r\nContent-Length: 0\r\n\r\n",
];

/** Bytes that tend to matter to a SIP parser. */
const INTERESTING = Buffer.from('\r\n:;,"<>\\ \t%[]=@?&/0123456789*()', "latin1");

export function corpus(): Buffer[] {
  return [...allGoldenFrames().map((f) => f.bytes), ...EXTRA.map((t) => Buffer.from(t, "latin1"))];
}

export function mutate(src: Buffer, rnd: () => number, pool: readonly Buffer[]): Buffer {
  let b = Buffer.from(src);
  const int = (n: number) => Math.floor(rnd() * n);
  const rounds = 1 + int(6);
  for (let r = 0; r < rounds; r++) {
    const op = int(13);
    const at = b.length === 0 ? 0 : int(b.length);
    switch (op) {
      case 0: // flip a bit
        if (b.length > 0) b[at] = b[at]! ^ (1 << int(8));
        break;
      case 1: // replace a byte with an interesting one
        if (b.length > 0) b[at] = INTERESTING[int(INTERESTING.length)]!;
        break;
      case 2: // random byte
        if (b.length > 0) b[at] = int(256);
        break;
      case 3: // insert interesting bytes
        b = Buffer.concat([b.subarray(0, at), Buffer.from([INTERESTING[int(INTERESTING.length)]!]), b.subarray(at)]);
        break;
      case 4: {
        // delete a range
        const len = int(Math.min(64, b.length - at) + 1);
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + len)]);
        break;
      }
      case 5: {
        // duplicate a range (repeated headers, long lines)
        const len = int(Math.min(200, b.length - at) + 1);
        const times = 1 + int(rnd() < 0.05 ? 400 : 4);
        const piece = b.subarray(at, at + len);
        b = Buffer.concat([b.subarray(0, at + len), ...Array<Buffer>(times).fill(piece), b.subarray(at + len)]);
        break;
      }
      case 6: // truncate
        b = b.subarray(0, at);
        break;
      case 7: {
        // splice in part of another message
        const other = pool[int(pool.length)]!;
        const from = int(other.length);
        b = Buffer.concat([b.subarray(0, at), other.subarray(from, from + int(300)), b.subarray(at)]);
        break;
      }
      case 8: {
        // rewrite Content-Length
        const text = b.toString("latin1");
        const values = ["0", "1", "5", "99999999", "-1", "", "abc", " 3 ", String(int(2000))];
        b = Buffer.from(
          text.replace(/Content-Length: *[^\r\n]*/i, `Content-Length: ${values[int(values.length)]}`),
          "latin1",
        );
        break;
      }
      case 9: // fold a line: CRLF -> CRLF + SP
        {
          const lf = b.indexOf(0x0a, at);
          if (lf >= 0)
            b = Buffer.concat([b.subarray(0, lf + 1), Buffer.from(rnd() < 0.5 ? " " : "\t"), b.subarray(lf + 1)]);
        }
        break;
      case 10: // CRLF -> LF, or LF -> CRLF CRLF (early end of headers)
        {
          const lf = b.indexOf(0x0a, at);
          if (lf > 0 && b[lf - 1] === 0x0d) b = Buffer.concat([b.subarray(0, lf - 1), b.subarray(lf)]);
          else if (lf >= 0) b = Buffer.concat([b.subarray(0, lf + 1), Buffer.from("\r\n"), b.subarray(lf + 1)]);
        }
        break;
      case 11: // long run of one byte
        b = Buffer.concat([
          b.subarray(0, at),
          Buffer.alloc(1 + int(rnd() < 0.1 ? 70_000 : 300), INTERESTING[int(INTERESTING.length)]),
          b.subarray(at),
        ]);
        break;
      default:
        {
          // compact / odd-cased header names
          const text = b.toString("latin1");
          const swaps: Array<[RegExp, string]> = [
            [/^Via:/m, "v:"],
            [/^Contact:/m, "M :"],
            [/^Call-ID:/m, "i:"],
            [/^WWW-Authenticate:/m, "www-AUTHENTICATE:"],
            [/^CSeq:/m, "CSEQ\t:"],
            [/^Content-Length:/m, "l:"],
          ];
          const [re, to] = swaps[int(swaps.length)]!;
          b = Buffer.from(text.replace(re, to), "latin1");
        }
        break;
    }
    if (b.length > 200_000) b = b.subarray(0, 200_000);
  }
  return b;
}

const CREDS = { username: "u", password: "p" };
const REQ = { method: "REGISTER", uri: "sip:r.example" };
const DIGEST_OPTS = { cnonce: () => "c", nonceCounts: new NonceCounter(64) };

/** Runs every network-input reader over one message; returns how many parsed. */
function exercise(buf: Buffer): boolean {
  const r = parseMessage(buf);
  if (!r.ok) {
    if (!(r.error instanceof SipParseError)) throw new Error("parseMessage failed without a SipParseError");
    return false;
  }
  const m = r.message;
  for (const v of headerValues(m, "via")) parseVia(v);
  for (const v of headerValues(m, "cseq")) parseCSeq(v);
  for (const v of [...headerValues(m, "to"), ...headerValues(m, "from")]) {
    const na = parseNameAddr(v);
    if (na !== undefined) parseUri(na.uri);
  }
  const contacts = parseContacts(headerValues(m, "contact"));
  if (contacts.ok) {
    for (const c of contacts.contacts) {
      const u = parseUri(c.uri);
      if (u.ok) {
        // byte-exact for a lower-case scheme and a port without leading zeros; idempotent always
        const again = formatUri(u.uri);
        const canonical = (c.uri.startsWith("sip:") || c.uri.startsWith("sips:")) && !/:0\d/.test(c.uri);
        if (canonical && again !== c.uri) throw new Error(`URI round trip changed ${c.uri} into ${again}`);
        const u2 = parseUri(again);
        if (!u2.ok || formatUri(u2.uri) !== again) throw new Error(`URI not idempotent: ${again}`);
      }
      urisEqual(c.uri, "sip:alice@127.0.0.1:5080");
      contactExpiresParam(c.params.get("expires") ?? null);
    }
  }
  for (const v of [...headerValues(m, "expires"), ...headerValues(m, "min-expires")]) parseDeltaSecondsHeader(v);
  for (const v of headerValues(m, "retry-after")) parseRetryAfter(v);
  if (m.kind === "request") parseUri(m.uri);
  else if (m.status === 401 || m.status === 407) {
    const a = answerChallenge(m, CREDS, REQ, DIGEST_OPTS);
    if (!a.ok && !(a.error instanceof DigestError)) throw new Error("answerChallenge failed without a DigestError");
  }
  return true;
}

export interface FuzzReport {
  seed: number;
  count: number;
  parsedOk: number;
  framed: number;
  failures: Array<{ index: number; error: string; input: string }>;
  maxMsPerMessage: number;
  elapsedMs: number;
  heapUsedMaxMb: number;
  heapUsedEndMb: number;
  /** live heap after a full GC at each 100,000 messages (only with node --expose-gc): flat = no leak */
  heapAfterGcMb: number[];
}

/**
 * Mutates and parses `count` messages. Every 64th message also goes, with its neighbours, through a
 * StreamFramer in random chunks. `onProgress` is called every 10,000 messages.
 */
export function fuzz(seed: number, count: number, onProgress?: (done: number) => void): FuzzReport {
  const rnd = prng(seed);
  const pool = corpus();
  const failures: FuzzReport["failures"] = [];
  let parsedOk = 0;
  let framed = 0;
  let maxMs = 0;
  let heapMax = 0;
  const heapAfterGc: number[] = [];
  const gc = (globalThis as { gc?: () => void }).gc;
  const started = performance.now();
  let framer = new StreamFramer();
  for (let i = 0; i < count; i++) {
    const input = mutate(pool[Math.floor(rnd() * pool.length)]!, rnd, pool);
    const t0 = performance.now();
    try {
      if (exercise(input)) parsedOk++;
      if (i % 64 === 0) {
        if (framer.broken || rnd() < 0.1) framer = new StreamFramer();
        let off = 0;
        while (off < input.length) {
          const len = 1 + Math.floor(rnd() * 700);
          for (const f of framer.push(input.subarray(off, off + len))) if (f.ok) framed++;
          off += len;
        }
      }
    } catch (e) {
      if (failures.length < 20) {
        failures.push({
          index: i,
          error: e instanceof Error ? (e.stack ?? e.message) : String(e),
          input: input.toString("base64"),
        });
      }
    }
    const dt = performance.now() - t0;
    if (dt > maxMs) maxMs = dt;
    if ((i + 1) % 10_000 === 0) {
      const heap = getHeapStatistics().used_heap_size;
      if (heap > heapMax) heapMax = heap;
      if ((i + 1) % 100_000 === 0 && gc !== undefined) {
        gc();
        heapAfterGc.push(mb(getHeapStatistics().used_heap_size));
      }
      onProgress?.(i + 1);
    }
  }
  return {
    seed,
    count,
    parsedOk,
    framed,
    failures,
    maxMsPerMessage: Math.round(maxMs * 100) / 100,
    elapsedMs: Math.round(performance.now() - started),
    heapUsedMaxMb: mb(heapMax),
    heapUsedEndMb: mb(getHeapStatistics().used_heap_size),
    heapAfterGcMb: heapAfterGc,
  };
}

function mb(bytes: number): number {
  return Math.round(bytes / 1e5) / 10;
}

/** Unmutated golden frames per second through parseMessage alone (a figure, not a check). */
export function parseThroughput(rounds = 2000): { messagesPerSec: number; bytesPerMessage: number } {
  const frames = corpus().slice(0, -EXTRA.length);
  let n = 0;
  let bytes = 0;
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (const f of frames) {
      if (parseMessage(f).ok) n++;
      bytes += f.length;
    }
  }
  const secs = (performance.now() - t0) / 1000;
  return { messagesPerSec: Math.round(n / secs), bytesPerMessage: Math.round(bytes / (rounds * frames.length)) };
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`--${name} must be a non-negative integer`);
  return v;
}

/** A message that takes longer than this to go through every reader counts as a hang. */
const WATCHDOG_MS = 60_000;

async function main(): Promise<number> {
  const seed = arg("seed", 1);
  const count = arg("count", 1_000_000);
  const throughput = parseThroughput();
  console.log(
    `parseMessage on unmutated golden frames: ${throughput.messagesPerSec} msg/s (${throughput.bytesPerMessage} B avg)`,
  );
  console.log(`fuzzing seed=${seed} count=${count}`);
  // The fuzz loop runs in a worker so this thread can watch it; tsx's loader is registered there by hand
  // (Node 20 does not carry --import hooks into workers).
  const bootstrap = `import("tsx/esm/api").then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); });`;
  const worker = new Worker(bootstrap, { eval: true, workerData: { seed, count } });
  let last = Date.now();
  let done = 0;
  let rssMax = 0;
  const watchdog = setInterval(() => {
    rssMax = Math.max(rssMax, process.memoryUsage().rss);
    if (Date.now() - last > WATCHDOG_MS) {
      console.error(`HANG: no progress for ${WATCHDOG_MS} ms after message ${done} (seed ${seed})`);
      void worker.terminate();
    }
  }, 1000);
  return await new Promise<number>((resolve) => {
    worker.on("message", (msg: { progress?: number; report?: FuzzReport }) => {
      last = Date.now();
      if (msg.progress !== undefined) {
        done = msg.progress;
        if (done % 100_000 === 0)
          console.log(`  ${done} messages, rss ${Math.round(process.memoryUsage().rss / 1e6)} MB`);
      }
      if (msg.report !== undefined) {
        const r = msg.report;
        console.log(JSON.stringify({ ...r, failures: r.failures.length, rssMaxMb: Math.round(rssMax / 1e6) }, null, 2));
        for (const f of r.failures) console.error(`FAIL at index ${f.index}: ${f.error}\n  input (base64): ${f.input}`);
        clearInterval(watchdog);
        resolve(r.failures.length === 0 ? 0 : 1);
      }
    });
    worker.on("error", (e) => {
      console.error(e);
      clearInterval(watchdog);
      resolve(1);
    });
    worker.on("exit", (code) => {
      clearInterval(watchdog);
      resolve(code === 0 ? 0 : 1);
    });
  });
}

if (!isMainThread && parentPort !== null) {
  const { seed, count } = workerData as { seed: number; count: number };
  const port = parentPort;
  const report = fuzz(seed, count, (n) => port.postMessage({ progress: n }));
  port.postMessage({ report });
} else if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main();
}
