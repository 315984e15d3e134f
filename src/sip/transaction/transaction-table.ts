import { systemClock } from "../../clock.js";
import type { Clock } from "../../clock.js";
import type { TransportError } from "../../errors.js";
import { parseCSeq, topViaBranch } from "../headers.js";
import type { SipMessage } from "../message.js";
import { headerValue } from "../message.js";
import type { TransportProto } from "../transport/socket-spec.js";
import type { NonInviteClientTransaction } from "./non-invite-client.js";
import { RFC_TIMERS } from "./timers.js";

/** Where a response came from: the transport, the peer, and for TCP/TLS the connection it arrived on. */
export interface ResponseSource {
  readonly transport: TransportProto;
  readonly address: string;
  readonly port: number;
  readonly connectionId?: number;
}

/** Why an incoming message reached no transaction. */
export type DropReason = "unparsable" | "unmatched" | "spoofed";

export type DispatchResult = "delivered" | DropReason;

interface Entry {
  /** CSeq method, upper-cased */
  readonly method: string;
  readonly txn: NonInviteClientTransaction;
  readonly destination: ResponseSource;
  /** Another open transaction on the same branch with another method (a CANCEL shares its INVITE's branch). */
  next: Entry | undefined;
  open: boolean;
}

/**
 * Open client transactions, keyed as RFC 3261 §17.1.3 matches responses: the branch of the top Via plus the
 * CSeq method. On top of the RFC rule, a response must come from where the request went (same transport,
 * address and port; over TCP/TLS, also accepted on the connection the request used): anyone on the path can
 * read a branch off a UDP REGISTER, so this keeps a forged 200 or 401 from another host or port away from the
 * registrant. Whatever reaches no transaction is dropped and counted, never delivered.
 *
 * Keyed by the branch alone, the method checked on the entry: no key string is built per request or response.
 */
export class TransactionTable {
  private readonly byBranch = new Map<string, Entry>();
  private readonly byConnection = new Map<number, Set<Entry>>();
  private count = 0;
  readonly dropped: Record<DropReason, number> = { unparsable: 0, unmatched: 0, spoofed: 0 };
  /**
   * Retired transactions (`retire`): branch → where the request went, in two generations that each last
   * `absorbMs`, so a branch is remembered for one to two `absorbMs`. A generation entry instead of a transaction,
   * its attempt and its timers kept through Timer K: a storm of 20,000 transactions a second no longer promotes
   * 100,000 of those to V8's old generation every 5 s (docs/performance.md, "Memory").
   */
  private retired = new RetiredGeneration();
  private retiredBefore = new RetiredGeneration();
  private retiredSince: number;

  constructor(
    private readonly clock: Clock = systemClock,
    private readonly absorbMs: number = RFC_TIMERS.t4,
  ) {
    this.retiredSince = clock.monoMs();
  }

  get size(): number {
    return this.count;
  }

  add(branch: string, method: string, txn: NonInviteClientTransaction, destination: ResponseSource): void {
    const upper = upperCaseMethod(method);
    const head = this.byBranch.get(branch);
    if (find(head, upper) !== undefined) throw new Error(`transaction ${branch}\n${upper} already open`);
    const entry: Entry = { method: upper, txn, destination, next: head, open: true };
    this.byBranch.set(branch, entry);
    this.count++;
    if (destination.connectionId !== undefined) {
      let set = this.byConnection.get(destination.connectionId);
      if (set === undefined) this.byConnection.set(destination.connectionId, (set = new Set()));
      set.add(entry);
    }
  }

  remove(branch: string, method: string): void {
    const upper = upperCaseMethod(method);
    let prev: Entry | undefined;
    let entry = this.byBranch.get(branch);
    while (entry !== undefined && entry.method !== upper) {
      prev = entry;
      entry = entry.next;
    }
    if (entry === undefined) return;
    if (prev !== undefined) prev.next = entry.next;
    else if (entry.next !== undefined) this.byBranch.set(branch, entry.next);
    else this.byBranch.delete(branch);
    entry.open = false;
    this.count--;
    const conn = entry.destination.connectionId;
    if (conn !== undefined) {
      const set = this.byConnection.get(conn);
      set?.delete(entry);
      if (set?.size === 0) this.byConnection.delete(conn);
    }
  }

  /**
   * Removes a transaction that got its final response and remembers its branch for at least `absorbMs`: a
   * retransmission of that response from where the request went is absorbed ("delivered" to nobody), as the
   * Completed state does through Timer K (§17.1.2.2); from anywhere else it is spoofed.
   */
  retire(branch: string, method: string, sentTo: ResponseSource): void {
    this.remove(branch, method);
    this.age();
    this.retired.add(branch, sentTo);
  }

  /** Hands a parsed message to its transaction; a parse failure is passed as `undefined`. */
  dispatch(message: SipMessage | undefined, from: ResponseSource): DispatchResult {
    const match = this.match(message, from);
    if (typeof match === "string") return match;
    if (message?.kind === "response") match.receiveResponse(message);
    return "delivered";
  }

