import type { Clock } from "../clock.js";
import { coordsKey } from "../registrant/coords.js";
import type { Coords } from "../registrant/coords.js";
import type { TableChange } from "../registrant/state-change.js";
import { redactCredentials } from "./redact-credentials.js";
import { TraceRing } from "./trace-ring.js";
import { registerCoords } from "./register-coords.js";

/**
 * What the SIP layer reports to the trace: every message written or read (retransmissions included) and the
 * two outcomes that have no message of their own. `callId` ties an entry to its record.
 */
export type SipTraceInput =
  | {
      readonly kind: "out" | "in";
      readonly callId: string;
      readonly bytes: Uint8Array | string;
      /** `proto:ip:port` of the other side */
      readonly peer?: string;
    }
  | { readonly kind: "timeout" | "transport-error"; readonly callId: string; readonly detail?: string };

export type SipTraceCallback = (input: SipTraceInput) => void;

/** One remembered entry, credentials already masked. */
export interface TraceEntry {
  readonly atMs: number;
  readonly kind: "out" | "in" | "timeout" | "transport-error";
  readonly peer?: string;
  /** the SIP message text (out/in) */
  readonly message?: string;
  readonly detail?: string;
}

export type TraceMode = "on" | "off";

export interface SipTraceOptions {
  readonly clock: Clock;
  /** entries kept per record (the oldest is dropped first) */
  readonly maxEntries?: number;
  /** longer messages are cut, so one odd reply cannot hold megabytes */
  readonly maxMessageBytes?: number;
  /**
   * rings kept at once; beyond it the least recently written ring is dropped, which bounds memory when the
   * global switch is on for 100,000 records
   */
  readonly maxRecords?: number;
  readonly enabled?: boolean;
}

/**
 * Per-registrant SIP trace: the last N SIP messages of each traced record in a bounded ring. Off by default.
 * A record is traced when its own mode says so, or, without one, when the global switch is on; both switch
 * at run time (MI `registrantd:trace`, `registrantd:record_trace`).
 *
 * The SIP layer knows Call-IDs, not records: an outgoing REGISTER names its record (Request-URI = registrar,
 * To = AOR, Contact = binding), so each one (re)binds its Call-ID to the record, and the replies, timeouts
 * and transport errors with that Call-ID follow it.
 */
export class SipTrace {
  private global: boolean;
  private readonly modes = new Map<string, TraceMode>();
  private readonly rings = new Map<string, TraceRing<TraceEntry>>();
  /** Call-ID → record key, only for traced records */
  private readonly callIds = new Map<string, string>();
  private readonly clock: Clock;
  readonly maxEntries: number;
  private readonly maxMessageBytes: number;
  private readonly maxRecords: number;
  private onCount = 0;

  constructor(options: SipTraceOptions) {
    this.clock = options.clock;
    this.global = options.enabled ?? false;
    this.maxEntries = positiveInt(options.maxEntries ?? 20, "maxEntries");
    this.maxMessageBytes = positiveInt(options.maxMessageBytes ?? 8192, "maxMessageBytes");
    this.maxRecords = positiveInt(options.maxRecords ?? 1000, "maxRecords");
  }

  /** Pass this to the SIP stack. It never throws: a trace must not break sending. */
  readonly callback: SipTraceCallback = (input) => {
    if (!this.active) return;
    try {
      this.take(input);
    } catch {
      // a malformed message is simply not traced
    }
  };

  /** false while nothing is traced: feeders skip reading Call-IDs and rendering messages then */
  get active(): boolean {
    return this.global || this.onCount > 0;
  }

  get globalEnabled(): boolean {
    return this.global;
  }

  setGlobal(enabled: boolean): void {
    this.global = enabled;
    if (!enabled) this.prune();
  }

  /** undefined: the record follows the global switch */
  recordMode(coords: Coords): TraceMode | undefined {
    return this.modes.get(coordsKey(coords));
  }

