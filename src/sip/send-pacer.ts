import type { Clock } from "../clock.js";
import { systemClock } from "../clock.js";
import { TransportError } from "../errors.js";
import type {
  DeferringSipClient,
  OnSlot,
  RegisterRequest,
  SendOutcome,
  SipClient,
  StartTransaction,
} from "./sip-client.js";

/**
 * Send pacing, a SipClient decorator: at most `maxInFlight` client transactions at once, and REGISTERs started at
 * no more than `rate` per second overall and `ratePerRegistrar` per second towards one next hop (the outbound
 * proxy when the record has one, else the registrar). A request over a limit waits in its next hop's FIFO queue
 * (challenge answers in a FIFO of their own that goes first); next hops with waiting requests take turns, so one
 * slow registrar does not hold back the others. Its transaction (and so Timer F) starts only when it leaves the
 * queue: waiting never turns into a timeout. The engine's sends wait as the record itself: the request is built
 * when it leaves the queue.
 *
 * OpenSIPS has no such limit (a restart sends the whole table in one timer run); a registration storm then
 * overruns a registrar or an SBC, and with many requests queued on a socket RFC 3261's T1 makes every one of
 * them retransmit. 0 switches a limit off.
 */
export interface SendPacerOptions {
  /** client transactions in flight at once; 0 = no cap */
  readonly maxInFlight: number;
  /** REGISTERs started per second, all next hops together; 0 = no limit */
  readonly rate: number;
  /** REGISTERs started per second towards one next hop; 0 = no limit */
  readonly ratePerRegistrar: number;
}

export interface SendPacerStats {
  readonly inFlight: number;
  readonly queued: number;
  /** requests that had to wait in a queue */
  readonly paced: number;
}

interface PacerTimers {
  set(ms: number, fn: () => void): () => void;
}

const realTimers: PacerTimers = {
  set(ms, fn) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

/** A plain `send()` waiting in a queue: its request and the resolver of the promise its caller holds. */
interface WaitingRequest {
  readonly req: RegisterRequest;
  readonly resolve: (outcome: SendOutcome | Promise<SendOutcome>) => void;
}

const startWaitingRequest: OnSlot<WaitingRequest> = (w, start) => w.resolve(start(w.req));

/** A token bucket: `rate` tokens per second, holding at most `burst`. */
class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.lastMs = nowMs;
  }

  /** True (and one token spent) when a token is there at `nowMs`. */
  take(nowMs: number): boolean {
    this.refill(nowMs);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  has(nowMs: number): boolean {
    this.refill(nowMs);
    return this.tokens >= 1;
  }

  /** ms until the next token. */
  waitMs(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.rate);
  }

  private refill(nowMs: number): void {
    if (nowMs > this.lastMs) {
      this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) * this.rate) / 1000);
      this.lastMs = nowMs;
    }
  }
}

/** FIFO with O(1) push and shift (an array and a head index, compacted as it drains). */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head]!;
    this.items[this.head++] = undefined as T;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

/**
 * The sends waiting for one next hop as (item, onSlot) pairs kept flat in FIFOs: a waiting send costs two array
 * slots and no object of its own. Urgent sends (answers to a challenge) go before the others.
 */
class SendQueue {
  private readonly urgent = new Fifo<unknown>();
  private readonly normal = new Fifo<unknown>();

  get size(): number {
    return (this.urgent.size + this.normal.size) >> 1;
  }

  push<T>(item: T, onSlot: OnSlot<T>, urgent: boolean): void {
    const fifo = urgent ? this.urgent : this.normal;
    fifo.push(item);
    fifo.push(onSlot);
  }

  /** Removes the oldest urgent send, else the oldest send, and gives it to `fn`; false when empty. */
  shift(fn: (item: unknown, onSlot: OnSlot<unknown>) => void): boolean {
    const fifo = this.urgent.size > 0 ? this.urgent : this.normal;
    if (fifo.size === 0) return false;
    const item = fifo.shift();
    fn(item, fifo.shift() as OnSlot<unknown>);
    return true;
  }
}

/** The sends waiting for one next hop, and its rate limit. */
interface Lane {
  readonly key: string;
  readonly queue: SendQueue;
  readonly bucket: TokenBucket | undefined;
  /** starts a transaction towards this next hop, counted in flight */
  readonly start: StartTransaction;
  /** true while the lane is in the turn order */
  queued: boolean;
}

/** Burst of a bucket: 20 ms worth of tokens, so sends leave in small groups at the timer's pace. */
const burstOf = (rate: number): number => Math.max(1, Math.ceil(rate / 50));

