import type { TransportError } from "../../errors.js";
import { parseCSeq, parseVia } from "../headers.js";
import type { SipMessage, SipResponse } from "../message.js";
import { headerValue } from "../message.js";
import type { TransportProto } from "../transport/socket-spec.js";
import type { NonInviteClientTransaction } from "./non-invite-client.js";

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
  readonly txn: NonInviteClientTransaction;
  readonly destination: ResponseSource;
}

/**
 * Open client transactions, keyed as RFC 3261 §17.1.3 matches responses: the branch of the top Via plus the
 * CSeq method. On top of the RFC rule, a response must come from where the request went (same transport,
 * address and port; over TCP/TLS, also accepted on the connection the request used): anyone on the path can
 * read a branch off a UDP REGISTER, so this keeps a forged 200 or 401 from another host or port away from the
 * registrant. Whatever reaches no transaction is dropped and counted, never delivered.
 */
export class TransactionTable {
  private readonly byKey = new Map<string, Entry>();
  private readonly byConnection = new Map<number, Set<string>>();
  readonly dropped: Record<DropReason, number> = { unparsable: 0, unmatched: 0, spoofed: 0 };

  get size(): number {
    return this.byKey.size;
  }

  add(branch: string, method: string, txn: NonInviteClientTransaction, destination: ResponseSource): void {
    const key = keyOf(branch, method);
    if (this.byKey.has(key)) throw new Error(`transaction ${key} already open`);
    this.byKey.set(key, { txn, destination });
    if (destination.connectionId !== undefined) {
      let set = this.byConnection.get(destination.connectionId);
      if (set === undefined) this.byConnection.set(destination.connectionId, (set = new Set()));
      set.add(key);
    }
  }

  remove(branch: string, method: string): void {
    const key = keyOf(branch, method);
    const entry = this.byKey.get(key);
    if (entry === undefined) return;
    this.byKey.delete(key);
    const conn = entry.destination.connectionId;
    if (conn !== undefined) {
      const set = this.byConnection.get(conn);
      set?.delete(key);
      if (set?.size === 0) this.byConnection.delete(conn);
    }
  }

  /** Hands a parsed message to its transaction; a parse failure is passed as `undefined`. */
  dispatch(message: SipMessage | undefined, from: ResponseSource): DispatchResult {
    if (message === undefined) return this.drop("unparsable");
    // a request (OPTIONS keep-alive, NOTIFY...) is no answer to anything we sent
    if (message.kind !== "response") return this.drop("unmatched");
    const key = responseKey(message);
    if (key === undefined) return this.drop("unparsable");
    const entry = this.byKey.get(key);
    if (entry === undefined) return this.drop("unmatched");
    if (!sameSource(entry.destination, from)) return this.drop("spoofed");
    entry.txn.receiveResponse(message);
    return "delivered";
  }

  /** §18.4 / issue: a broken TCP/TLS connection fails its transactions at once, not at Timer F. */
  failConnection(connectionId: number, error: TransportError): number {
    const keys = this.byConnection.get(connectionId);
    if (keys === undefined) return 0;
    this.byConnection.delete(connectionId);
    let n = 0;
    for (const key of [...keys]) {
      const entry = this.byKey.get(key);
      if (entry === undefined) continue;
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
    return [...this.byKey.values()].map((e) => e.txn);
  }

  private drop(reason: DropReason): DropReason {
    this.dropped[reason]++;
    return reason;
  }
}

function keyOf(branch: string, method: string): string {
  return `${branch}\n${method.toUpperCase()}`;
}

/** §17.1.3: top Via branch + CSeq method, or undefined when either cannot be read. */
function responseKey(res: SipResponse): string | undefined {
  const viaText = headerValue(res, "via");
  const cseqText = headerValue(res, "cseq");
  if (viaText === undefined || cseqText === undefined) return undefined;
  const via = parseVia(viaText);
  const cseq = parseCSeq(cseqText);
  if (!via.ok || !cseq.ok) return undefined;
  const branch = via.vias[0]?.branch;
  if (branch === undefined) return undefined;
  return keyOf(branch, cseq.method);
}

function sameSource(dest: ResponseSource, from: ResponseSource): boolean {
  if (dest.transport !== from.transport) return false;
  if (dest.connectionId !== undefined && dest.connectionId === from.connectionId) return true;
  return dest.port === from.port && dest.address === from.address;
}
