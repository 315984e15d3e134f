import type { Clock } from "../clock.js";
import { toError } from "../errors.js";
import type { Logger } from "../log.js";
import type { SipResponse } from "../sip/message.js";
import { isDeferring, transportErrorOutcome } from "../sip/sip-client.js";
import type {
  DeferringSipClient,
  RegisterRequest,
  SendOutcome,
  SipClient,
  StartTransaction,
} from "../sip/sip-client.js";
import { CALL_ID_LENGTH, cryptoRandInt, newDialogHex } from "./dialog-ids.js";
import type { RandomInt } from "./dialog-ids.js";
import { DestinationPool } from "./destinations.js";
import type { EngineOptions } from "./engine-options.js";
import { MAX_CALL_ID_LENGTH, SendKind } from "./record.js";
import type { RegistrantRecord, SendKindValue } from "./record.js";
import type { RecordSpec } from "./record-spec.js";
import { buildRegister } from "./register-request.js";
import { grantedExpires, minExpires, retryAfterSec } from "./response.js";
import type { ReplyReaders } from "./response.js";
import { RegState, isWaiting, stateName } from "./state.js";
import type { RegStateValue } from "./state.js";
import type { StateChange } from "./state-change.js";

type Cause = NonNullable<StateChange["cause"]>;
type Authorization = NonNullable<RegisterRequest["authorization"]>;
type Credentials = { readonly username: string; readonly password: string };

/** 423 retries allowed in one registration cycle (OpenSIPS has no limit, reference §11.11). */
const MAX_INTERVAL_RETRIES = 2;

export interface MachineDeps {
  readonly options: EngineOptions;
  readonly sip: SipClient;
  readonly clock: Clock;
  readonly log: Logger;
  readonly readers: ReplyReaders;
  /** the record's next check time may have changed */
  readonly reschedule: (rec: RegistrantRecord) => void;
  /** one state change happened */
  readonly emit: (change: StateChange) => void;
  /** the cluster gate (reference §10) */
  readonly gateOpen: (rec: RegistrantRecord) => boolean;
  /** a detached record finished its last transaction */
  readonly onSettled?: (rec: RegistrantRecord) => void;
  /** `rand()` for Call-IDs */
  readonly rand?: RandomInt;
  /** uniform [0,1) for the backoff jitter */
  readonly jitter?: () => number;
}

/** The dialog of a binding registered by another node, as the cluster layer saved it. */
export interface ResumedDialog {
  readonly callId: string;
  readonly fromTag: string;
  /** the next REGISTER carries cseq + 1 */
  readonly cseq: number;
  readonly expiresSec: number;
  readonly lastRegisterSentSec: number;
  /** refresh deadline (Unix s): refreshed once now + timer_interval >= it */
  readonly registrationTimeoutSec: number;
}

const { NOT_REGISTERED_STATE, REGISTERING_STATE, AUTHENTICATING_STATE, REGISTERED_STATE } = RegState;
const { REGISTER_TIMEOUT_STATE, INTERNAL_ERROR_STATE, WRONG_CREDENTIALS_STATE, REGISTRAR_ERROR_STATE } = RegState;
const { UNREGISTERING_STATE, AUTHENTICATING_UNREGISTER_STATE } = RegState;

const isUnregistering = (s: RegStateValue): boolean =>
  s === UNREGISTERING_STATE || s === AUTHENTICATING_UNREGISTER_STATE;
const isRegistering = (s: RegStateValue): boolean => s === REGISTERING_STATE || s === AUTHENTICATING_STATE;

/** the spec itself is the credentials argument: no object per challenge */
const hasCredentials = (spec: RecordSpec): spec is RecordSpec & Credentials =>
  spec.username !== undefined && spec.username !== "" && spec.password !== undefined && spec.password !== "";

/**
 * The cause of a change made by a final response. Built only where a change reports it: the common paths (a 401
 * answered, a 200 registered) never did use it.
 */
function replyCause(res: SipResponse, destination: string, detail?: string): Cause {
  return detail === undefined
    ? { status: res.status, reason: res.reason, destination }
    : { status: res.status, reason: res.reason, destination, detail };
}

