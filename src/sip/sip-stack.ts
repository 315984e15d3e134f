import { randomBytes } from "node:crypto";
import type { Clock } from "../clock.js";
import { systemClock } from "../clock.js";
import type { Config, TlsSocketOptions } from "../config/config.js";
import { SipUriError, SocketNotConfiguredError, TransportError } from "../errors.js";
import type { Logger } from "../log.js";
import { silentLogger } from "../log.js";
import { BRANCH_COOKIE } from "./ids.js";
import type { IdGenerator } from "./ids.js";
import type { SipMessage } from "./message.js";
import { parseMessage } from "./parse.js";
import { serializeRegister } from "./serialize.js";
import type { ViaSpec } from "./serialize.js";
import type { Destination, OutcomeCallback, RegisterRequest, SendOutcome, SipClient } from "./sip-client.js";
import { transportErrorOutcome } from "./sip-client.js";
import { NonInviteClientTransaction } from "./transaction/non-invite-client.js";
import type { NictHooks, NictOutcome, NictWire } from "./transaction/non-invite-client.js";
import { TimerWheel } from "./transaction/timer-wheel.js";
import { RFC_TIMERS } from "./transaction/timers.js";
import type { SipTimers } from "./transaction/timers.js";
import { TransactionTable } from "./transaction/transaction-table.js";
import type { DropReason, ResponseSource } from "./transaction/transaction-table.js";
import { DnsClient } from "./transport/dns-client.js";
import type { DnsResolver } from "./transport/dns-resolver.js";
import { ServerLocator } from "./transport/locate.js";
import type { LocateOptions, LocateResult, Target } from "./transport/locate.js";
import { formatSocketSpec, parseSocketSpec } from "./transport/socket-spec.js";
import type { SocketSpec, TransportProto } from "./transport/socket-spec.js";
import { StreamTransport } from "./transport/stream.js";
import { TargetHealth } from "./transport/target-health.js";
import { UdpTransport } from "./transport/udp.js";
import type { Peer } from "./transport/udp.js";
import { parseUri } from "./uri.js";
import type { SipUri } from "./uri.js";

/** One message on the wire, for traces (per-registrant history, tests). */
export type WireEvent =
  | {
      readonly direction: "out";
      readonly socket: string;
      readonly peer: Peer;
      readonly bytes: Buffer;
      readonly retransmission: boolean;
    }
  | {
      readonly direction: "in";
      readonly socket: string;
      readonly peer: Peer;
      /** undefined when it did not parse */
      readonly message: SipMessage | undefined;
      readonly result: "delivered" | DropReason;
    };

export interface SipStackOptions {
  /** OpenSIPS socket strings: `udp:127.0.0.1:5060`, `tcp:[::1]:5060`, `tls:...`; port 0 = any free port. */
  readonly listen: readonly string[];
  /** Per `tls:` socket string: CA, client certificate, verification. */
  readonly tls?: Readonly<Record<string, TlsSocketOptions>>;
  readonly timers?: Partial<SipTimers>;
  /** DNS for RFC 3263; default: a DnsClient on the system's resolvers (and /etc/hosts). */
  readonly resolver?: DnsResolver;
  readonly clock?: Clock;
  readonly log?: Logger;
  /** Close idle TCP/TLS connections after this long (default 120 s). */
  readonly idleMs?: number;
  /** Skip a target that failed for this long (default 60 s). */
  readonly failedTargetHoldMs?: number;
  /** At most this many targets per request (default 4). */
  readonly maxTargets?: number;
  /** RFC 3261 §18.1.1: a request larger than this goes over TCP when a TCP socket exists (default 1300). */
  readonly udpSizeLimit?: number;
  /** Kernel socket buffer for UDP (benchmarks with 100k transactions in flight). */
  readonly udpBufferSize?: number;
  /** Timer wheel resolution (default 10 ms). */
  readonly tickMs?: number;
  /** Via branches (§8.1.1.7); tests pass `sequentialIds()`. Default: a crypto-random prefix per stack + a counter. */
  readonly ids?: Pick<IdGenerator, "branch">;
  readonly onWire?: (event: WireEvent) => void;
}

