import { hash as oneShotHash } from "node:crypto";
import { DigestError } from "../errors.js";
import { cryptoIds } from "./ids.js";
import type { SipResponse } from "./message.js";
import { headerValues } from "./message.js";
import { equalsLowerAt, isTokenChar, isWs, lowerToken, quote, scanQuoted, unquoteRange } from "./params.js";

/**
 * Digest client for 401/407 challenges: RFC 2617, RFC 7616 (SHA-256, SHA-512-256, -sess) as SIP uses it
 * (RFC 8760), with the header laid out exactly as OpenSIPS's uac_auth writes it (reference §6.5).
 */

export const DIGEST_ALGORITHMS = [
  "MD5",
  "MD5-sess",
  "SHA-256",
  "SHA-256-sess",
  "SHA-512-256",
  "SHA-512-256-sess",
] as const;
export type DigestAlgorithm = (typeof DIGEST_ALGORITHMS)[number];

type Hash = "md5" | "sha256" | "sha512-256";
const HASH_OF: Readonly<Record<DigestAlgorithm, Hash>> = {
  MD5: "md5",
  "MD5-sess": "md5",
  "SHA-256": "sha256",
  "SHA-256-sess": "sha256",
  "SHA-512-256": "sha512-256",
  "SHA-512-256-sess": "sha512-256",
};
/** Strength order used to pick among several challenges: the strongest supported wins (OpenSIPS takes the first). */
const STRENGTH: Readonly<Record<Hash, number>> = { md5: 1, sha256: 2, "sha512-256": 3 };
const HEX_LENGTH: Readonly<Record<Hash, number>> = { md5: 32, sha256: 64, "sha512-256": 64 };

/** One `Digest` challenge that we can answer. */
export interface DigestChallenge {
  readonly realm: string;
  readonly nonce: string;
  readonly opaque?: string | undefined;
  /** canonical spelling; MD5 when the challenge named none (RFC 2617 §3.2.1) */
  readonly algorithm: DigestAlgorithm;
  /** the qop we will use: auth preferred over auth-int; undefined = RFC 2069 style, no qop */
  readonly qop?: "auth" | "auth-int" | undefined;
  readonly stale: boolean;
}

/** One challenge of a WWW-Authenticate / Proxy-Authenticate value: scheme and its auth-params. */
export interface AuthChallenge {
  readonly scheme: string;
  /** names lower-cased, values unquoted */
  readonly params: ReadonlyMap<string, string>;
}

/**
 * Splits one WWW-Authenticate / Proxy-Authenticate value into challenges (RFC 7235 §4.1: a value may hold
 * several, `Digest realm="a", nonce="b", Basic realm="c"`). Returns undefined when malformed. Never throws.
 */
export function parseAuthChallenges(value: string): AuthChallenge[] | undefined {
  const out: AuthChallenge[] = [];
  const n = value.length;
  let i = 0;
  let current: { scheme: string; params: Map<string, string> } | undefined;
  while (i < n) {
    while (i < n && (isWs(value.charCodeAt(i)) || value.charCodeAt(i) === 0x2c)) i++;
    if (i >= n) break;
    const ts = i;
    while (i < n && isTokenChar(value.charCodeAt(i))) i++;
    if (i === ts) return undefined;
    const te = i;
    let j = i;
    while (j < n && isWs(value.charCodeAt(j))) j++;
    if (j < n && value.charCodeAt(j) === 0x3d && current !== undefined && value.charCodeAt(j + 1) !== 0x3d) {
      // auth-param = token BWS "=" BWS ( token / quoted-string )
      j++;
      while (j < n && isWs(value.charCodeAt(j))) j++;
      let v: string;
      if (value.charCodeAt(j) === 0x22) {
        const end = scanQuoted(value, j);
        if (end < 0) return undefined;
        v = unquoteRange(value, j, end);
        j = end;
      } else {
        // a token by the grammar; leniency: servers also send unquoted base64 (`/`, `=`), so read to the next
        // comma or white space
        const vs = j;
        while (j < n) {
          const c = value.charCodeAt(j);
          if (c === 0x2c || c === 0x22 || isWs(c)) break;
          j++;
        }
        if (j === vs) return undefined;
        v = value.slice(vs, j);
      }
      const name = lowerToken(value, ts, te);
      if (!current.params.has(name)) current.params.set(name, v);
      i = j;
      while (i < n && isWs(value.charCodeAt(i))) i++;
      if (i < n && value.charCodeAt(i) !== 0x2c) return undefined;
      continue;
    }
    // a new challenge: auth-scheme [ 1*SP ( token68 / #auth-param ) ]
    current = { scheme: value.slice(ts, te), params: new Map() };
    out.push(current);
    i = j;
    // token68 (the blob of Basic/Negotiate-style schemes) carries nothing for Digest: skip to the next comma
    if (i < n && value.charCodeAt(i) !== 0x2c && !startsAuthParam(value, i)) {
      const comma = value.indexOf(",", i);
      i = comma < 0 ? n : comma;
    }
  }
  return out;
}