/**
 * The registrant state machine of reference §4-§5. `transition()` (OpenSIPS `reg_change_state`) changes
 * `record.state` through `setState()`, the only place that writes it, and every call emits one StateChange, even
 * into the same state. Every public entry point reads the clock once, passes that time down, and ends with
 * `settle()`, which hands the record back to the scheduler.
 */
export class RegistrantMachine {
  private txCounter = 0;
  private readonly rand: RandomInt;
  private readonly jitter: () => number;
  private readonly sip: Pick<DeferringSipClient, "defer">;
  private readonly destinations = new DestinationPool();
  /** equal strings are equal URIs (RFC 3261 §19.1.4): a registrar echoing our Contact costs no URI parsing */
  private readonly urisEqual = (a: string, b: string): boolean => a === b || this.deps.readers.urisEqual(a, b);

  constructor(private readonly deps: MachineDeps) {
    this.rand = deps.rand ?? cryptoRandInt;
    this.jitter = deps.jitter ?? Math.random;
    const sip = deps.sip;
    // a client without a queue of its own gives every send its slot at once
    const start: StartTransaction = (r, done) =>
      void sip.send(r).then(done, (error: unknown) => done(transportErrorOutcome(error)));
    this.sip = isDeferring(sip) ? sip : { defer: (_hop, item, onSlot) => onSlot(item, start) };
  }

  /** Fresh Call-ID and From-tag, CSeq restarts (reference §5.5). */
  private newDialog(rec: RegistrantRecord, nowMs: number): void {
    rec.setDialog(newDialogHex(rec.aor, toSec(nowMs), this.rand), CALL_ID_LENGTH);
    rec.cseq = 0;
  }

  /** The timer's visit (reference §4); the scheduler has already applied the cluster gate. */
  tick(rec: RegistrantRecord): void {
    this.visit(rec, this.deps.clock.nowMs());
    this.settle(rec);
  }

  /** MI enable, memory part (reference §5.6): register at once from NOT_REGISTERED, inside the cluster gate. */
  enable(rec: RegistrantRecord): void {
    if (rec.enabled) return;
    rec.enabled = true;
    if (rec.state === NOT_REGISTERED_STATE && this.deps.gateOpen(rec)) {
      const nowMs = this.deps.clock.nowMs();
      this.newDialog(rec, nowMs);
      this.register(rec, SendKind.register, nowMs);
    }
    this.settle(rec);
  }

  /** MI disable, memory part: unREGISTER at once from REGISTERED; elsewhere the running machine picks it up. */
  disable(rec: RegistrantRecord): void {
    if (!rec.enabled) return;
    rec.enabled = false;
    if (rec.state === REGISTERED_STATE) this.unregister(rec, SendKind.unregister, this.deps.clock.nowMs());
    this.settle(rec);
  }

  /**
   * MI force_register (reference §5.6, §11.15): clears the deadline; with `forceRegisterImmediate` the REGISTER
   * goes out now when the cluster gate is open, otherwise at the next tick of the bucket.
   */
  forceRegister(rec: RegistrantRecord): void {
    if (!rec.enabled || isWaiting(rec.state)) return;
    rec.registrationTimeoutSec = 0;
    if (this.deps.options.forceRegisterImmediate && this.deps.gateOpen(rec)) this.visit(rec, this.deps.clock.nowMs());
    this.settle(rec);
  }

  /** Reload/upsert of an enabled REGISTERED record: the new record continues the old dialog silently (§7.4-7.5). */
  inherit(next: RegistrantRecord, old: RegistrantRecord): void {
    next.copyDialog(old);
    next.cseq = old.cseq;
    next.lastRegisterSentSec = old.lastRegisterSentSec;
    next.registrationTimeoutSec = old.registrationTimeoutSec;
    next.expiresSec = old.expiresSec;
    next.socket = old.socket;
    next.destination = old.destination;
    this.setState(next, old.state); // silently: OpenSIPS raises nothing for the copy
    this.settle(next);
  }

