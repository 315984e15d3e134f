import { toError } from "../errors.js";
import type { SipResponse } from "./message.js";

/**
 * The port between the registrant engine and the SIP stack: the engine describes one REGISTER, the stack picks
 * the target (RFC 3263) and the socket, adds the Via, runs the non-INVITE client transaction and resolves with
 * exactly one final outcome.
 */
export interface RegisterRequest {
  /** Request-URI: the registrar. */
  readonly requestUri: string;
  /** Outbound proxy URI (next hop only), when the record has one. */
  readonly proxy?: string | undefined;
  /** OpenSIPS socket string (`udp:1.2.3.4:5060`) the request must leave from. */
  readonly forcedSocket?: string | undefined;
  /** To URI (the AOR). */
  readonly to: string;
  /** From URI (third_party_registrant or the AOR). */
  readonly from: string;
  readonly fromTag: string;
  readonly callId: string;
  readonly cseq: number;
  /**
   * The binding: `<uri>` + params verbatim + `;expires=N`, or `"*"` for removing every binding
   * (then the request carries `Expires: 0`).
   */
  readonly contact: { readonly uri: string; readonly params: string; readonly expiresSec: number } | "*";
  readonly userAgent?: string | undefined;
  /** A computed credentials header for a 401 (Authorization) or a 407 (Proxy-Authorization). */
  readonly authorization?:
    { readonly header: "Authorization" | "Proxy-Authorization"; readonly value: string } | undefined;
}

/** Where a request actually went (shown by MI `list` as `dst_IP`/`ip` and `socket`). */
export interface Destination {
  readonly transport: "udp" | "tcp" | "tls";
  readonly address: string;
  readonly port: number;
  /** `proto:ip:port` of the local socket used, as OpenSIPS prints it. */
  readonly socket: string;
}

export type SendOutcome =
  | { readonly kind: "response"; readonly response: SipResponse; readonly destination: Destination }
  /** Timer F fired on every target tried (OpenSIPS fakes a 408). */
  | { readonly kind: "timeout"; readonly destination?: Destination }
  /** Nothing could be sent or the connection broke: DNS failure, no socket, refused connection... */
  | { readonly kind: "transport-error"; readonly error: Error; readonly destination?: Destination };

export interface SipClient {
  send(request: RegisterRequest): Promise<SendOutcome>;
  /**
   * `send` without the promise, where the client has it (the SIP stack): the outcome goes to `done`, never before
   * `start` returns, and `start` never throws. The send pacer uses it: no promise, reaction and microtask per
   * transaction.
   */
  start?(request: RegisterRequest, done: OutcomeCallback): void;
}

/** Takes the one outcome of a transaction. */
export type OutcomeCallback = (outcome: SendOutcome) => void;

/**
 * Starts one transaction for `request` (counted by the client that handed it out) and calls `done` once with its
 * outcome, never before it returns. A callback rather than a promise: the outcome reaches the engine in the
 * client's own reaction, with no promise (and no microtask) per layer; a storm runs two transactions per record.
 */
export type StartTransaction = (request: RegisterRequest, done: OutcomeCallback) => void;

/** Sees every transaction end (trace, metrics): its request, its outcome and how long it took on the monotonic clock. */
export type TransactionObserver = (request: RegisterRequest, outcome: SendOutcome, durationMs: number) => void;

/** A send that failed by throwing or rejecting, as the engine sees it. */
export function transportErrorOutcome(error: unknown): SendOutcome {
  return { kind: "transport-error", error: toError(error) };
}

/**
 * Called once when a deferred send gets its slot: it builds the request now and starts it with `start`, or starts
 * nothing when the send is no longer wanted.
 */
export type OnSlot<T> = (item: T, start: StartTransaction) => void;

/**
 * A client that can hold a send until it has room (the send pacer). The request is built only when it leaves the
 * queue, so a registration storm keeps one pointer per waiting record instead of a built request and its promises.
 */
export interface DeferringSipClient extends SipClient {
  /**
   * `urgent`: the send answers a reply just received (a challenge): it goes ahead of the sends waiting for their
   * first slot, so a registration under way completes, with a fresh nonce, before new ones start.
   */
  defer<T>(nextHop: string, item: T, onSlot: OnSlot<T>, urgent?: boolean): void;
}

export function isDeferring(client: SipClient): client is DeferringSipClient {
  return typeof (client as Partial<DeferringSipClient>).defer === "function";
}