export interface SipStackStats {
  /** Requests sent (first transmission of each transaction; a failover counts again). */
  sent: number;
  retransmissions: number;
  /** Responses matched to a transaction, by class (`1xx`..`6xx`), retransmitted ones included. */
  responses: Record<string, number>;
  timeouts: number;
  transportErrors: number;
  /** Targets abandoned for the next one (timeout, 503, transport error). */
  failovers: number;
  dropped: Record<DropReason, number>;
  /** Transactions waiting for their final outcome. */
  inFlight: number;
  /** Open TCP/TLS connections, outgoing and accepted. */
  connections: number;
}

type Socket =
  | { readonly kind: "udp"; readonly spec: SocketSpec; readonly name: string; readonly udp: UdpTransport }
  | { readonly kind: "stream"; readonly spec: SocketSpec; readonly name: string; readonly stream: StreamTransport };

/**
 * The SIP transport and transaction layer behind the registrant's SipClient port: RFC 3263 server location,
 * socket choice, Via with `rport` (RFC 3581), the non-INVITE client transaction (RFC 3261 §17.1.2) and
 * failover to the next target on timeout, 503 or transport error (RFC 3263 §4.3; OpenSIPS never does this).
 */
export class SipStack implements SipClient {
  private readonly sockets: Socket[] = [];
  private readonly table: TransactionTable;
  private readonly wheel: TimerWheel;
  private readonly timers: SipTimers;
  private readonly locator: ServerLocator;
  private readonly health: TargetHealth;
  private readonly log: Logger;
  private readonly newBranch: () => string;
  /** Transactions waiting for their final outcome (the table also holds completed ones, through Timer K). */
  private inFlight = 0;
  /** Parsed next hops by their text: the records of a table share a few registrars and proxies. */
  private readonly hops = new Map<string, Hop>();
  /** `forced_socket` texts and the socket each names (null: none), looked up once. */
  private readonly forcedSockets = new Map<string, Socket | null>();
  /** The locator's view of our sockets (transports, address families). */
  private locateOptions: LocateOptions | undefined;
  /** What every Attempt shares with the stack (one object per stack, not closures per transaction). */
  private readonly attemptContext: AttemptContext;
  private readonly counters = {
    sent: 0,
    retransmissions: 0,
    responses: {} as Record<string, number>,
    timeouts: 0,
    transportErrors: 0,
    failovers: 0,
  };
  private closed = false;
  /** a wheel timer is armed to forget the retired branches once traffic stops */
  private agingArmed = false;

  private constructor(
    private readonly opts: SipStackOptions,
    private readonly resolver: DnsResolver,
  ) {
    const clock = opts.clock ?? systemClock;
    this.timers = { ...RFC_TIMERS, ...opts.timers };
    this.wheel = new TimerWheel({ clock, tickMs: opts.tickMs ?? 10 });
    this.table = new TransactionTable(clock, this.timers.t4);
    this.locator = new ServerLocator(resolver, { clock });
    this.health = new TargetHealth(opts.failedTargetHoldMs ?? 60_000, clock);
    this.log = (opts.log ?? silentLogger).child({ mod: "sip.stack" });
    const ids = opts.ids;
    this.newBranch = ids !== undefined ? () => ids.branch() : branchGenerator();
    this.attemptContext = {
      counters: this.counters,
      onWire: opts.onWire,
      finished: (o, attempt) => {
        this.inFlight--;
        return this.settled(attempt.target, this.outcome(o, attempt.destination));
      },
      terminated: (branch) => this.table.remove(branch, "REGISTER"),
      retired: (branch, sentTo) => {
        this.table.retire(branch, "REGISTER", sentTo);
        this.ageRetired();
      },
    };
  }

  /** Binds every configured socket; any bind failure closes what was opened and rejects. */
  static async start(opts: SipStackOptions): Promise<SipStack> {
    const stack = new SipStack(opts, opts.resolver ?? new DnsClient());
    try {
      for (const text of opts.listen) await stack.bind(text);
    } catch (err) {
      await stack.close();
      throw err;
    }
    return stack;
  }