  /** Take the binding back now if the record is registered (reload/upsert turning a record off, removal). */
  unbind(rec: RegistrantRecord): void {
    if (rec.state === REGISTERED_STATE) this.unregister(rec, SendKind.unregister, this.deps.clock.nowMs());
    this.settle(rec);
  }

  /** The wall clock jumped by `deltaSec`: keep the deadlines where they were relative to the present. */
  shiftTimes(rec: RegistrantRecord, deltaSec: number): void {
    if (rec.registrationTimeoutSec !== 0) rec.registrationTimeoutSec += deltaSec;
    if (rec.lastRegisterSentSec !== 0) rec.lastRegisterSentSec += deltaSec;
    this.settle(rec);
  }

  /**
   * Cluster takeover (docs/clustering.md): continue a binding another node registered, with its Call-ID, From-tag
   * and a higher CSeq, as REGISTERED until the saved refresh deadline. Only from an idle NOT_REGISTERED record.
   */
  resume(rec: RegistrantRecord, saved: ResumedDialog): boolean {
    if (!rec.enabled || rec.state !== NOT_REGISTERED_STATE || rec.pendingTx !== 0) return false;
    if (saved.callId.length > MAX_CALL_ID_LENGTH) return false; // not one of ours: register afresh
    rec.setDialog(saved.callId + saved.fromTag, saved.callId.length);
    rec.cseq = saved.cseq;
    rec.expiresSec = saved.expiresSec;
    rec.lastRegisterSentSec = saved.lastRegisterSentSec;
    rec.registrationTimeoutSec = saved.registrationTimeoutSec;
    rec.failures = 0;
    this.transition(rec, REGISTERED_STATE, this.deps.clock.nowMs(), {
      expiresSec: saved.expiresSec,
      detail: "resumed after sharing tag takeover",
    });
    this.settle(rec);
    return true;
  }

  /** The sharing tag went BACKUP: NOT_REGISTERED, no SIP; a reply still in flight is dropped (§10, §11.27). */
  shtagBackup(rec: RegistrantRecord): void {
    rec.pendingTx = 0;
    this.transition(rec, NOT_REGISTERED_STATE, this.deps.clock.nowMs(), { detail: "sharing tag is backup" });
    this.settle(rec);
  }

  private visit(rec: RegistrantRecord, nowMs: number): void {
    if (isWaiting(rec.state)) return;
    const now = toSec(nowMs);
    switch (rec.state) {
      case REGISTER_TIMEOUT_STATE:
      case INTERNAL_ERROR_STATE:
      case WRONG_CREDENTIALS_STATE:
      case REGISTRAR_ERROR_STATE:
        if (now < rec.registrationTimeoutSec) return;
        if (rec.enabled) {
          // OpenSIPS: every retry after an error starts a new dialog (reference §4)
          this.newDialog(rec, nowMs);
          this.register(rec, SendKind.register, nowMs);
        } else {
          this.unregister(rec, SendKind.unregister, nowMs);
        }
        return;
      case REGISTERED_STATE:
        // 4.0: refresh one TI early, `now + TI >= registration_timeout`
        if (now + this.deps.options.timerIntervalSec < rec.registrationTimeoutSec) return;
        if (rec.enabled) this.register(rec, SendKind.register, nowMs);
        return;
      case NOT_REGISTERED_STATE:
        if (rec.enabled) this.register(rec, SendKind.register, nowMs);
        return;
      case REGISTERING_STATE:
      case AUTHENTICATING_STATE:
      case UNREGISTERING_STATE:
      case AUTHENTICATING_UNREGISTER_STATE:
        return;
    }
  }

  // ---- sending ----

  private register(rec: RegistrantRecord, kind: SendKindValue, nowMs: number, auth?: Authorization): void {
    // a record gets its dialog with its first request (an MD5 per record made a million-row load 1-2 s longer)
    if (!rec.hasDialog) this.newDialog(rec, nowMs);
    if (kind === SendKind.register) {
      rec.staleRetries = 0;
      rec.intervalRetries = 0;
    }
    rec.cseq++;
    rec.lastRegisterSentSec = toSec(nowMs);
    const to = auth === undefined ? REGISTERING_STATE : AUTHENTICATING_STATE;
    this.transition(rec, to, nowMs);
    this.send(rec, kind, auth);
  }

