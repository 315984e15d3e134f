import { hash, randomInt } from "node:crypto";

/** Random source for the `rand()` OpenSIPS mixes in; injectable so tests get fixed ids. */
export type RandomInt = () => number;

export const cryptoRandInt: RandomInt = () => randomInt(0, 2 ** 31 - 1);

/** The Call-ID is the first CALL_ID_LENGTH hex digits of `newDialogHex`, the From-tag the rest. */
export const CALL_ID_LENGTH = 27;

/**
 * A record's dialog identifiers (OpenSIPS keeps no To-tag and no route set, reference §5.5). OpenSIPS builds both
 * from one MD5 over the AOR, the decimal text of `rand()` and the decimal text of the Unix time (each trimmed): the
 * Call-ID is the first 27 hex digits (no `@host`), the From-tag the last 5 (reference §3.2). The record keeps the
 * 32 digits as one string.
 */
export function newDialogHex(aor: string, nowSec: number, rand: RandomInt = cryptoRandInt): string {
  // one-shot MD5 of the three texts joined (the same bytes as three updates) costs no Hash object; a number's
  // decimal text has nothing to trim
  return hash("md5", aor.trim() + String(rand()) + String(nowSec), "hex");
}