/** `token BWS "=" BWS` followed by a value (not token68 padding such as `abc==`). */
function startsAuthParam(value: string, i: number): boolean {
  const start = i;
  while (i < value.length && isTokenChar(value.charCodeAt(i))) i++;
  if (i === start) return false;
  while (i < value.length && isWs(value.charCodeAt(i))) i++;
  if (value.charCodeAt(i) !== 0x3d) return false;
  i++;
  while (i < value.length && isWs(value.charCodeAt(i))) i++;
  const c = value.charCodeAt(i);
  return i < value.length && c !== 0x3d && c !== 0x2c;
}

const ALGORITHM_BY_LOWER_NAME: ReadonlyMap<string, DigestAlgorithm> = new Map(
  DIGEST_ALGORITHMS.map((a) => [a.toLowerCase(), a]),
);

function canonicalAlgorithm(name: string | undefined): DigestAlgorithm | undefined {
  if (name === undefined) return "MD5";
  return ALGORITHM_BY_LOWER_NAME.get(name.toLowerCase());
}

/** Turns a `Digest` challenge into something we can answer, or says why not. */
export function toDigestChallenge(raw: AuthChallenge): DigestChallenge | string {
  if (raw.scheme.length !== 6 || !equalsLowerAt(raw.scheme, 0, "digest")) return `scheme ${raw.scheme} is not Digest`;
  const realm = raw.params.get("realm");
  const nonce = raw.params.get("nonce");
  // OpenSIPS refuses a challenge without realm or nonce, and an empty realm (reference §6.5, §5.2)
  if (realm === undefined || realm.length === 0) return "challenge without realm";
  if (nonce === undefined) return "challenge without nonce";
  const algorithmText = raw.params.get("algorithm");
  const algorithm = canonicalAlgorithm(algorithmText);
  if (algorithm === undefined) return `unsupported algorithm ${algorithmText ?? ""}`;
  const qopList = raw.params.get("qop");
  let qop: "auth" | "auth-int" | undefined;
  if (qopList === "auth") {
    qop = "auth"; // what nearly every registrar offers: no list to split
  } else if (qopList !== undefined) {
    const options = qopList.split(",").map((q) => q.trim().toLowerCase());
    // OpenSIPS parity: auth if offered, else auth-int, else no qop
    if (options.includes("auth")) qop = "auth";
    else if (options.includes("auth-int")) qop = "auth-int";
  }
  // RFC 2617 §3.2.2.2: -sess hashes the cnonce into A1, and there is no cnonce without qop. OpenSIPS crashes
  // here (reference §11); we refuse the challenge.
  if (algorithm.endsWith("-sess") && qop === undefined) return `${algorithm} without qop`;
  // every field set, absent ones undefined: one object shape, no spread per optional field
  return {
    realm,
    nonce,
    opaque: raw.params.get("opaque"),
    algorithm,
    qop,
    stale: raw.params.get("stale")?.toLowerCase() === "true",
  };
}

/**
 * Counts how often each nonce was used so a reused nonce gets nc=2, 3... (RFC 7616 §3.4). Bounded: the
 * oldest nonces are forgotten first, and a forgotten nonce simply starts again at 1.
 */