  private unregister(rec: RegistrantRecord, kind: SendKindValue, nowMs: number, auth?: Authorization): void {
    if (!rec.hasDialog) this.newDialog(rec, nowMs);
    if (auth === undefined) rec.staleRetries = 0;
    rec.cseq++;
    this.transition(rec, auth === undefined ? UNREGISTERING_STATE : AUTHENTICATING_UNREGISTER_STATE, nowMs);
    this.send(rec, kind, auth);
  }

  /**
   * A new transaction for the record. The request is built when the SIP client gives it a slot (at once, or when
   * it leaves the send queue), from the record as it is then: only what differs per send is kept meanwhile.
   */
  private send(rec: RegistrantRecord, kind: SendKindValue, auth: Authorization | undefined): void {
    rec.pendingTx = ++this.txCounter;
    rec.pendingKind = kind;
    rec.pendingAuth = auth;
    // still queued from a transaction that was dropped since (sharing tag backup): that place in line serves this one
    if (rec.sendQueued) return;
    rec.sendQueued = true;
    // a challenge answer (or a 423 retry) goes first: the registration under way completes before new ones start,
    // its nonce still fresh, and its credentials are not kept while a storm's queue drains
    this.sip.defer(
      rec.spec.proxy ?? rec.registrar,
      rec,
      this.onSlot,
      kind === SendKind.registerRetry || auth !== undefined,
    );
  }

  private readonly onSlot = (rec: RegistrantRecord, start: StartTransaction): void => {
    rec.sendQueued = false;
    const tx = rec.pendingTx;
    if (tx === 0) return; // dropped while it waited: nobody would read the outcome
    const kind = rec.pendingKind;
    const expires = kind === SendKind.unregisterAll ? "*" : kind === SendKind.unregister ? 0 : rec.wantedExpiresSec;
    const request = buildRegister(rec, expires, this.deps.options.userAgent, rec.pendingAuth);
    rec.pendingAuth = undefined;
    try {
      start(request, (o) => this.onOutcome(rec, tx, o));
    } catch (error) {
      queueMicrotask(() => this.onOutcome(rec, tx, transportErrorOutcome(error)));
    }
  };

  // ---- outcomes (reference §5.2) ----

  private onOutcome(rec: RegistrantRecord, tx: number, outcome: SendOutcome): void {
    if (rec.pendingTx !== tx) {
      // replaced, forgotten or moved on since (each of them drops the pending transaction): OpenSIPS's "record
      // not found on hash index"
      this.deps.log.debug({ recordId: rec.id }, "reply for a record that is gone or moved on: dropped");
      return;
    }
    rec.pendingTx = 0;
    const kind = rec.pendingKind;
    // one clock read for everything this outcome changes (deadlines, the dialog, the changes' times)
    const nowMs = this.deps.clock.nowMs();
    try {
      if (outcome.destination !== undefined) rec.socket = outcome.destination.socket;
      switch (outcome.kind) {
        case "timeout":
          // tm's faked 408: forget the learned destination so the next try locates the registrar again
          rec.destination = undefined;
          this.fail(rec, REGISTER_TIMEOUT_STATE, "retry", nowMs, { status: 408, reason: "Request Timeout" });
          break;
        case "transport-error":
          // send errors: the tick/enable paths set the retry deadline, the others leave it (reference §5.2)
          this.fail(rec, INTERNAL_ERROR_STATE, kind === SendKind.register ? "retry" : "keep", nowMs, {
            detail: outcome.error.message,
          });
          break;
        case "response":
          rec.destination = this.destinations.intern(outcome.destination);
          this.onResponse(rec, outcome.response, outcome.destination.address, nowMs);
          break;
      }
    } catch (error) {
      // a bug on our side must not leave the record waiting for ever
      this.deps.log.error({ err: error, recordId: rec.id }, "reply handling failed");
      if (rec.pendingTx === 0) {
        this.fail(rec, INTERNAL_ERROR_STATE, "retry", nowMs, { detail: toError(error).message });
      }
    }
    this.settle(rec);
  }

