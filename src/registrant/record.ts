import type { Destination } from "../sip/sip-client.js";
import type { Coords } from "./coords.js";
import type { RecordSpec } from "./record-spec.js";
import type { RegStateValue } from "./state.js";

/** What the record is waiting for; decides how a send failure or a reply is handled (reference §5.2). */
export const SendKind = {
  /** REGISTER from the tick, enable, force_register or a re-register after an unREGISTER */
  register: 1,
  /** REGISTER re-sent after a 401/407 or a 423 */
  registerRetry: 2,
  /** single-contact unREGISTER */
  unregister: 3,
  /** `Contact: *` unREGISTER (unique binding) */
  unregisterAll: 4,
} as const;
export type SendKindValue = (typeof SendKind)[keyof typeof SendKind];

let nextRecordId = 1;

// RegistrantRecord.bits: state 0-3, enabled 4, detached 5, sendQueued 6, pendingKind 7-9, staleRetries 10-11,
// intervalRetries 12-13, failures 14-21, Call-ID length 22-29, inTable 30 (a small integer: 31 bits)
const STATE = 0xf;
const ENABLED = 1 << 4;
const DETACHED = 1 << 5;
const SEND_QUEUED = 1 << 6;
const KIND_SHIFT = 7;
const STALE_SHIFT = 10;
const INTERVAL_SHIFT = 12;
const FAILURES_SHIFT = 14;
const CALL_ID_SHIFT = 22;
const IN_TABLE = 1 << 30;

/** The longest Call-ID a record takes (ours are 27 characters). */
export const MAX_CALL_ID_LENGTH = 255;

/**
 * One registrant in memory (OpenSIPS `reg_record_t`, reference §3.2). Only `machine.ts` writes `state`; the table
 * and the scheduler own `bucket`, `inTable`, `heapIndex` and `dueSec`.
 */
export class RegistrantRecord implements Coords {
  /** stable id: a replaced record gets a new one, so a late reply never lands on its successor */
  readonly id: number;
  readonly bucket: number;

  /** expiry sent in REGISTER: the configured value, or the last 423 Min-Expires */
  wantedExpiresSec: number;
  /** last value granted by the registrar, else the configured one */
  expiresSec: number;
  /** Call-ID and From-tag in one string, the Call-ID being its first `callIdLength` characters */
  private dialog = "";
  /** incremented before each request, so the first CSeq is 1 */
  cseq = 0;
  lastRegisterSentSec = 0;
  /** OpenSIPS `registration_timeout`: refresh/retry deadline, Unix seconds */
  registrationTimeoutSec = 0;
  /** where the last request went (MI `socket`, `dst_IP`/`ip`); the destination is cleared by a timeout */
  socket: string | undefined;
  destination: Destination | undefined;

  /** token of the transaction in flight, 0 = none */
  pendingTx = 0;
  /** credentials of the pending transaction until its request is built */
  pendingAuth: { readonly header: "Authorization" | "Proxy-Authorization"; readonly value: string } | undefined =
    undefined;
  /** `Contact: *` removals in a row without seeing our binding alone */
  uniqueRemovals = 0;

  /** scheduler: when the tick must look at the record (Unix seconds), meaningful while `heapIndex` >= 0 */
  dueSec = 0;
  /** scheduler: position in the bucket's due heap, -1 = not queued */
  heapIndex = -1;

  /**
   * The small fields below, packed in one small integer (each would take 8 B of every record); it starts as
   * NOT_REGISTERED_STATE (0) with a `register` send kind.
   */
  private bits = SendKind.register << KIND_SHIFT;

  constructor(
    readonly spec: RecordSpec,
    bucket: number,
  ) {
    this.id = nextRecordId++;
    this.bucket = bucket;
    this.enabled = spec.enabled;
    this.wantedExpiresSec = spec.expirySec;
    this.expiresSec = spec.expirySec;
  }

  // the coordinates are the spec's: a copy in the record cost 24 B per registrant
  get aor(): string {
    return this.spec.aor;
  }

  get contact(): string {
    return this.spec.contact;
  }

  get registrar(): string {
    return this.spec.registrar;
  }

  get state(): RegStateValue {
    return (this.bits & STATE) as RegStateValue;
  }

