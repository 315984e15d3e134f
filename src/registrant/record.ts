import type { Destination } from "../sip/sip-client.js";
import type { Coords } from "./coords.js";
import type { RecordSpec } from "./record-spec.js";
import { RegState } from "./state.js";
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

/**
 * One registrant in memory (OpenSIPS `reg_record_t`, reference §3.2). Only `machine.ts` writes `state`; the table
 * and the scheduler own `bucket`, `heapIndex` and `dueSec`.
 */
export class RegistrantRecord implements Coords {
  /** stable id: a replaced record gets a new one, so a late reply never lands on its successor */
  readonly id: number;
  readonly aor: string;
  readonly contact: string;
  readonly registrar: string;
  readonly bucket: number;

  state: RegStateValue = RegState.NOT_REGISTERED_STATE;
  enabled: boolean;
  /** expiry sent in REGISTER: the configured value, or the last 423 Min-Expires */
  wantedExpiresSec: number;
  /** last value granted by the registrar, else the configured one */
  expiresSec: number;
  callId = "";
  fromTag = "";
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
  pendingKind: SendKindValue = SendKind.register;
  /** credentials of the pending transaction until its request is built */
  pendingAuth: { readonly header: "Authorization" | "Proxy-Authorization"; readonly value: string } | undefined =
    undefined;
  /** waiting in the SIP client's send queue (the request is built when it leaves it) */
  sendQueued = false;
  /** stale=true retries used in this auth cycle */
  staleRetries = 0;
  /** 423 retries in this cycle (loop protection) */
  intervalRetries = 0;
  /** `Contact: *` removals in a row without seeing our binding alone */
  uniqueRemovals = 0;
  /** consecutive failures, for the backoff */
  failures = 0;
  /** removed from the table but finishing its unREGISTER */
  detached = false;

  /** scheduler: when the tick must look at the record (Unix seconds), Infinity = never */
  dueSec = Number.POSITIVE_INFINITY;
  /** scheduler: position in the bucket's due heap, -1 = not queued */
  heapIndex = -1;

  constructor(
    readonly spec: RecordSpec,
    bucket: number,
  ) {
    this.id = nextRecordId++;
    this.aor = spec.aor;
    this.contact = spec.contact;
    this.registrar = spec.registrar;
    this.bucket = bucket;
    this.enabled = spec.enabled;
    this.wantedExpiresSec = spec.expirySec;
    this.expiresSec = spec.expirySec;
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