  private onResponse(rec: RegistrantRecord, res: SipResponse, destination: string, nowMs: number): void {
    // §11.27 fix: a reply that arrives after the sharing tag went backup must not leave the record registered
    if (rec.enabled && !this.deps.gateOpen(rec)) {
      this.transition(rec, NOT_REGISTERED_STATE, nowMs, replyCause(res, destination, "sharing tag is backup"));
      return;
    }
    const status = res.status;
    if (status === 200) return this.on200(rec, res, destination, nowMs);
    if (status === 401 || status === 407) return this.onChallenge(rec, res, destination, nowMs);
    if (status === 423) return this.on423(rec, res, destination, nowMs);
    const cause = replyCause(res, destination);
    if (status === 408) return this.fail(rec, REGISTER_TIMEOUT_STATE, "retry", nowMs, cause, res);
    if (status >= 300 && status < 400) {
      this.deps.log.error({ aor: rec.aor, status }, "Redirection not implemented yet");
      // OpenSIPS leaves the deadline alone here, so the record retries on every tick (§11.6)
      return this.fail(rec, INTERNAL_ERROR_STATE, "keep", nowMs, cause, res);
    }
    this.fail(rec, REGISTRAR_ERROR_STATE, "retry", nowMs, cause, res);
  }

  private on200(rec: RegistrantRecord, res: SipResponse, destination: string, nowMs: number): void {
    const { readers, options, log } = this.deps;
    const contacts = readers.contacts(res);
    if (contacts === undefined) {
      return this.fail(
        rec,
        INTERNAL_ERROR_STATE,
        "retry",
        nowMs,
        replyCause(res, destination, "unparsable Contact in 200"),
      );
    }
    if (contacts.length === 0) {
      if (isUnregistering(rec.state)) return this.afterUnregister(rec, replyCause(res, destination), nowMs);
      log.error({ aor: rec.aor }, `No contact header in received 200ok in state [${rec.state}]`);
      return this.fail(rec, INTERNAL_ERROR_STATE, "retry", nowMs, replyCause(res, destination, "no Contact in 200"));
    }
    let detail: string | undefined;
    if (rec.spec.uniqueBinding && isRegistering(rec.state)) {
      if (contacts.length > 1) {
        const max = options.uniqueBindingMaxRemovals;
        if (max === 0 || rec.uniqueRemovals < max) {
          // RFC 5626-style single binding: remove them all, then register afresh (reference §6.6)
          rec.uniqueRemovals++;
          return this.unregister(rec, SendKind.unregisterAll, nowMs);
        }
        detail = "other bindings remain after Contact: * removal; not removing again (loop protection)";
        log.warn({ aor: rec.aor, bindings: contacts.length }, detail);
      } else {
        rec.uniqueRemovals = 0;
      }
    }
    const granted = grantedExpires(res, contacts, rec.contact, this.urisEqual);
    if (!rec.enabled) {
      // disabled while the REGISTER was in flight: take the binding back
      if (isRegistering(rec.state)) return this.unregister(rec, SendKind.unregister, nowMs);
      rec.registrationTimeoutSec = 0;
      return this.transition(rec, NOT_REGISTERED_STATE, nowMs, replyCause(res, destination));
    }
    if (isUnregistering(rec.state)) return this.reregister(rec, nowMs);
    if (granted > 0) rec.expiresSec = granted;
    else log.warn({ aor: rec.aor }, "200 OK grants no expiry for our binding; keeping the previous value");
    const ti = options.timerIntervalSec;
    if (rec.expiresSec <= ti) {
      log.error({ aor: rec.aor }, `imposed server expires [${rec.expiresSec}] to small vs timer_interval=[${ti}]`);
    }
    const span = Math.floor((rec.expiresSec * options.reregisterExpiryPercentage) / 100);
    rec.registrationTimeoutSec = toSec(nowMs) + span - ti;
    rec.failures = 0;
    // built field by field: a spread costs a generic property copy, once per registration
    const { status, reason } = res;
    const expiresSec = rec.expiresSec;
    this.transition(
      rec,
      REGISTERED_STATE,
      nowMs,
      detail === undefined
        ? { status, reason, destination, expiresSec }
        : { status, reason, destination, expiresSec, detail },
    );
  }