export class SendPacer implements DeferringSipClient {
  private readonly lanes = new Map<string, Lane>();
  private readonly turns = new Fifo<Lane>();
  private readonly overall: TokenBucket | undefined;
  private inFlight = 0;
  private waiting = 0;
  private paced = 0;
  private cancelTimer: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly inner: SipClient & { hasSocket(spec: string): boolean },
    private readonly options: SendPacerOptions,
    private readonly clock: Clock = systemClock,
    private readonly timers: PacerTimers = realTimers,
  ) {
    for (const [name, v] of Object.entries(options)) {
      if (!Number.isFinite(v) || v < 0) throw new RangeError(`send pacing: ${name} must be 0 or more`);
    }
    this.overall = options.rate > 0 ? new TokenBucket(options.rate, burstOf(options.rate), clock.monoMs()) : undefined;
  }

  hasSocket(spec: string): boolean {
    return this.inner.hasSocket(spec);
  }

  stats(): SendPacerStats {
    return { inFlight: this.inFlight, queued: this.waiting, paced: this.paced };
  }

  send(req: RegisterRequest): Promise<SendOutcome> {
    if (this.closed) return this.inner.send(req);
    return new Promise((resolve) => this.defer(req.proxy ?? req.requestUri, { req, resolve }, startWaitingRequest));
  }

  /**
   * Hands `item` to `onSlot` as soon as the limits allow, now or when it leaves `nextHop`'s queue; `onSlot` builds
   * the request then and starts it through the function it is given (which counts it in flight). An `urgent` send
   * waits before the others of its next hop.
   */
  defer<T>(nextHop: string, item: T, onSlot: OnSlot<T>, urgent = false): void {
    if (this.closed) return onSlot(item, (r) => this.inner.send(r));
    const lane = this.lane(nextHop);
    // fast path: nothing waiting anywhere and every limit has room
    if (this.waiting === 0 && this.canStart(lane)) return this.grant(lane, item, onSlot as OnSlot<unknown>);
    this.paced++;
    this.waiting++;
    lane.queue.push(item, onSlot, urgent);
    if (!lane.queued) {
      lane.queued = true;
      this.turns.push(lane);
    }
    this.drain();
  }

  /** Answers every waiting request with a transport error (the daemon is stopping) and stops pacing. */
  close(): void {
    this.closed = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const err = new TransportError("SIP stack closed");
    const refuse = (): Promise<SendOutcome> => Promise.resolve({ kind: "transport-error", error: err });
    const answer = (item: unknown, onSlot: OnSlot<unknown>): void => {
      this.waiting--;
      onSlot(item, refuse);
    };
    for (let lane = this.turns.shift(); lane !== undefined; lane = this.turns.shift()) {
      while (lane.queue.shift(answer));
      lane.queued = false;
    }
  }

  private lane(key: string): Lane {
    let lane = this.lanes.get(key);
    if (lane === undefined) {
      const rate = this.options.ratePerRegistrar;
      const created: Lane = {
        key,
        queue: new SendQueue(),
        bucket: rate > 0 ? new TokenBucket(rate, burstOf(rate), this.clock.monoMs()) : undefined,
        start: (req) => this.start(created, req),
        queued: false,
      };
      lane = created;
      this.lanes.set(key, lane);
    }
    return lane;
  }

  private canStart(lane: Lane): boolean {
    if (this.options.maxInFlight > 0 && this.inFlight >= this.options.maxInFlight) return false;
    const now = this.clock.monoMs();
    if (lane.bucket !== undefined && !lane.bucket.has(now)) return false;
    if (this.overall !== undefined && !this.overall.has(now)) return false;
    const tookLane = lane.bucket?.take(now) ?? true;
    const tookOverall = this.overall?.take(now) ?? true;
    return tookLane && tookOverall;
  }

  /** The slot is `item`'s: `onSlot` builds its request and starts it (or nothing) through the lane's `start`. */
  private grant(lane: Lane, item: unknown, onSlot: OnSlot<unknown>): void {
    onSlot(item, lane.start);
  }

  private start(lane: Lane, req: RegisterRequest): Promise<SendOutcome> {
    this.inFlight++;
    return this.inner.send(req).then(
      (outcome) => {
        this.finished(lane);
        return outcome;
      },
      (err: unknown) => {
        this.finished(lane);
        throw err;
      },
    );
  }

  private finished(lane: Lane): void {
    this.inFlight--;
    // a lane nobody waits on and with a full bucket holds nothing worth keeping
    if (this.options.ratePerRegistrar === 0 && !lane.queued && this.lanes.get(lane.key) === lane) {
      this.lanes.delete(lane.key);
    }
    if (this.waiting > 0) this.drain();
  }

  /**
   * Starts waiting requests while the limits allow, next hops taking turns. A next hop out of tokens goes to the
   * back of the turn order; when a whole round starts nothing, one timer is armed for the earliest token.
   */
  private drain(): void {
    if (this.closed) return;
    // a completion may free a slot for a next hop that has tokens now: look again rather than wait for the timer
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    let idle = 0;
    let waitMs = Infinity;
    while (this.turns.size > 0 && idle < this.turns.size) {
      if (this.options.maxInFlight > 0 && this.inFlight >= this.options.maxInFlight) return; // a completion drains
      const now = this.clock.monoMs();
      const overallWait = this.overall?.waitMs(now) ?? 0;
      if (overallWait > 0) {
        waitMs = overallWait;
        break;
      }
      const lane = this.turns.shift()!;
      if (this.canStart(lane)) {
        this.waiting--;
        idle = 0;
        lane.queue.shift((item, onSlot) => this.grant(lane, item, onSlot));
      } else {
        idle++;
        waitMs = Math.min(waitMs, lane.bucket?.waitMs(now) ?? 1);
      }
      if (lane.queue.size > 0) this.turns.push(lane);
      else lane.queued = false;
    }
    if (this.turns.size > 0 && waitMs !== Infinity) {
      this.cancelTimer = this.timers.set(Math.max(1, waitMs), () => {
        this.cancelTimer = undefined;
        this.drain();
      });
    }
  }
}

/** The pacing keys of the configuration (docs/configuration.md). */
export function sendPacerOptions(config: {
  readonly max_transactions_in_flight: number;
  readonly max_register_rate: number;
  readonly max_register_rate_per_registrar: number;
}): SendPacerOptions {
  return {
    maxInFlight: config.max_transactions_in_flight,
    rate: config.max_register_rate,
    ratePerRegistrar: config.max_register_rate_per_registrar,
  };
}
