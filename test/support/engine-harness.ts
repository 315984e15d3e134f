import { ManualClock, systemClock } from "../../src/clock.js";
import { RowError } from "../../src/errors.js";
import { silentLogger } from "../../src/log.js";
import type { Logger } from "../../src/log.js";
import type { Coords } from "../../src/registrant/coords.js";
import { defaultEngineOptions, opensipsBehaviour } from "../../src/registrant/engine-options.js";
import type { EngineOptions } from "../../src/registrant/engine-options.js";
import type { RecordSpec, RegistrantRow, ShtagRef } from "../../src/registrant/record-spec.js";
import { RegistrantService } from "../../src/registrant/registrant-service.js";
import { wireReaders } from "../../src/registrant/response.js";
import type { ReplyReaders } from "../../src/registrant/response.js";
import type { TimerPort } from "../../src/registrant/scheduler.js";
import type { StateChange, TableChange } from "../../src/registrant/state-change.js";
import type { SipClient } from "../../src/sip/sip-client.js";
import { checkRow } from "../../src/registrant/row-check.js";
import type { SipMessage, SipRequest } from "../../src/sip/message.js";
import { headerValue } from "../../src/sip/message.js";
import { parseMessage } from "../../src/sip/parse.js";
import { SipStack } from "../../src/sip/sip-stack.js";
import type { RegistrantStore } from "../../src/store/store.js";
import { FakeSipClient, flush } from "./fake-sip-client.js";
import { MemoryStore } from "./memory-store.js";

/** A ManualClock whose wall clock can also jump on its own (NTP step, operator), as a real one can. */
export class JumpingClock extends ManualClock {
  private offsetMs = 0;
  override nowMs(): number {
    return super.nowMs() + this.offsetMs;
  }
  jumpWall(ms: number): void {
    this.offsetMs += ms;
  }
}

/** TimerPort on a ManualClock: `advance()` moves the clock and fires what falls due, in time order. */
export class FakeTimers implements TimerPort {
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  constructor(readonly clock: ManualClock) {}

  set(ms: number, fn: () => void): () => void {
    const id = ++this.seq;
    this.timers.set(id, { at: this.clock.monoMs() + Math.max(0, ms), fn });
    return () => this.timers.delete(id);
  }

