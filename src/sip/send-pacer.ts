import type { Clock } from "../clock.js";
import { systemClock } from "../clock.js";
import { TransportError } from "../errors.js";
import { transportErrorOutcome } from "./sip-client.js";
import type {
  DeferringSipClient,
  OnSlot,
  OutcomeCallback,
  RegisterRequest,
  SendOutcome,
  SipClient,
  StartTransaction,
  TransactionObserver,
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
 * Being the layer that sees every transaction end, it also tells the observers (trace, metrics) in the same promise
 * reaction that hands the outcome on: one reaction per transaction instead of one per layer.
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
  readonly resolve: OutcomeCallback;
}

const startWaitingRequest: OnSlot<WaitingRequest> = (w, start) => start(w.req, w.resolve);

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

/**
 * The sends waiting for one next hop, and its rate limit. Without a per-next-hop rate a lane exists only while
 * sends wait in it: a send that starts at once needs none.
 */
interface Lane {
  readonly key: string;
  readonly queue: SendQueue;
  readonly bucket: TokenBucket | undefined;
  /** true while the lane is in the turn order */
  queued: boolean;
}

/** Burst of a bucket: 20 ms worth of tokens, so sends leave in small groups at the timer's pace. */
const burstOf = (rate: number): number => Math.max(1, Math.ceil(rate / 50));

export class SendPacer implements DeferringSipClient {
  private readonly lanes = new Map<string, Lane>();
  private readonly turns = new Fifo<Lane>();
  private readonly overall: TokenBucket | undefined;
  private readonly observers: TransactionObserver[] = [];
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

  /** A send that throws or rejects resolves with a transport error. */
  send(req: RegisterRequest): Promise<SendOutcome> {
    return new Promise((resolve) => this.defer(req.proxy ?? req.requestUri, { req, resolve }, startWaitingRequest));
  }

  /** `observer` sees every transaction's outcome before its sender does (not the refusals of close()). */
  observe(observer: TransactionObserver): void {
    this.observers.push(observer);
  }

  /**
   * Hands `item` to `onSlot` as soon as the limits allow, now or when it leaves `nextHop`'s queue; `onSlot` builds
   * the request then and starts it through the function it is given (which counts it in flight). An `urgent` send
   * waits before the others of its next hop.
   */
  defer<T>(nextHop: string, item: T, onSlot: OnSlot<T>, urgent = false): void {
    if (this.closed) return onSlot(item, this.startTransaction);
    // fast path: nothing waiting anywhere and every limit has room (a lane only when the next hop has a rate)
    const perHop = this.options.ratePerRegistrar > 0;
    if (this.waiting === 0 && this.canStart(perHop ? this.lane(nextHop) : undefined)) {
      return onSlot(item, this.startTransaction);
    }
    const lane = this.lane(nextHop);
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
    const refused: SendOutcome = { kind: "transport-error", error: new TransportError("SIP stack closed") };
    const refuse: StartTransaction = (_req, done) => queueMicrotask(() => done(refused));
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
      const bucket = rate > 0 ? new TokenBucket(rate, burstOf(rate), this.clock.monoMs()) : undefined;
      lane = { key, queue: new SendQueue(), bucket, queued: false };
      this.lanes.set(key, lane);
    }
    return lane;
  }

  private canStart(lane: Lane | undefined): boolean {
    if (this.options.maxInFlight > 0 && this.inFlight >= this.options.maxInFlight) return false;
    const bucket = lane?.bucket;
    // no rate limit (the default): no clock to read
    if (bucket === undefined && this.overall === undefined) return true;
    const now = this.clock.monoMs();
    if (bucket !== undefined && !bucket.has(now)) return false;
    if (this.overall !== undefined && !this.overall.has(now)) return false;
    const tookLane = bucket?.take(now) ?? true;
    const tookOverall = this.overall?.take(now) ?? true;
    return tookLane && tookOverall;
  }

  /** The slot is `item`'s: `onSlot` builds its request and starts it (or nothing). */
  private readonly grant = (item: unknown, onSlot: OnSlot<unknown>): void => onSlot(item, this.startTransaction);

  /** Starts a transaction, counted in flight; its outcome goes to the observers, then to `done`. */
  private readonly startTransaction: StartTransaction = (req, done) => {
    this.inFlight++;
    const startedMs = this.clock.monoMs();
    if (this.inner.start !== undefined) {
      // the stack's callback: no promise, reaction and microtask per transaction
      this.inner.start(req, (outcome) => this.finished(done, this.observed(req, outcome, startedMs)));
      return;
    }
    let sent: Promise<SendOutcome>;
    try {
      sent = this.inner.send(req);
    } catch (error) {
      queueMicrotask(() => this.finished(done, transportErrorOutcome(error)));
      return;
    }
    sent.then(
      (outcome) => this.finished(done, this.observed(req, outcome, startedMs)),
      (error: unknown) => this.finished(done, transportErrorOutcome(error)),
    );
  };

  /** `outcome`, after the observers saw it; one that throws makes it a transport error, as a throwing layer would. */
  private observed(req: RegisterRequest, outcome: SendOutcome, startedMs: number): SendOutcome {
    if (this.observers.length === 0) return outcome;
    try {
      const durationMs = this.clock.monoMs() - startedMs;
      for (const observer of this.observers) observer(req, outcome, durationMs);
      return outcome;
    } catch (error) {
      return transportErrorOutcome(error);
    }
  }

  /** The slot is free (the sends waiting may start) before the sender handles the outcome, as it always was. */
  private finished(done: OutcomeCallback, outcome: SendOutcome): void {
    this.inFlight--;
    if (this.waiting > 0) this.drain();
    done(outcome);
  }

  /** Out of the turn order; without a per-next-hop rate the lane holds nothing worth keeping then. */
  private idle(lane: Lane): void {
    lane.queued = false;
    if (this.options.ratePerRegistrar === 0) this.lanes.delete(lane.key);
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
      const overallWait = this.overall?.waitMs(this.clock.monoMs()) ?? 0;
      if (overallWait > 0) {
        waitMs = overallWait;
        break;
      }
      const lane = this.turns.shift()!;
      if (this.canStart(lane)) {
        this.waiting--;
        idle = 0;
        lane.queue.shift(this.grant);
      } else {
        idle++;
        waitMs = Math.min(waitMs, lane.bucket?.waitMs(this.clock.monoMs()) ?? 1);
      }
      if (lane.queue.size > 0) this.turns.push(lane);
      else this.idle(lane);
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