  /** A 200 to an unREGISTER without contacts: done if disabled, else register again with a new dialog. */
  private afterUnregister(rec: RegistrantRecord, cause: Cause, nowMs: number): void {
    if (!rec.enabled) {
      rec.registrationTimeoutSec = 0;
      return this.transition(rec, NOT_REGISTERED_STATE, nowMs, cause);
    }
    this.reregister(rec, nowMs);
  }

  private reregister(rec: RegistrantRecord, nowMs: number): void {
    this.newDialog(rec, nowMs);
    this.register(rec, SendKind.register, nowMs);
  }

  private onChallenge(rec: RegistrantRecord, res: SipResponse, destination: string, nowMs: number): void {
    const spec = rec.spec;
    if (!hasCredentials(spec)) {
      this.deps.log.error({ aor: rec.aor }, "Credentials not provisioned");
      const cause = replyCause(res, destination, "credentials not provisioned");
      return this.fail(rec, WRONG_CREDENTIALS_STATE, "retry", nowMs, cause);
    }
    if (!rec.enabled && isRegistering(rec.state)) return this.abandon(rec, replyCause(res, destination), nowMs);
    const answer = this.deps.readers.answerChallenge(res, spec, { method: "REGISTER", uri: rec.registrar });
    if (!answer.ok) {
      return this.fail(rec, INTERNAL_ERROR_STATE, "retry", nowMs, replyCause(res, destination, answer.error.message));
    }
    const auth = { header: answer.header, value: answer.value };
    if (rec.state === AUTHENTICATING_STATE || rec.state === AUTHENTICATING_UNREGISTER_STATE) {
      // §11.7 fix: a stale nonce is not a wrong password; one more try with the fresh nonce
      if (answer.stale && this.deps.options.staleNonceRetry && rec.staleRetries < 1) {
        rec.staleRetries++;
        if (rec.state === AUTHENTICATING_STATE) return this.register(rec, SendKind.registerRetry, nowMs, auth);
        return this.unregister(rec, rec.pendingKind, nowMs, auth);
      }
      return this.fail(rec, WRONG_CREDENTIALS_STATE, "retry", nowMs, replyCause(res, destination));
    }
    if (rec.state === REGISTERING_STATE) return this.register(rec, SendKind.registerRetry, nowMs, auth);
    if (rec.state === UNREGISTERING_STATE) {
      // §11.11 fix: a challenged `Contact: *` stays `Contact: *`
      return this.unregister(rec, rec.pendingKind, nowMs, auth);
    }
    this.deps.log.error({ aor: rec.aor }, `Unexpected [${res.status}] notification cb in state [${rec.state}]`);
    this.fail(rec, INTERNAL_ERROR_STATE, "retry", nowMs, replyCause(res, destination));
  }

  private on423(rec: RegistrantRecord, res: SipResponse, destination: string, nowMs: number): void {
    if (isUnregistering(rec.state)) {
      // §11.11 fix: OpenSIPS answers with a REGISTER here; expires=0 cannot be too brief, so it is an error
      return this.fail(
        rec,
        REGISTRAR_ERROR_STATE,
        "retry",
        nowMs,
        replyCause(res, destination, "423 to an unREGISTER"),
      );
    }
    if (!rec.enabled) return this.abandon(rec, replyCause(res, destination), nowMs);
    const min = minExpires(res);
    if (min !== undefined && min >= 5 && rec.intervalRetries < MAX_INTERVAL_RETRIES) {
      rec.intervalRetries++;
      rec.wantedExpiresSec = min;
      return this.register(rec, SendKind.registerRetry, nowMs);
    }
    const why = min === undefined || min < 5 ? "423 without usable Min-Expires" : "423 repeated (loop protection)";
    this.fail(rec, REGISTRAR_ERROR_STATE, "retry", nowMs, replyCause(res, destination, why));
  }