  get count(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing timers at their due time; `between` runs after each one (async flush). */
  async advance(ms: number, between: () => Promise<void> = flush): Promise<void> {
    const end = this.clock.monoMs() + ms;
    for (let guard = 0; guard < 1_000_000; guard++) {
      let nextId = -1;
      let next: { at: number; fn: () => void } | undefined;
      for (const [id, t] of this.timers) {
        if (t.at <= end && (next === undefined || t.at < next.at || (t.at === next.at && id < nextId))) {
          next = t;
          nextId = id;
        }
      }
      if (next === undefined) break;
      this.timers.delete(nextId);
      if (next.at > this.clock.monoMs()) this.clock.advance(next.at - this.clock.monoMs());
      next.fn();
      await between();
    }
    if (end > this.clock.monoMs()) this.clock.advance(end - this.clock.monoMs());
    await between();
  }
}

/** A registrant row with test defaults (an enabled record registering to sip:registrar.test). */
export function row(over: Partial<RegistrantRow> & { aor?: string } = {}): RegistrantRow {
  const user = /^sip:([^@]+)@/.exec(over.aor ?? "")?.[1] ?? "alice";
  return {
    id: over.id ?? user,
    registrar: "sip:registrar.test",
    proxy: null,
    aor: `sip:${user}@example.test`,
    third_party_registrant: null,
    username: user,
    password: `${user}pw`,
    binding_URI: `sip:${user}@192.0.2.10:5060`,
    binding_params: null,
    expiry: 3600,
    forced_socket: null,
    cluster_shtag: null,
    state: 0,
    ...over,
  };
}

const nonEmpty = (v: string | null): string | undefined => (v === null || v === "" ? undefined : v);

/**
 * Row → spec for engine tests: no validation beyond what the engine relies on (the real checks live in
 * registrant/row-check.ts and have their own tests).
 */
export function testSpecFromRow(r: RegistrantRow): RecordSpec | RowError {
  if (r.aor === null || r.registrar === null || r.binding_URI === null) return new RowError(r.id, "aor", "null");
  const params = nonEmpty(r.binding_params);
  const names = (params ?? "").split(";").map((p) => p.split("=")[0]!.trim());
  const shtagText = nonEmpty(r.cluster_shtag);
  let shtag: ShtagRef | undefined;
  if (shtagText !== undefined) {
    const [tag, id] = shtagText.split("/");
    shtag = { tag: tag!.trim(), clusterId: Number(id) };
  }
  const opt = <K extends string>(k: K, v: string | undefined): Partial<Record<K, string>> =>
    v === undefined ? {} : ({ [k]: v } as Record<K, string>);
  return {
    aor: r.aor,
    contact: r.binding_URI,
    registrar: r.registrar,
    ...opt("proxy", nonEmpty(r.proxy)),
    ...opt("thirdPartyRegistrant", nonEmpty(r.third_party_registrant)),
    ...opt("username", nonEmpty(r.username)),
    ...opt("password", nonEmpty(r.password)),
    ...opt("bindingParams", params),
    ...opt("forcedSocket", nonEmpty(r.forced_socket)),
    ...(shtag !== undefined && { shtag }),
    expirySec: Number(r.expiry ?? 3600),
    enabled: Number(r.state ?? 0) === 0,
    uniqueBinding: names.some((n) => n.startsWith("reg-id")) && names.some((n) => n.startsWith("+sip.instance")),
  };
}

export function coordsOf(r: RegistrantRow): Coords {
  return { aor: r.aor!, contact: r.binding_URI!, registrar: r.registrar! };
}

export interface HarnessConfig {
  /** engine options over the OpenSIPS defaults; `opensips: true` switches every improvement off */
  readonly options?: Partial<EngineOptions>;
  readonly opensips?: boolean;
  readonly rows?: RegistrantRow[];
  readonly isActive?: (shtag: ShtagRef) => boolean;
  readonly readers?: ReplyReaders;
  readonly sip?: SipClient;
  readonly log?: Logger;
  readonly jitter?: () => number;
}

/** The engine on fake time, a fake SIP client and a memory store. */
export class EngineHarness {
  readonly clock = new JumpingClock(1_700_000_000_000, 0);
  readonly timers = new FakeTimers(this.clock);
  readonly sip: FakeSipClient;
  readonly store: MemoryStore;
  readonly service: RegistrantService;
  readonly options: EngineOptions;
  readonly changes: StateChange[] = [];
  readonly tableChanges: TableChange[] = [];

  constructor(config: HarnessConfig = {}) {
    this.options = {
      ...defaultEngineOptions,
      timerIntervalSec: 10,
      hashSize: 1,
      ...(config.opensips === true ? opensipsBehaviour : {}),
      ...config.options,
    };
    this.sip = new FakeSipClient();
    this.store = new MemoryStore(config.rows ?? []);
    let n = 0;
    this.service = new RegistrantService({
      store: this.store,
      sip: config.sip ?? this.sip,
      clock: this.clock,
      log: config.log ?? silentLogger,
      options: this.options,
      specFromRow: testSpecFromRow,
      readers: config.readers ?? wireReaders,
      timers: this.timers,
      rand: () => ++n,
      jitter: config.jitter ?? (() => 0.5),
      ...(config.isActive !== undefined && { isActive: config.isActive }),
    });
    this.service.onStateChange((c) => this.changes.push(c));
    this.service.onTableChange((c) => this.tableChanges.push(c));
  }

  static async started(config: HarnessConfig = {}): Promise<EngineHarness> {
    const h = new EngineHarness(config);
    await h.service.start();
    return h;
  }

  nowSec(): number {
    return Math.floor(this.clock.nowMs() / 1000);
  }

  async advance(ms: number): Promise<void> {
    await this.timers.advance(ms);
  }

  /** Runs `count` ticks (the next buckets) at the current time and lets replies land. */
  async tick(count = 1): Promise<void> {
    for (let i = 0; i < count; i++) this.service.tick();
    await flush();
  }

