import { randomBytes } from "node:crypto";

/**
 * The random identifiers the SIP layer puts on the wire, behind one interface so tests can assert whole
 * messages. (The registrant's Call-ID and From-tag follow OpenSIPS's own recipe in registrant/dialog-ids.ts;
 * `callId`/`fromTag` here serve anything else that needs fresh ones.)
 */
export interface IdGenerator {
  /** Via branch, starting with the RFC 3261 magic cookie `z9hG4bK` (§8.1.1.7), unique per transaction */
  branch(): string;
  /** digest client nonce (RFC 7616 §3.4) */
  cnonce(): string;
  /** From tag: at least 32 random bits (§19.3) */
  fromTag(): string;
  /** Call-ID: globally unique (§8.1.1.4) */
  callId(): string;
}

/** RFC 3261 §8.1.1.7: a branch beginning with this cookie marks an RFC 3261 transaction id. */
export const BRANCH_COOKIE = "z9hG4bK";

/**
 * Ids are cut from a 4 KiB block of crypto-random bytes, refilled when used up: one randomBytes() call per
 * digest cnonce was 4% of registrantd's CPU in a registration storm (docs/performance.md). Same generator,
 * drawn in bulk; no byte is used twice.
 */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

function hex(bytes: number): string {
  if (offset + bytes > pool.length) {
    pool = randomBytes(Math.max(POOL_BYTES, bytes));
    offset = 0;
  }
  const text = pool.toString("hex", offset, offset + bytes);
  offset += bytes;
  return text;
}

/** Crypto-random ids: 64-bit branch suffix and cnonce, 32-bit tag, 128-bit Call-ID. */
export const cryptoIds: IdGenerator = {
  branch: () => BRANCH_COOKIE + hex(8),
  cnonce: () => hex(8),
  fromTag: () => hex(4),
  callId: () => hex(16),
};

/**
 * Deterministic ids for tests: `z9hG4bK<prefix>1`, `z9hG4bK<prefix>2`, ... with one counter per kind, so a
 * test can predict each id from how many were taken before it.
 */
export function sequentialIds(prefix = "test"): IdGenerator {
  let branch = 0;
  let cnonce = 0;
  let tag = 0;
  let callId = 0;
  return {
    branch: () => `${BRANCH_COOKIE}${prefix}${++branch}`,
    cnonce: () => `${prefix}cnonce${++cnonce}`,
    fromTag: () => `${prefix}tag${++tag}`,
    callId: () => `${prefix}callid${++callId}`,
  };
}