export class NonceCounter {
  readonly #counts = new Map<string, number>();
  constructor(readonly maxNonces = 1024) {}

  next(nonce: string): number {
    const seen = this.#counts.get(nonce);
    const n = seen === undefined ? 1 : seen + 1;
    // a nonce seen before moves to the newest end (a new one is appended there anyway)
    if (seen !== undefined) this.#counts.delete(nonce);
    this.#counts.set(nonce, n > 0xffffffff ? 1 : n);
    if (this.#counts.size > this.maxNonces) {
      const oldest = this.#counts.keys().next();
      if (oldest.done !== true) this.#counts.delete(oldest.value);
    }
    return n > 0xffffffff ? 1 : n;
  }

  get size(): number {
    return this.#counts.size;
  }
}

/** Shared by every caller that does not bring its own counter. */
const defaultNonceCounts = new NonceCounter();

/** One-shot `crypto.hash`: a third of `createHash().update().digest()`'s cost (no Hash object per call). */
function h(hash: Hash, data: string | Buffer): string {
  return oneShotHash(hash, data, "hex");
}

export interface DigestInputs {
  readonly algorithm: DigestAlgorithm;
  readonly username: string;
  readonly password: string;
  readonly realm: string;
  readonly nonce: string;
  readonly method: string;
  readonly uri: string;
  readonly qop?: "auth" | "auth-int" | undefined;
  /** 8 hex digits */
  readonly nc?: string | undefined;
  readonly cnonce?: string | undefined;
  /** entity body for auth-int */
  readonly body?: Buffer | undefined;
}

/**
 * H(method:uri) of recent requests, direct-mapped by the URI's length and last character: the records of a
 * table share a few registrar URIs, so most answers skip one of their three hashes.
 */
class Ha2Cache {
  readonly #slots: ({ hash: Hash; method: string; uri: string; ha2: string } | undefined)[] = [];

  get(hash: Hash, method: string, uri: string): string {
    const i = (uri.length * 31 + (uri.charCodeAt(uri.length - 1) || 0)) & 15;
    const slot = this.#slots[i];
    if (slot !== undefined && slot.uri === uri && slot.method === method && slot.hash === hash) return slot.ha2;
    const ha2 = h(hash, `${method}:${uri}`);
    this.#slots[i] = { hash, method, uri, ha2 };
    return ha2;
  }
}

const ha2Cache = new Ha2Cache();

/**
 * The `response` value (RFC 7616 §3.4.1). A password written as `0x` + the algorithm's hash length in
 * lower-case hex is the precomputed H(user:realm:password) (OpenSIPS convention, reference §6.5).
 * Throws a DigestError when a -sess algorithm or qop lacks its cnonce.
 */
export function computeDigestResponse(d: DigestInputs): string {
  const hash = HASH_OF[d.algorithm];
  const hexLen = HEX_LENGTH[hash];
  let ha1 =
    d.password.length === hexLen + 2 && d.password.startsWith("0x") && /^[0-9a-f]+$/.test(d.password.slice(2))
      ? d.password.slice(2)
      : h(hash, `${d.username}:${d.realm}:${d.password}`);
  if (d.algorithm.endsWith("-sess")) {
    if (d.cnonce === undefined) throw new DigestError(`${d.algorithm} needs a cnonce`);
    ha1 = h(hash, `${ha1}:${d.nonce}:${d.cnonce}`);
  }
  const ha2 =
    d.qop === "auth-int"
      ? h(hash, `${d.method}:${d.uri}:${h(hash, d.body ?? Buffer.alloc(0))}`)
      : ha2Cache.get(hash, d.method, d.uri);
  if (d.qop === undefined) return h(hash, `${ha1}:${d.nonce}:${ha2}`);
  if (d.cnonce === undefined || d.nc === undefined) throw new DigestError("qop needs nc and cnonce");
  return h(hash, `${ha1}:${d.nonce}:${d.nc}:${d.cnonce}:${d.qop}:${ha2}`);
}

export type DigestAnswer =
  | {
      ok: true;
      header: "Authorization" | "Proxy-Authorization";
      value: string;
      /** the chosen challenge said stale=true (RFC 7616 §3.3): the nonce expired, the credentials may be fine */
      stale: boolean;
    }
  | { ok: false; error: DigestError };