  /** Ticks every bucket once. */
  async tickAll(): Promise<void> {
    await this.tick(2 ** this.options.hashSize);
  }

  record(c: Coords | RegistrantRow) {
    const coords = "binding_URI" in c ? coordsOf(c) : c;
    const rec = this.service.recordFor(coords);
    if (rec === undefined) throw new Error(`no record ${coords.aor}`);
    return rec;
  }

  /** State names of the changes so far (optionally for one AOR). */
  transitions(aor?: string): string[] {
    return this.changes.filter((c) => aor === undefined || c.coords.aor === aor).map((c) => `${c.from}>${c.to}`);
  }
}

export { flush };

/** One SIP message the live engine sent or received, parsed. */
export interface WireMessage {
  readonly direction: "out" | "in";
  readonly message: SipMessage;
  readonly atMs: number;
}

export interface LiveEngineConfig {
  readonly rows?: RegistrantRow[];
  /** default: a MemoryStore holding `rows` */
  readonly store?: RegistrantStore;
  readonly options?: Partial<EngineOptions>;
  /** SIP transaction timers (timerF small for silent registrars) */
  readonly timerFMs?: number;
  readonly log?: Logger;
}

/**
 * The engine against real peers: a SipStack on an ephemeral UDP port, the real row checks, the system clock and
 * real timers. TI=10 s with 8 buckets, so a bucket comes up every second and every record within 8 s.
 */
export class LiveEngine {
  readonly changes: StateChange[] = [];

  private constructor(
    readonly service: RegistrantService,
    readonly sip: SipStack,
    readonly store: RegistrantStore,
    /** every message sent (first transmissions) and received, in order */
    readonly wire: WireMessage[],
  ) {}

  static async start(config: LiveEngineConfig): Promise<LiveEngine> {
    const log = config.log ?? silentLogger;
    const wire: WireMessage[] = [];
    const sip = await SipStack.start({
      listen: ["udp:127.0.0.1:0"],
      log,
      timers: { timerF: config.timerFMs ?? 4_000 },
      onWire: (e) => {
        const message = e.direction === "out" ? parseWire(e.bytes) : e.message;
        if (message !== undefined && !(e.direction === "out" && e.retransmission)) {
          wire.push({ direction: e.direction, message, atMs: Date.now() });
        }
      },
    });
    const options: EngineOptions = {
      ...defaultEngineOptions,
      timerIntervalSec: 10,
      hashSize: 3,
      userAgent: "registrantd-test",
      ...config.options,
    };
    const store = config.store ?? new MemoryStore(config.rows ?? []);
    const ctx = {
      timerInterval: options.timerIntervalSec,
      defaultExpires: 3600,
      hasSocket: (s: string) => sip.hasSocket(s),
    };
    const service = new RegistrantService({
      store,
      sip,
      clock: systemClock,
      log,
      options,
      specFromRow: (r) => {
        const checked = checkRow(r, ctx);
        return checked.ok ? checked.spec : checked.error;
      },
      readers: wireReaders,
    });
    const live = new LiveEngine(service, sip, store, wire);
    service.onStateChange((c) => live.changes.push(c));
    await service.start();
    return live;
  }

  /** The socket the engine sends from (`udp:127.0.0.1:port`). */
  get socket(): string {
    return this.sip.socketNames()[0]!;
  }

  /** The REGISTER requests sent for an AOR, in order (retransmissions left out). */
  registers(aor: string): SipRequest[] {
    return this.wire
      .filter((w) => w.direction === "out" && w.message.kind === "request")
      .map((w) => w.message as SipRequest)
      .filter((m) => headerValue(m, "to")?.includes(aor) === true);
  }

  state(c: Coords): number | undefined {
    return this.service.find(c)?.state;
  }

  async stop(): Promise<void> {
    await this.service.stop();
    await this.sip.close();
  }
}

function parseWire(bytes: Buffer): SipMessage | undefined {
  const parsed = parseMessage(bytes);
  return parsed.ok ? parsed.message : undefined;
}
