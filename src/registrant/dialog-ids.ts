import { createHash, randomInt } from "node:crypto";

/** A record's dialog identifiers: OpenSIPS keeps no To-tag and no route set (reference §5.5). */
export interface DialogIds {
  readonly callId: string;
  readonly fromTag: string;
}

/** Random source for the `rand()` OpenSIPS mixes in; injectable so tests get fixed ids. */
export type RandomInt = () => number;

export const cryptoRandInt: RandomInt = () => randomInt(0, 2 ** 31 - 1);

/**
 * OpenSIPS builds both ids from one MD5 over the AOR, the decimal text of `rand()` and the decimal text of the Unix
 * time (each trimmed): the Call-ID is the first 27 hex digits (no `@host`), the From-tag the last 5 (reference §3.2).
 */
export function newDialogIds(aor: string, nowSec: number, rand: RandomInt = cryptoRandInt): DialogIds {
  const md5 = createHash("md5");
  md5.update(aor.trim());
  md5.update(String(rand()).trim());
  md5.update(String(nowSec).trim());
  const hex = md5.digest("hex");
  return { callId: hex.slice(0, 27), fromTag: hex.slice(27) };
}