  /**
   * `dispatch` without the delivery: the transaction the message answers, or what became of the message (an
   * absorbed retransmission is "delivered"; drops are counted). The stack reports the message before the
   * transaction hears it, so whatever its outcome sets off comes after that report.
   */
  match(message: SipMessage | undefined, from: ResponseSource): NonInviteClientTransaction | DispatchResult {
    if (message === undefined) return this.drop("unparsable");
    // a request (OPTIONS keep-alive, NOTIFY...) is no answer to anything we sent
    if (message.kind !== "response") return this.drop("unmatched");
    // §17.1.3: top Via branch + CSeq method
    const viaText = headerValue(message, "via");
    const cseqText = headerValue(message, "cseq");
    if (viaText === undefined || cseqText === undefined) return this.drop("unparsable");
    const branch = topViaBranch(viaText);
    const cseq = parseCSeq(cseqText);
    if (branch === undefined || !cseq.ok) return this.drop("unparsable");
    const entry = find(this.byBranch.get(branch), upperCaseMethod(cseq.method));
    if (entry === undefined) return this.absorb(branch, from);
    return sameSource(entry.destination, from) ? entry.txn : this.drop("spoofed");
  }

  /** §18.4 / issue: a broken TCP/TLS connection fails its transactions at once, not at Timer F. */
  failConnection(connectionId: number, error: TransportError): number {
    const entries = this.byConnection.get(connectionId);
    if (entries === undefined) return 0;
    this.byConnection.delete(connectionId);
    let n = 0;
    for (const entry of [...entries]) {
      // one failing transaction may end another (its owner's reaction): only the ones still open count
      if (!entry.open) continue;
      n++;
      entry.txn.transportError(error);
    }
    return n;
  }

  /** True while a transaction is tied to this TCP/TLS connection. */
  hasConnection(connectionId: number): boolean {
    return this.byConnection.has(connectionId);
  }

  /** Every open transaction (for shutdown). */
  transactions(): NonInviteClientTransaction[] {
    const out: NonInviteClientTransaction[] = [];
    for (const head of this.byBranch.values()) {
      for (let e: Entry | undefined = head; e !== undefined; e = e.next) out.push(e.txn);
    }
    return out;
  }

  /** A response to no open transaction: a retransmission for a retired one, or unmatched. */
  private absorb(branch: string, from: ResponseSource): DispatchResult {
    this.age();
    const sentTo = this.retired.find(branch) ?? this.retiredBefore.find(branch);
    if (sentTo === undefined) return this.drop("unmatched");
    return sameSource(sentTo, from) ? "delivered" : this.drop("spoofed");
  }

  /** Retired branches still remembered. */
  get retiredSize(): number {
    return this.retired.size + this.retiredBefore.size;
  }

  /** Starts a new generation of retired branches once the current one is `absorbMs` old (the owner calls it when idle). */
  age(): void {
    const now = this.clock.monoMs();
    const elapsed = now - this.retiredSince;
    if (elapsed < this.absorbMs) return;
    this.retiredBefore = elapsed < 2 * this.absorbMs ? this.retired : new RetiredGeneration();
    this.retired = new RetiredGeneration();
    this.retiredSince = now;
  }

  private drop(reason: DropReason): DropReason {
    this.dropped[reason]++;
    return reason;
  }
}

/**
 * One generation of retired branches. They are appended to two arrays, and put in a Map only when a response to
 * no open transaction is looked up (a retransmitted final response, a stray or a spoof: rare), and from then on
 * as they come. In a storm every transaction retires and almost none is looked up: a Map insert into a table of
 * 100,000 entries, growing, was 2.3 % of the storm's CPU samples (perf); an array push is a store.
 */
class RetiredGeneration {
  private readonly branches: string[] = [];
  private readonly sources: ResponseSource[] = [];
  private index: Map<string, ResponseSource> | undefined;

  get size(): number {
    return this.branches.length + (this.index?.size ?? 0);
  }

  add(branch: string, sentTo: ResponseSource): void {
    if (this.index !== undefined) {
      this.index.set(branch, sentTo);
      return;
    }
    this.branches.push(branch);
    this.sources.push(sentTo);
  }

  find(branch: string): ResponseSource | undefined {
    if (this.index === undefined) this.index = this.indexed();
    return this.index.get(branch);
  }

  /** The branches added so far in a Map (a branch retired twice: the later source, as Map.set would keep). */
  private indexed(): Map<string, ResponseSource> {
    const index = new Map<string, ResponseSource>();
    for (let i = 0; i < this.branches.length; i++) index.set(this.branches[i]!, this.sources[i]!);
    this.branches.length = 0;
    this.sources.length = 0;
    return index;
  }
}

/** `method.toUpperCase()`, without a call into the runtime for a method already in capitals (all of ours). */
function upperCaseMethod(method: string): string {
  for (let i = 0; i < method.length; i++) {
    const c = method.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || c > 0x7f) return method.toUpperCase();
  }
  return method;
}

/** The entry of `method` in a branch's list. */
function find(head: Entry | undefined, method: string): Entry | undefined {
  let e = head;
  while (e !== undefined && e.method !== method) e = e.next;
  return e;
}

function sameSource(dest: ResponseSource, from: ResponseSource): boolean {
  if (dest.transport !== from.transport) return false;
  if (dest.connectionId !== undefined && dest.connectionId === from.connectionId) return true;
  return dest.port === from.port && dest.address === from.address;
}