  set state(v: RegStateValue) {
    this.bits = (this.bits & ~STATE) | v;
  }

  get enabled(): boolean {
    return (this.bits & ENABLED) !== 0;
  }

  set enabled(v: boolean) {
    this.bits = v ? this.bits | ENABLED : this.bits & ~ENABLED;
  }

  /** removed from the table but finishing its unREGISTER */
  get detached(): boolean {
    return (this.bits & DETACHED) !== 0;
  }

  set detached(v: boolean) {
    this.bits = v ? this.bits | DETACHED : this.bits & ~DETACHED;
  }

  /** in the table (written by the table only) */
  get inTable(): boolean {
    return (this.bits & IN_TABLE) !== 0;
  }

  set inTable(v: boolean) {
    this.bits = v ? this.bits | IN_TABLE : this.bits & ~IN_TABLE;
  }

  /** waiting in the SIP client's send queue (the request is built when it leaves it) */
  get sendQueued(): boolean {
    return (this.bits & SEND_QUEUED) !== 0;
  }

  set sendQueued(v: boolean) {
    this.bits = v ? this.bits | SEND_QUEUED : this.bits & ~SEND_QUEUED;
  }

  get pendingKind(): SendKindValue {
    return ((this.bits >> KIND_SHIFT) & 7) as SendKindValue;
  }

  set pendingKind(v: SendKindValue) {
    this.bits = (this.bits & ~(7 << KIND_SHIFT)) | (v << KIND_SHIFT);
  }

  /** stale=true retries used in this auth cycle (saturates at 3) */
  get staleRetries(): number {
    return (this.bits >> STALE_SHIFT) & 3;
  }

  set staleRetries(v: number) {
    this.bits = (this.bits & ~(3 << STALE_SHIFT)) | (Math.min(v, 3) << STALE_SHIFT);
  }

  /** 423 retries in this cycle, loop protection (saturates at 3) */
  get intervalRetries(): number {
    return (this.bits >> INTERVAL_SHIFT) & 3;
  }

  set intervalRetries(v: number) {
    this.bits = (this.bits & ~(3 << INTERVAL_SHIFT)) | (Math.min(v, 3) << INTERVAL_SHIFT);
  }

  /** consecutive failures, for the backoff (saturates at 255, far past the backoff's cap) */
  get failures(): number {
    return (this.bits >> FAILURES_SHIFT) & 255;
  }

  set failures(v: number) {
    this.bits = (this.bits & ~(255 << FAILURES_SHIFT)) | (Math.min(v, 255) << FAILURES_SHIFT);
  }

  private get callIdLength(): number {
    return (this.bits >>> CALL_ID_SHIFT) & 255;
  }

  /** false until the first request (or a dialog carried over) */
  get hasDialog(): boolean {
    return this.dialog !== "";
  }

  get callId(): string {
    return this.dialog.slice(0, this.callIdLength);
  }

  get fromTag(): string {
    return this.dialog.slice(this.callIdLength);
  }

  /**
   * `ids`: the Call-ID then the From-tag, the Call-ID being its first `callIdLength` characters (at most
   * MAX_CALL_ID_LENGTH).
   */
  setDialog(ids: string, callIdLength: number): void {
    if (callIdLength > MAX_CALL_ID_LENGTH) throw new RangeError(`Call-ID longer than ${MAX_CALL_ID_LENGTH}`);
    this.dialog = ids;
    this.bits = (this.bits & ~(255 << CALL_ID_SHIFT)) | (callIdLength << CALL_ID_SHIFT);
  }

  /** Continue `other`'s dialog (same Call-ID and From-tag). */
  copyDialog(other: RegistrantRecord): void {
    this.setDialog(other.dialog, other.callIdLength);
  }

  /** From URI: the third party when set, else the AOR. */
  get from(): string {
    return this.spec.thirdPartyRegistrant ?? this.aor;
  }

  /** Never leaks the password into logs. */
  toJSON(): Record<string, unknown> {
    return {
      id: this.id,
      aor: this.aor,
      contact: this.contact,
      registrar: this.registrar,
      state: this.state,
      enabled: this.enabled,
      callId: this.callId,
      cseq: this.cseq,
    };
  }
}