  setRecordMode(coords: Coords, mode: TraceMode | undefined): void {
    const key = coordsKey(coords);
    const old = this.modes.get(key);
    if (old === "on") this.onCount--;
    if (mode === undefined) this.modes.delete(key);
    else this.modes.set(key, mode);
    if (mode === "on") this.onCount++;
    if (!this.traced(key)) this.rings.delete(key);
  }

  isTraced(coords: Coords): boolean {
    return this.traced(coordsKey(coords));
  }

  /** oldest first */
  entries(coords: Coords): readonly TraceEntry[] {
    return this.rings.get(coordsKey(coords))?.toArray() ?? [];
  }

  clear(coords: Coords): void {
    this.rings.get(coordsKey(coords))?.clear();
  }

  /** a deleted record leaves nothing behind; feed it the engine's TableChange */
  readonly onTableChange = (change: TableChange): void => {
    if (change.kind !== "removed") return;
    const key = coordsKey(change.coords);
    this.rings.delete(key);
    if (this.modes.get(key) === "on") this.onCount--;
    this.modes.delete(key);
    for (const [callId, k] of this.callIds) if (k === key) this.callIds.delete(callId);
  };

  /** how many records have a ring right now */
  get ringCount(): number {
    return this.rings.size;
  }

  private traced(key: string): boolean {
    return (this.modes.get(key) ?? (this.global ? "on" : "off")) === "on";
  }

  private take(input: SipTraceInput): void {
    let key: string | undefined;
    if (input.kind === "out") {
      const coords = registerCoords(input.bytes);
      if (coords) {
        key = coordsKey(coords);
        if (!this.traced(key)) {
          this.callIds.delete(input.callId);
          return;
        }
        this.callIds.delete(input.callId);
        this.callIds.set(input.callId, key);
        this.trimCallIds();
      } else {
        key = this.callIds.get(input.callId);
      }
    } else {
      key = this.callIds.get(input.callId);
    }
    if (key === undefined || !this.traced(key)) return;
    this.ring(key).push(this.entry(input));
  }

  private entry(input: SipTraceInput): TraceEntry {
    const atMs = this.clock.nowMs();
    if ("bytes" in input) {
      const message = redactCredentials(this.text(input.bytes));
      return input.peer === undefined
        ? { atMs, kind: input.kind, message }
        : { atMs, kind: input.kind, peer: input.peer, message };
    }
    return input.detail === undefined ? { atMs, kind: input.kind } : { atMs, kind: input.kind, detail: input.detail };
  }

  private text(bytes: Uint8Array | string): string {
    const buf = typeof bytes === "string" ? Buffer.from(bytes, "utf8") : Buffer.from(bytes);
    if (buf.length <= this.maxMessageBytes) return buf.toString("utf8");
    return `${buf.subarray(0, this.maxMessageBytes).toString("utf8")}\n[${buf.length - this.maxMessageBytes} more bytes not kept]`;
  }

  private ring(key: string): TraceRing<TraceEntry> {
    let ring = this.rings.get(key);
    if (ring) {
      // most recently written last, so the eviction below drops the quietest record
      this.rings.delete(key);
    } else {
      ring = new TraceRing<TraceEntry>(this.maxEntries);
      if (this.rings.size >= this.maxRecords) {
        const oldest = this.rings.keys().next().value;
        if (oldest !== undefined) this.rings.delete(oldest);
      }
    }
    this.rings.set(key, ring);
    return ring;
  }

  /** one Call-ID per record at a time, so the map is bounded by the rings it feeds (plus replaced Call-IDs) */
  private trimCallIds(): void {
    const limit = this.maxRecords * 2;
    while (this.callIds.size > limit) {
      const oldest = this.callIds.keys().next().value;
      if (oldest === undefined) break;
      this.callIds.delete(oldest);
    }
  }

  private prune(): void {
    for (const key of [...this.rings.keys()]) if (!this.traced(key)) this.rings.delete(key);
    for (const [callId, key] of this.callIds) if (!this.traced(key)) this.callIds.delete(callId);
  }
}

function positiveInt(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`SipTrace ${name} must be an integer >= 1, got ${n}`);
  return n;
}

export function createSipTrace(options: SipTraceOptions): SipTrace {
  return new SipTrace(options);
}