export interface DigestOptions {
  /** client nonce source; crypto-random by default */
  readonly cnonce?: () => string;
  /** per-nonce counters; a process-wide bounded one by default */
  readonly nonceCounts?: NonceCounter;
}

/**
 * Every usable challenge of a 401 (WWW-Authenticate) or 407 (Proxy-Authenticate), in header order, with the
 * reasons the others were refused.
 */
export function collectChallenges(response: SipResponse): { usable: DigestChallenge[]; refused: string[] } {
  const name = response.status === 407 ? "proxy-authenticate" : "www-authenticate";
  const usable: DigestChallenge[] = [];
  const refused: string[] = [];
  for (const value of headerValues(response, name)) {
    const challenges = parseAuthChallenges(value);
    if (challenges === undefined) {
      refused.push(`malformed ${name}`);
      continue;
    }
    for (const raw of challenges) {
      const c = toDigestChallenge(raw);
      if (typeof c === "string") refused.push(c);
      else usable.push(c);
    }
  }
  return { usable, refused };
}

/**
 * Answers the strongest supported challenge of a 401/407 (SHA-512-256 > SHA-256 > MD5; the first one listed
 * among equals) with an `Authorization` / `Proxy-Authorization` value laid out as OpenSIPS writes it:
 * `Digest username="U", realm="R", nonce="N", uri="URI", opaque="O", qop=auth, nc=00000001, cnonce="C",
 * response="HEX", algorithm=MD5` (opaque only when challenged with one; qop/nc/cnonce only with a qop).
 * Never throws.
 */
export function answerChallenge(
  response: SipResponse,
  creds: { readonly username: string; readonly password: string },
  request: { readonly method: string; readonly uri: string; readonly body?: Buffer },
  opts?: DigestOptions,
): DigestAnswer {
  if (response.status !== 401 && response.status !== 407) {
    return { ok: false, error: new DigestError(`status ${response.status} carries no challenge`) };
  }
  const { usable, refused } = collectChallenges(response);
  let best: DigestChallenge | undefined;
  for (const c of usable) {
    if (best === undefined || STRENGTH[HASH_OF[c.algorithm]] > STRENGTH[HASH_OF[best.algorithm]]) best = c;
  }
  if (best === undefined) {
    const why = refused.length > 0 ? refused.join("; ") : "no challenge";
    return { ok: false, error: new DigestError(`no usable digest challenge: ${why}`) };
  }
  try {
    let nc: string | undefined;
    let cnonce: string | undefined;
    if (best.qop !== undefined) {
      const count = (opts?.nonceCounts ?? defaultNonceCounts).next(best.nonce);
      // a nonce is nearly always used once: its nc needs no formatting
      nc = count === 1 ? "00000001" : count.toString(16).padStart(8, "0");
      cnonce = (opts?.cnonce ?? cryptoIds.cnonce)();
    }
    const digest = computeDigestResponse({
      algorithm: best.algorithm,
      username: creds.username,
      password: creds.password,
      realm: best.realm,
      nonce: best.nonce,
      method: request.method,
      uri: request.uri,
      qop: best.qop,
      nc,
      cnonce,
      body: request.body,
    });
    let value = `Digest username=${quote(creds.username)}, realm=${quote(best.realm)}, nonce=${quote(best.nonce)}`;
    value += `, uri=${quote(request.uri)}`;
    if (best.opaque !== undefined) value += `, opaque=${quote(best.opaque)}`;
    if (best.qop !== undefined && nc !== undefined && cnonce !== undefined) {
      value += `, qop=${best.qop}, nc=${nc}, cnonce=${quote(cnonce)}`;
    }
    value += `, response=${quote(digest)}, algorithm=${best.algorithm}`;
    return {
      ok: true,
      header: response.status === 407 ? "Proxy-Authorization" : "Authorization",
      value,
      stale: best.stale,
    };
  } catch (e) {
    return {
      ok: false,
      error: e instanceof DigestError ? e : new DigestError("digest computation failed", { cause: e }),
    };
  }
}