  /** SipStackOptions from the daemon config: `listen`, `tls`, and tm's `fr_timeout`/`t1`/`t2`. */
  static optionsFromConfig(config: Config, log: Logger): SipStackOptions {
    return {
      listen: config.listen,
      tls: config.tls,
      timers: { t1: config.tm.t1, t2: config.tm.t2, timerF: config.tm.fr_timeout * 1000 },
      log,
    };
  }

  /** True when `spec` names a configured socket (the load check for `forced_socket`). */
  hasSocket(spec: string): boolean {
    return this.findSocket(spec) !== undefined;
  }

  /** The bound sockets as `proto:ip:port` (real ports when configured with 0). */
  socketNames(): string[] {
    return this.sockets.map((s) => s.name);
  }

  stats(): SipStackStats {
    return {
      ...this.counters,
      responses: { ...this.counters.responses },
      dropped: { ...this.table.dropped },
      inFlight: this.inFlight,
      connections: this.sockets.reduce((n, s) => n + (s.kind === "stream" ? s.stream.connectionCount : 0), 0),
    };
  }

  /**
   * Entries in the timer wheel, cancelled ones included (a cancelled entry leaves when its slot comes round):
   * what a storm leaves behind (sip-pacer-storm bench).
   */
  get timerEntriesHeld(): number {
    return this.wheel.held;
  }

