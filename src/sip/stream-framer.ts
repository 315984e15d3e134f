import { SipParseError } from "../errors.js";
import type { SipMessage } from "./message.js";
import type { ParseLimits } from "./parse.js";
import { DEFAULT_PARSE_LIMITS, findHeaderEnd, parseDigits, parseMessage } from "./parse.js";

/**
 * Cuts a TCP/TLS byte stream into SIP messages (RFC 3261 §18.3): the header section ends at the first empty
 * line and the body is exactly Content-Length bytes, which a stream message MUST carry. CRLFs between
 * messages are keep-alives (RFC 5626 §3.5.1 "ping" CRLFCRLF and "pong" CRLF) and are skipped.
 *
 * A chunk boundary may fall anywhere. Each complete message is parsed; a message that is framed correctly but
 * does not parse is reported with `fatal: false` and the stream goes on. A framing error (no or bad
 * Content-Length, a header section or message over the limits) is `fatal: true`: the stream cannot be
 * resynchronised, the caller closes the connection, and this framer ignores anything pushed after it.
 */
export type FramerResult =
  { ok: true; bytes: Buffer; message: SipMessage } | { ok: false; error: SipParseError; fatal: boolean };

const CR = 0x0d;
const LF = 0x0a;

export class StreamFramer {
  readonly #limits: ParseLimits;
  /**
   * Bytes held between pushes, at `#store[0, #held)`. The store grows by doubling so a message trickling in
   * one byte at a time costs amortised O(1) per byte, and is bounded by the message limit plus one chunk.
   */
  #store: Buffer = Buffer.alloc(0);
  #held = 0;
  /** where to resume looking for the end of the header section, relative to the first held byte */
  #scanFrom = 0;
  /** total length of the message being received, once its header section is complete */
  #expected = -1;
  #broken = false;

  constructor(limits?: Partial<ParseLimits>) {
    this.#limits = { ...DEFAULT_PARSE_LIMITS, ...limits };
  }

  /** True once a fatal framing error was reported. */
  get broken(): boolean {
    return this.#broken;
  }

  /** Bytes held while waiting for the rest of a message. */
  get buffered(): number {
    return this.#held;
  }

  /**
   * Feeds the next bytes of the stream; returns the messages (and errors) they completed, in order. The framer
   * takes ownership of `chunk`: returned messages may be views into it, so the caller must not reuse it.
   */
  push(chunk: Buffer): FramerResult[] {
    if (this.#broken || chunk.length === 0) return [];
    // Nothing held: work on the chunk itself and copy only an incomplete tail.
    const inPlace = this.#held === 0;
    if (!inPlace) this.#append(chunk);
    const data = inPlace ? chunk : this.#store.subarray(0, this.#held);
    const out: FramerResult[] = [];
    let pos = 0;
    // each turn consumes bytes or stops, so the loop ends within data.length turns
    for (;;) {
      if (this.#expected < 0) {
        while (pos < data.length && (data[pos] === CR || data[pos] === LF)) {
          pos++;
          this.#scanFrom = 0;
        }
        if (pos === data.length) break;
        const view = data.subarray(pos);
        const end = findHeaderEnd(view, this.#scanFrom, view.length);
        if (end === -1) {
          if (view.length > this.#limits.maxMessageBytes) {
            return this.#fatal(out, "header section larger than the message limit");
          }
          // the terminator may straddle chunks: rescan the last few bytes next time
          this.#scanFrom = Math.max(0, view.length - 3);
          break;
        }
        const length = contentLength(view, end.headEnd);
        if (length === "missing") return this.#fatal(out, "stream message without Content-Length");
        if (length === "bad") return this.#fatal(out, "bad Content-Length");
        this.#expected = end.bodyStart + length;
        if (this.#expected > this.#limits.maxMessageBytes) {
          return this.#fatal(out, `message larger than ${this.#limits.maxMessageBytes} bytes`);
        }
      }
      if (data.length - pos < this.#expected) break;
      const slice = data.subarray(pos, pos + this.#expected);
      // a message cut from the store is copied: the store is reused by the next push
      const bytes = inPlace ? slice : Buffer.from(slice);
      pos += this.#expected;
      this.#expected = -1;
      this.#scanFrom = 0;
      const parsed = parseMessage(bytes, this.#limits);
      out.push(
        parsed.ok ? { ok: true, bytes, message: parsed.message } : { ok: false, error: parsed.error, fatal: false },
      );
    }
    if (inPlace) {
      this.#held = 0;
      if (pos < data.length) this.#append(data.subarray(pos));
    } else if (pos > 0) {
      this.#store.copyWithin(0, pos, this.#held);
      this.#held -= pos;
    }
    return out;
  }

  #append(bytes: Buffer): void {
    const need = this.#held + bytes.length;
    if (need > this.#store.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.#store.length * 2, 1024));
      this.#store.copy(grown, 0, 0, this.#held);
      this.#store = grown;
    }
    bytes.copy(this.#store, this.#held);
    this.#held = need;
  }

  #fatal(out: FramerResult[], message: string): FramerResult[] {
    this.#broken = true;
    this.#store = Buffer.alloc(0);
    this.#held = 0;
    out.push({ ok: false, error: new SipParseError(message), fatal: true });
    return out;
  }
}

/**
 * Content-Length (or its compact form `l`) of the header section `buf[0, headEnd)`; several equal values are
 * fine, differing ones are "bad".
 */
function contentLength(buf: Buffer, headEnd: number): number | "missing" | "bad" {
  const head = buf.toString("latin1", 0, headEnd);
  let found = -1;
  let pos = head.indexOf("\n") + 1;
  while (pos > 0 && pos < head.length) {
    let eol = head.indexOf("\n", pos);
    if (eol < 0) eol = head.length;
    const colon = head.indexOf(":", pos);
    if (colon > pos && colon < eol) {
      const name = head.slice(pos, colon).trimEnd().toLowerCase();
      if (name === "content-length" || name === "l") {
        const value = parseDigits(head.slice(colon + 1, eol).trim());
        if (value < 0 || (found >= 0 && value !== found)) return "bad";
        found = value;
      }
    }
    pos = eol + 1;
  }
  return found < 0 ? "missing" : found;
}