  /**
   * Disabled while its REGISTER was in flight, and the registrar bound nothing (401/407/423): stop here.
   * OpenSIPS would complete the registration and only then unregister it.
   */
  private abandon(rec: RegistrantRecord, cause: Cause, nowMs: number): void {
    rec.registrationTimeoutSec = 0;
    this.transition(rec, NOT_REGISTERED_STATE, nowMs, { ...cause, detail: "disabled while registering" });
  }

  // ---- failures and deadlines (reference §5.3) ----

  /**
   * An error state. `retry` sets OpenSIPS's retry deadline; `keep` leaves the deadline as it is (OpenSIPS's
   * paths that retry on the next visit), unless the backoff is on.
   */
  private fail(
    rec: RegistrantRecord,
    to: RegStateValue,
    mode: "retry" | "keep",
    nowMs: number,
    cause: Cause,
    res?: SipResponse,
  ): void {
    rec.failures++;
    const { options } = this.deps;
    if (mode === "retry" || options.failureBackoff) rec.registrationTimeoutSec = this.retryDeadline(rec, toSec(nowMs));
    const retryAfter = res !== undefined && options.honourRetryAfter ? retryAfterSec(res) : undefined;
    // never earlier than the registrar asked: round the current second up
    if (retryAfter !== undefined) rec.registrationTimeoutSec = Math.ceil(nowMs / 1000) + retryAfter;
    this.transition(rec, to, nowMs, cause);
  }

  private retryDeadline(rec: RegistrantRecord, now: number): number {
    const { failureRetryIntervalSec: fri, reregisterExpiryPercentage: pct, timerIntervalSec: ti } = this.deps.options;
    const span = fri > 0 ? fri : Math.floor((rec.expiresSec * pct) / 100);
    if (!this.deps.options.failureBackoff) return now + span - ti;
    // exponential backoff from one timer interval, capped by FRI (or the refresh span), with "equal jitter"
    const base = Math.min(ti, span);
    const step = Math.min(span, base * 2 ** Math.min(rec.failures - 1, 30));
    const delay = Math.max(1, Math.round(step / 2 + (this.jitter() * step) / 2));
    return now + delay;
  }

  // ---- the one writer of record.state ----

  /** Writes the state without an event: the silent copy of a reload/upsert (OpenSIPS raises nothing then). */
  private setState(rec: RegistrantRecord, to: RegStateValue): RegStateValue {
    const from = rec.state;
    rec.state = to;
    return from;
  }

  /** A state change and its event; `nowMs` is the entry point's one clock read. */
  private transition(rec: RegistrantRecord, to: RegStateValue, nowMs: number, cause?: Cause): void {
    const from = this.setState(rec, to);
    const { log } = this.deps;
    if (log.isLevelEnabled("debug"))
      log.debug({ aor: rec.aor, from: stateName(from), to: stateName(to) }, "state change");
    const coords = { aor: rec.aor, contact: rec.contact, registrar: rec.registrar };
    const recordId = rec.id;
    // one literal per shape: a cause added afterwards cost a map transition and a property array
    const change: StateChange =
      cause === undefined
        ? { coords, recordId, from, to, atMs: nowMs }
        : { coords, recordId, from, to, atMs: nowMs, cause };
    this.deps.emit(change);
  }

  private settle(rec: RegistrantRecord): void {
    if (rec.detached) {
      if (!isWaiting(rec.state)) this.deps.onSettled?.(rec);
      return;
    }
    this.deps.reschedule(rec);
  }
}

/** Unix seconds of a wall-clock ms reading (OpenSIPS's `time()`). */
function toSec(nowMs: number): number {
  return Math.floor(nowMs / 1000);
}