  send(req: RegisterRequest): Promise<SendOutcome> {
    return new Promise((resolve, reject) => {
      try {
        this.startNow(req, resolve);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** `send` with a callback (SipClient.start): a transaction to an IP-literal hop makes no promise. */
  start(req: RegisterRequest, done: OutcomeCallback): void {
    try {
      this.startNow(req, done);
    } catch (err) {
      later(done, transportErrorOutcome(err));
    }
  }

  private startNow(req: RegisterRequest, done: OutcomeCallback): void {
    if (this.closed) return later(done, transportErrorOutcome(new TransportError("SIP stack closed")));
    let forced: Socket | undefined;
    if (req.forcedSocket !== undefined) {
      forced = this.forcedSocket(req.forcedSocket);
      if (forced === undefined) {
        const error = new SocketNotConfiguredError(`forced_socket ${req.forcedSocket} is not a configured socket`);
        return later(done, transportErrorOutcome(error));
      }
    }
    // §6.3 of the reference: the proxy is the next hop; the Request-URI stays the registrar
    const hopText = req.proxy ?? req.requestUri;
    const hop = this.hop(hopText);
    if (hop instanceof SipUriError) {
      return later(done, transportErrorOutcome(new SipUriError(`${hopText}: ${hop.message}`, { cause: hop })));
    }
    // an IP literal needs no DNS: located without a promise and a turn of the event loop
    const options = this.locateOptionsFor(forced);
    const literal = forced === undefined ? hop.literal : ServerLocator.locateLiteral(hop.uri, options);
    if (literal === undefined) return settle(this.locateAndSend(req, hop.uri, options, forced), done);
    const targets = this.targetsOf(literal);
    // one target (an IP literal): the transaction calls `done` itself, without an async function around it
    const only = "kind" in targets || targets.length !== 1 ? undefined : targets[0];
    if (only !== undefined) this.sendToTarget(req, only, forced, done);
    else settle(this.sendToTargets(req, targets, forced), done);
  }

  private async locateAndSend(
    req: RegisterRequest,
    uri: SipUri,
    options: LocateOptions,
    forced: Socket | undefined,
  ): Promise<SendOutcome> {
    return this.sendToTargets(req, this.targetsOf(await this.locator.locate(uri, options)), forced);
  }

  /** The targets to try in turn: healthy ones first, at most `maxTargets` (or why there are none). */
  private targetsOf(located: LocateResult): readonly Target[] | SendOutcome {
    if (!located.ok) return transportErrorOutcome(located.error);
    const maxTargets = this.opts.maxTargets ?? 4;
    const ordered = this.health.order(located.targets);
    return ordered.length > maxTargets ? ordered.slice(0, maxTargets) : ordered;
  }

  /** RFC 3263 §4.3: a timeout, a 503 or a transport failure moves on to the next target, for the same request. */
  private async sendToTargets(
    req: RegisterRequest,
    targets: readonly Target[] | SendOutcome,
    forced: Socket | undefined,
  ): Promise<SendOutcome> {
    if ("kind" in targets) return targets;
    let last: SendOutcome | undefined;
    let attempted = false;
    for (const target of targets) {
      if (this.closed) break;
      const socket = this.pickSocket(target, forced);
      if (socket === undefined) {
        last = noSocketFor(target);
        continue;
      }
      if (attempted) this.counters.failovers++;
      attempted = true;
      const outcome = await new Promise<SendOutcome>((resolve) => this.attempt(req, target, socket, resolve));
      if (outcome.kind === "response" && outcome.response.status !== 503) return outcome;
      last = outcome;
    }
    return last ?? transportErrorOutcome(new TransportError(this.closed ? "SIP stack closed" : "no target to send to"));
  }

  /** `sendToTargets` with a single target. */
  private sendToTarget(req: RegisterRequest, target: Target, forced: Socket | undefined, done: OutcomeCallback): void {
    const socket = this.pickSocket(target, forced);
    if (socket === undefined) later(done, noSocketFor(target));
    else this.attempt(req, target, socket, done);
  }

  /** An attempt's outcome tells the target's health: only a final response other than 503 is a working target. */
  private settled(target: Target, outcome: SendOutcome): SendOutcome {
    if (outcome.kind === "response" && outcome.response.status !== 503) {
      this.health.markOk(target);
    } else {
      this.health.markFailed(target);
      this.log.debug(
        { target: `${target.transport}:${target.address}:${target.port}`, outcome: outcome.kind },
        "target failed",
      );
    }
    return outcome;
  }

  /** While branches are retired, the table ages them every T4, so an idle stack forgets them within 2 × T4. */
  private ageRetired(): void {
    if (this.agingArmed || this.closed) return;
    this.agingArmed = true;
    this.wheel.schedule(this.timers.t4, () => {
      this.agingArmed = false;
      this.table.age();
      if (this.table.retiredSize > 0) this.ageRetired();
    });
  }

  /** Fails what is in flight with a transport error, then closes every socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // those still waiting for their outcome hear of it (completed ones are only absorbing retransmissions)
    for (const txn of this.table.transactions()) {
      if (txn.state === "Trying" || txn.state === "Proceeding")
        txn.transportError(new TransportError("SIP stack closed"));
    }
    for (const txn of this.table.transactions()) txn.abort();
    this.wheel.close();
    if (this.resolver instanceof DnsClient) this.resolver.close();
    await Promise.all(this.sockets.map((s) => (s.kind === "udp" ? s.udp.close() : s.stream.close())));
  }

  private async bind(text: string): Promise<void> {
    const parsed = parseSocketSpec(text);
    if (!parsed.ok) throw parsed.error;
    const spec = parsed.spec;
    if (spec.proto === "udp") {
      const udp = await UdpTransport.bind(
        spec,
        (data, address, port) => this.receive(data, { transport: "udp", address, port }, udp.name),
        this.opts.udpBufferSize !== undefined
          ? { recvBufferSize: this.opts.udpBufferSize, sendBufferSize: this.opts.udpBufferSize }
          : {},
      );
      this.sockets.push({ kind: "udp", spec: udp.spec, name: udp.name, udp });
      this.socketsChanged();
      return;
    }
    const tls = spec.proto === "tls" ? this.tlsOptionsFor(spec) : undefined;
    const stream: StreamTransport = await StreamTransport.listen(
      spec,
      {
        onMessage: (message, from, connectionId) =>
          this.deliver(message, { transport: spec.proto, ...from, connectionId }, stream.name),
        onClosed: (connectionId, error) => {
          this.table.failConnection(connectionId, error);
        },
        isBusy: (connectionId) => this.table.hasConnection(connectionId),
      },
      {
        ...(this.opts.idleMs !== undefined ? { idleMs: this.opts.idleMs } : {}),
        ...(tls !== undefined ? { tls } : {}),
      },
    );
    this.sockets.push({ kind: "stream", spec: stream.spec, name: stream.name, stream });
    this.socketsChanged();
  }

  /** What was derived from the sockets (locate options, hops located on them, forced sockets) is made again. */
  private socketsChanged(): void {
    this.locateOptions = undefined;
    this.hops.clear();
    this.forcedSockets.clear();
  }

  private tlsOptionsFor(spec: SocketSpec): TlsSocketOptions | undefined {
    const name = formatSocketSpec(spec);
    for (const [key, value] of Object.entries(this.opts.tls ?? {})) {
      const p = parseSocketSpec(key);
      if (p.ok && formatSocketSpec(p.spec) === name) return value;
    }
    return undefined;
  }

  private receive(data: Buffer, from: ResponseSource, socket: string): void {
    const parsed = parseMessage(data);
    this.deliver(parsed.ok ? parsed.message : undefined, from, socket);
  }

  private deliver(message: SipMessage | undefined, from: ResponseSource, socket: string): void {
    const match = this.table.match(message, from);
    const result = typeof match === "string" ? match : "delivered";
    if (result === "delivered" && message?.kind === "response") {
      const cls = STATUS_CLASSES[Math.floor(message.status / 100)] ?? `${Math.floor(message.status / 100)}xx`;
      this.counters.responses[cls] = (this.counters.responses[cls] ?? 0) + 1;
    } else if (result !== "delivered") {
      this.log.debug({ from: `${from.address}:${from.port}`, reason: result }, "incoming message dropped");
    }
    this.opts.onWire?.({ direction: "in", socket, peer: { address: from.address, port: from.port }, message, result });
    // the transaction hears it after the trace: what its outcome sets off (the next request) is traced after it
    if (typeof match !== "string" && message?.kind === "response") match.receiveResponse(message);
  }

  /** What the locator needs to know of our sockets; the forced socket's protocol is preferred. */
  private locateOptionsFor(forced: Socket | undefined): LocateOptions {
    if (this.locateOptions === undefined) {
      const available = new Map<TransportProto, Set<4 | 6>>();
      for (const s of this.sockets) {
        let set = available.get(s.spec.proto);
        if (set === undefined) available.set(s.spec.proto, (set = new Set()));
        set.add(s.spec.family);
      }
      this.locateOptions = { available };
    }
    return forced === undefined
      ? this.locateOptions
      : { available: this.locateOptions.available, preferred: forced.spec.proto };
  }

  /** The parsed next hop; parsed once per text (bounded: a table with more hops than that just parses more). */
  private hop(text: string): Hop | SipUriError {
    const cached = this.hops.get(text);
    if (cached !== undefined) return cached;
    const parsed = parseUri(text);
    if (!parsed.ok) return parsed.error;
    // only targets are kept: a refusal (bad transport) is made again for each request, with its own error
    const literal = ServerLocator.locateLiteral(parsed.uri, this.locateOptionsFor(undefined));
    const hop: Hop = { uri: parsed.uri, literal: literal?.ok === true ? literal : undefined };
    if (this.hops.size >= MAX_CACHED_HOPS) this.hops.clear();
    this.hops.set(text, hop);
    return hop;
  }

  private forcedSocket(text: string): Socket | undefined {
    let socket = this.forcedSockets.get(text);
    if (socket === undefined) {
      socket = this.findSocket(text) ?? null;
      if (this.forcedSockets.size >= MAX_CACHED_HOPS) this.forcedSockets.clear();
      this.forcedSockets.set(text, socket);
    }
    return socket ?? undefined;
  }

  private findSocket(text: string): Socket | undefined {
    const p = parseSocketSpec(text);
    if (!p.ok) return undefined;
    const name = formatSocketSpec(p.spec);
    return this.sockets.find((s) => s.name === name || formatSocketSpec(s.spec) === name);
  }

  /**
   * The forced socket when its protocol and address family fit the target (OpenSIPS: a forced socket of
   * another protocol is ignored and a suitable listener picked); otherwise the first socket that fits.
   */
  private pickSocket(target: Target, forced: Socket | undefined): Socket | undefined {
    if (forced !== undefined && forced.spec.proto === target.transport && forced.spec.family === target.family) {
      return forced;
    }
    for (const s of this.sockets) if (s.spec.proto === target.transport && s.spec.family === target.family) return s;
    return undefined;
  }

  /** One client transaction to one target; `done` hears its single outcome, never before this returns. */
  private attempt(req: RegisterRequest, target: Target, chosen: Socket, done: OutcomeCallback): void {
    let socket = chosen;
    let bytes: Buffer;
    const branch = this.newBranch();
    try {
      bytes = serializeRegister(req, viaFor(socket, branch));
      // RFC 3261 §18.1.1: too big for UDP without a known path MTU → a congestion-controlled transport
      if (socket.kind === "udp" && bytes.length > (this.opts.udpSizeLimit ?? 1300)) {
        const tcp = this.sockets.find((s) => s.spec.proto === "tcp" && s.spec.family === socket.spec.family);
        if (tcp !== undefined) {
          socket = tcp;
          bytes = serializeRegister(req, viaFor(socket, branch));
        }
      }
    } catch (err) {
      const error = new TransportError(`REGISTER could not be built: ${(err as Error).message}`, { cause: err });
      return later(done, this.settled(target, transportErrorOutcome(error)));
    }
    const attempt = new Attempt(this.attemptContext, socket, target, branch, done);
    const txn = new NonInviteClientTransaction(bytes, attempt, this.timers, this.wheel, attempt);
    attempt.txn = txn;
    const s = attempt.socket;
    if (s.kind === "stream") {
      try {
        attempt.connectionId = s.stream.connect(attempt.peer, target.hostname);
      } catch (err) {
        // net/tls refuse some destinations synchronously (port 0 from a bad SRV record...)
        this.counters.transportErrors++;
        const error = new TransportError(
          `${s.spec.proto} connect to ${target.address}:${target.port}: ${(err as Error).message}`,
        );
        return later(done, this.settled(target, { kind: "transport-error", error, destination: attempt.destination }));
      }
    }
    // a response must come from where the request went: the attempt's destination says it (plus, over a
    // stream, the connection)
    this.table.add(
      branch,
      "REGISTER",
      txn,
      attempt.connectionId !== undefined
        ? { transport: s.spec.proto, address: target.address, port: target.port, connectionId: attempt.connectionId }
        : attempt.destination,
    );
    this.inFlight++;
    attempt.start();
  }

  private outcome(o: NictOutcome, destination: Destination): SendOutcome {
    switch (o.kind) {
      case "response":
        return { kind: "response", response: o.response, destination };
      case "timeout":
        this.counters.timeouts++;
        return { kind: "timeout", destination };
      case "transport-error":
        this.counters.transportErrors++;
        return { kind: "transport-error", error: o.error, destination };
    }
  }
}

/** Response counter names by status class (`Math.floor(status / 100)`). */
const STATUS_CLASSES: readonly string[] = ["0xx", "1xx", "2xx", "3xx", "4xx", "5xx", "6xx"];

/** Parsed next hops (and forced socket texts) kept by a stack. */
const MAX_CACHED_HOPS = 1024;

/** A parsed next hop, with its target when it is an IP literal and no socket is forced. */
interface Hop {
  readonly uri: SipUri;
  /** `ServerLocator.locateLiteral` of the URI with every socket available when it found targets */
  readonly literal: LocateResult | undefined;
}

interface AttemptContext {
  readonly counters: { sent: number; retransmissions: number; transportErrors: number };
  readonly onWire: ((event: WireEvent) => void) | undefined;
  /** The transaction's outcome, made a SendOutcome; the transaction is no longer pending. */
  readonly finished: (o: NictOutcome, attempt: Attempt) => SendOutcome;
  readonly terminated: (branch: string) => void;
  /** Terminated after a final response over UDP: the table absorbs its retransmissions instead (Timer K). */
  readonly retired: (branch: string, sentTo: Target) => void;
}

/**
 * One client transaction to one target, as the transaction's wire (how its request goes out) and hooks (its
 * outcome resolves the attempt's promise; its end removes it from the table): one object per transaction
 * instead of a closure for each role.
 */
class Attempt implements NictWire, NictHooks {
  readonly reliable: boolean;
  readonly destination: Destination;
  readonly peer: Peer;
  txn: NonInviteClientTransaction | undefined;
  connectionId: number | undefined;
  readonly ownerAbsorbsRetransmissions = true;
  private first = true;
  private answered = false;
  /** inside `txn.start()`: a send failing at once must not call `done` before the stack's `start` returns */
  private starting = false;

  constructor(
    private readonly ctx: AttemptContext,
    readonly socket: Socket,
    readonly target: Target,
    private readonly branch: string,
    private done: OutcomeCallback | undefined,
  ) {
    this.reliable = socket.kind === "stream";
    this.destination = {
      transport: socket.spec.proto,
      address: target.address,
      port: target.port,
      socket: socket.name,
    };
    this.peer = { address: target.address, port: target.port };
  }

  send(bytes: Buffer): void {
    const retransmission = !this.first;
    this.first = false;
    if (retransmission) this.ctx.counters.retransmissions++;
    else this.ctx.counters.sent++;
    const s = this.socket;
    const peer = this.peer;
    this.ctx.onWire?.({ direction: "out", socket: s.name, peer, bytes, retransmission });
    if (s.kind === "udp") {
      s.udp.send(bytes, peer, this);
    } else if (this.connectionId === undefined || !s.stream.write(this.connectionId, bytes)) {
      this.failed(new TransportError(`${s.spec.proto} connection to ${peer.address}:${peer.port} is gone`));
    }
  }

  /** Starts the transaction (sends its request). */
  start(): void {
    this.starting = true;
    try {
      this.txn?.start();
    } finally {
      this.starting = false;
    }
  }

  /** The transport could not deliver: the transaction ends with a transport error. */
  failed(error: TransportError): void {
    this.txn?.transportError(error);
  }

  onOutcome(o: NictOutcome): void {
    const done = this.done;
    if (this.txn === undefined || done === undefined) return;
    // one outcome only: whatever the transaction hears after this (a late transport error) is not passed on
    this.done = undefined;
    this.answered = o.kind === "response";
    const outcome = this.ctx.finished(o, this);
    if (this.starting) later(done, outcome);
    else done(outcome);
  }

  onTerminated(): void {
    // the target, shared by the attempts to one hop, is all the table keeps (not this attempt)
    if (this.answered && !this.reliable) this.ctx.retired(this.branch, this.target);
    else this.ctx.terminated(this.branch);
  }
}

/** `done(outcome)` once the current call has returned (an outcome known at once is not told from within `start`). */
function later(done: OutcomeCallback, outcome: SendOutcome): void {
  queueMicrotask(() => done(outcome));
}

/** `done` hears what the promise settles with; a rejection is a transport error. */
function settle(sent: Promise<SendOutcome>, done: OutcomeCallback): void {
  sent.then(done, (err: unknown) => done(transportErrorOutcome(err)));
}

function noSocketFor(target: Target): SendOutcome {
  return transportErrorOutcome(
    new SocketNotConfiguredError(`no ${target.transport} IPv${target.family} socket configured for ${target.address}`),
  );
}

function viaFor(socket: Socket, branch: string): ViaSpec {
  return {
    transport: socket.spec.proto === "udp" ? "UDP" : socket.spec.proto === "tcp" ? "TCP" : "TLS",
    host: socket.spec.host,
    port: socket.spec.port,
    branch,
    rport: true,
  };
}

/**
 * §8.1.1.7: unique in space and time. 64 random bits per stack plus a counter: unique without a
 * crypto call per transaction (randomFillSync was 2.6% of the benchmark's CPU).
 */
function branchGenerator(): () => string {
  const prefix = `${BRANCH_COOKIE}${randomBytes(8).toString("hex")}.`;
  let n = 0;
  return () => prefix + (n++).toString(36);
}
