/**
 * Building and sending REGISTERs (not a test): what `buildRegister`, `serializeRegister` and `UdpTransport.send`
 * cost per REGISTER as a storm runs them: two per registration, the first without credentials, the second with
 * the digest answer to the bench registrar's 401, on records with their own AOR, binding, Call-ID and From-tag,
 * a fresh branch each, in bursts of 256 per macrotask, to a sink socket in a child process (its work not
 * counted). Run it compiled (tsx wraps every named closure in a call of its own):
 *
 *   npx tsc -p tsconfig.json --noEmit false --outDir /tmp/NAME-dist
 *   node /tmp/NAME-dist/test/bench/register-send.bench.js heap [registrations]
 *       bytes allocated per REGISTER (V8's sampling heap profiler, collected objects included), by function
 *   valgrind --tool=callgrind node --single-threaded /tmp/NAME-dist/test/bench/register-send.bench.js run N
 *       instructions: run it with two N and divide the difference of the totals by the difference of the
 *       REGISTERs (2 N), which leaves out start-up and compilation
 *
 * Measured (2026-12-05, Node 20.20; instructions from 10,000 and 60,000 registrations, twice each, within 200;
 * bytes from 100,000), per REGISTER:
 *   before (ef0062b)                                   18,200 instructions   3,479 B
 *   one template for the message (857fb3c)             17,030                3,162 B
 *   the socket's lookup answers IP literals (cfdcb25)  15,990                2,903 B
 *   shared fields scanned once (e5057bc)               15,210                2,902 B
 * The bench's own share: the credentials object and its concatenation, about 80 B per REGISTER.
 */
import { fork } from "node:child_process";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { answerChallenge } from "../../src/sip/digest.js";
import { parseMessage } from "../../src/sip/parse.js";
import { serializeRegister } from "../../src/sip/serialize.js";
import type { ViaSpec } from "../../src/sip/serialize.js";
import { BRANCH_COOKIE } from "../../src/sip/ids.js";
import { UdpTransport } from "../../src/sip/transport/udp.js";
import type { SendFailureSink } from "../../src/sip/transport/udp.js";
import { buildRegister } from "../../src/registrant/register-request.js";
import { RegistrantRecord } from "../../src/registrant/record.js";
import { printAllocations, sampleAllocations } from "./alloc-summary.js";

const BURST = 256;
const RECORDS = 1000;
const USER_AGENT = "OpenSIPS (3.4.0 (x86_64/linux))";

async function main(mode: string, registrations: number): Promise<void> {
  const sink = fork(process.argv[1]!, ["sink"]);
  const [port] = (await once(sink, "message")) as [number];
  const udp = await UdpTransport.bind({ proto: "udp", host: "127.0.0.1", port: 0, family: 4 }, () => undefined, {
    sendBufferSize: 4 * 1024 * 1024,
  });
  const bench = new RegisterSends(udp, port);
  if (mode === "heap") {
    await bench.run(Math.min(registrations, 20_000)); // warm-up: compiled code, as in a storm
    const sampler = await sampleAllocations(128);
    await bench.run(registrations);
    printAllocations((await sampler.stop()).head, 2 * registrations, "REGISTER");
  } else {
    await bench.run(registrations);
  }
  if (bench.failures > 0) console.log(`${bench.failures} sends failed`);
  sink.kill();
  await udp.close();
}

/** What the SIP stack and the machine do per REGISTER, minus the transaction: build, serialize, send. */
class RegisterSends implements SendFailureSink {
  failures = 0;
  private readonly records: RegistrantRecord[] = [];
  /**
   * a record's digest answer, made beforehand (its cost belongs to the challenge), in two flat halves joined
   * per send: a fresh concatenation each time, as the digest code hands over, not one made flat by earlier use
   */
  private readonly answers: { header: "Authorization" | "Proxy-Authorization"; head: string; tail: string }[];
  private readonly branchPrefix = `${BRANCH_COOKIE}3f2e1d0c9b8a7a6b.`;
  private branches = 0;

  constructor(
    private readonly udp: UdpTransport,
    private readonly port: number,
  ) {
    for (let i = 0; i < RECORDS; i++) {
      const rec = new RegistrantRecord(
        {
          aor: `sip:u${i}@perf.test`,
          contact: `sip:u${i}@127.0.0.1:5080`,
          registrar: "sip:127.0.0.1:5070",
          expirySec: 3600,
          enabled: true,
          uniqueBinding: false,
        },
        0,
      );
      rec.setDialog(`${(0x1000000 + i).toString(16)}a2c10350e54fa8f0123${(0x10000 + i).toString(16)}`, 27);
      this.records.push(rec);
    }
    const parsed = parseMessage(
      Buffer.from(
        "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKx;rport\r\n" +
          "To: <sip:u1@perf.test>;tag=lr1\r\nFrom: <sip:u1@perf.test>;tag=t\r\nCSeq: 1 REGISTER\r\nCall-ID: c\r\n" +
          'WWW-Authenticate: Digest realm="perf.test", nonce="1a2b.3c4d5e6f7a8b", qop="auth", algorithm=MD5\r\n' +
          "Content-Length: 0\r\n\r\n",
      ),
    );
    if (!parsed.ok || parsed.message.kind !== "response") throw new Error("the 401 does not parse");
    const challenge = parsed.message;
    this.answers = this.records.map((rec) => {
      const a = answerChallenge(
        challenge,
        { username: rec.aor, password: "secret" },
        { method: "REGISTER", uri: rec.registrar },
      );
      if (!a.ok) throw a.error;
      const half = a.value.length >> 1;
      return { header: a.header, head: a.value.slice(0, half), tail: a.value.slice(half) };
    });
  }

  failed(): void {
    this.failures++;
  }

  /** `registrations` × (REGISTER, REGISTER with credentials), BURST per macrotask. */
  async run(registrations: number): Promise<void> {
    let done = 0;
    await new Promise<void>((resolve) => {
      const burst = (): void => {
        for (let i = 0; i < BURST / 2 && done < registrations; i++, done++) {
          const rec = this.records[done % RECORDS]!;
          this.send(rec, undefined);
          const answer = this.answers[done % RECORDS]!;
          this.send(rec, { header: answer.header, value: answer.head + answer.tail });
        }
        setImmediate(done < registrations ? burst : resolve);
      };
      burst();
    });
  }

  private send(rec: RegistrantRecord, authorization: RegistrantRecord["pendingAuth"]): void {
    rec.cseq++;
    const req = buildRegister(rec, rec.wantedExpiresSec, USER_AGENT, authorization);
    const via: ViaSpec = {
      transport: "UDP",
      host: "127.0.0.1",
      port: this.udp.spec.port,
      branch: this.branchPrefix + (this.branches++).toString(36),
      rport: true,
    };
    this.udp.send(serializeRegister(req, via), { address: "127.0.0.1", port: this.port }, this);
  }
}

if (process.argv[2] === "sink") {
  const s = createSocket("udp4");
  s.bind(0, "127.0.0.1", () => process.send?.(s.address().port));
  s.on("message", () => undefined);
  process.on("disconnect", () => process.exit());
} else {
  await main(process.argv[2] ?? "heap", Number(process.argv[3] ?? 100_000));
}
