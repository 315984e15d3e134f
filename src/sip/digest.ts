import { hash as oneShotHash } from "node:crypto";
import { DigestError } from "../errors.js";
import { cryptoIds } from "./ids.js";
import type { SipResponse } from "./message.js";
import {
  SpellingIndex,
  equalsLowerAt,
  escapeQuoted,
  isTokenChar,
  isWs,
  lowerToken,
  scanQuoted,
  unquoteRange,
} from "./params.js";

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
 * Receives the parts of a WWW-Authenticate / Proxy-Authenticate value as `scanAuthChallenges` reads them, as
 * offsets into the value: a reader slices only what it keeps.
 */
interface ChallengeSink {
  /** a new challenge; its auth-scheme is `value[start, end)` */
  scheme(value: string, start: number, end: number): void;
  /** an auth-param of the current challenge: name `value[ns, ne)`, value `value[vs, ve)` (a quoted string with its quotes) */
  param(value: string, ns: number, ne: number, vs: number, ve: number): void;
}

/** An auth-param value: a quoted string unquoted, a token as written. */
function paramText(value: string, vs: number, ve: number): string {
  return value.charCodeAt(vs) === 0x22 ? unquoteRange(value, vs, ve) : value.slice(vs, ve);
}

/**
 * Walks one WWW-Authenticate / Proxy-Authenticate value (RFC 7235 §4.1: a value may hold several challenges,
 * `Digest realm="a", nonce="b", Basic realm="c"`), telling `sink` what it finds. False when malformed (the sink
 * may have been told part of it). Never throws.
 */
function scanAuthChallenges(value: string, sink: ChallengeSink): boolean {
  const n = value.length;
  let i = 0;
  let inChallenge = false;
  while (i < n) {
    while (i < n && (isWs(value.charCodeAt(i)) || value.charCodeAt(i) === 0x2c)) i++;
    if (i >= n) break;
    const ts = i;
    while (i < n && isTokenChar(value.charCodeAt(i))) i++;
    if (i === ts) return false;
    const te = i;
    let j = i;
    while (j < n && isWs(value.charCodeAt(j))) j++;
    if (j < n && value.charCodeAt(j) === 0x3d && inChallenge && value.charCodeAt(j + 1) !== 0x3d) {
      // auth-param = token BWS "=" BWS ( token / quoted-string )
      j++;
      while (j < n && isWs(value.charCodeAt(j))) j++;
      const vs = j;
      if (value.charCodeAt(j) === 0x22) {
        j = scanQuoted(value, j);
        if (j < 0) return false;
      } else {
        // a token by the grammar; leniency: servers also send unquoted base64 (`/`, `=`), so read to the next
        // comma or white space
        while (j < n) {
          const c = value.charCodeAt(j);
          if (c === 0x2c || c === 0x22 || isWs(c)) break;
          j++;
        }
        if (j === vs) return false;
      }
      sink.param(value, ts, te, vs, j);
      i = j;
      while (i < n && isWs(value.charCodeAt(i))) i++;
      if (i < n && value.charCodeAt(i) !== 0x2c) return false;
      continue;
    }
    // a new challenge: auth-scheme [ 1*SP ( token68 / #auth-param ) ]
    inChallenge = true;
    sink.scheme(value, ts, te);
    i = j;
    // token68 (the blob of Basic/Negotiate-style schemes) carries nothing for Digest: skip to the next comma
    if (i < n && value.charCodeAt(i) !== 0x2c && !startsAuthParam(value, i)) {
      const comma = value.indexOf(",", i);
      i = comma < 0 ? n : comma;
    }
  }
  return true;
}

/** Every challenge of a value with all its auth-params in a map. */
class ChallengeList implements ChallengeSink {
  readonly challenges: { scheme: string; params: Map<string, string> }[] = [];

  scheme(value: string, start: number, end: number): void {
    this.challenges.push({ scheme: value.slice(start, end), params: new Map() });
  }

  param(value: string, ns: number, ne: number, vs: number, ve: number): void {
    // scanAuthChallenges reports params inside a challenge only
    const { params } = this.challenges[this.challenges.length - 1]!;
    const name = lowerToken(value, ns, ne);
    if (!params.has(name)) params.set(name, paramText(value, vs, ve));
  }
}

/**
 * Splits one WWW-Authenticate / Proxy-Authenticate value into challenges (RFC 7235 §4.1: a value may hold
 * several, `Digest realm="a", nonce="b", Basic realm="c"`). Returns undefined when malformed. Never throws.
 */
export function parseAuthChallenges(value: string): AuthChallenge[] | undefined {
  const list = new ChallengeList();
  return scanAuthChallenges(value, list) ? list.challenges : undefined;
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

/** The auth-params of a Digest challenge an answer reads (undefined: absent); the first occurrence of each. */
interface DigestParams {
  readonly realm: string | undefined;
  readonly nonce: string | undefined;
  readonly opaque: string | undefined;
  readonly algorithm: string | undefined;
  readonly qop: string | undefined;
  readonly stale: string | undefined;
}

/** Turns a `Digest` challenge into something we can answer, or says why not. */
export function toDigestChallenge(raw: AuthChallenge): DigestChallenge | string {
  if (raw.scheme.length !== 6 || !equalsLowerAt(raw.scheme, 0, "digest")) return `scheme ${raw.scheme} is not Digest`;
  const p = raw.params;
  return digestChallengeOf({
    realm: p.get("realm"),
    nonce: p.get("nonce"),
    opaque: p.get("opaque"),
    algorithm: p.get("algorithm"),
    qop: p.get("qop"),
    stale: p.get("stale"),
  });
}

/** The answerable challenge a Digest challenge's auth-params describe, or why it is not one. */
function digestChallengeOf(p: DigestParams): DigestChallenge | string {
  const { realm, nonce } = p;
  // OpenSIPS refuses a challenge without realm or nonce, and an empty realm (reference §6.5, §5.2)
  if (realm === undefined || realm.length === 0) return "challenge without realm";
  if (nonce === undefined) return "challenge without nonce";
  const algorithmText = p.algorithm;
  const algorithm = canonicalAlgorithm(algorithmText);
  if (algorithm === undefined) return `unsupported algorithm ${algorithmText ?? ""}`;
  const qopList = p.qop;
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
  return { realm, nonce, opaque: p.opaque, algorithm, qop, stale: p.stale?.toLowerCase() === "true" };
}

/** One nonce's count, linked in the order of use (oldest first). */
interface NonceUse {
  readonly nonce: string;
  count: number;
  older: NonceUse | undefined;
  newer: NonceUse | undefined;
}

/**
 * Counts how often each nonce was used so a reused nonce gets nc=2, 3... (RFC 7616 §3.4). Bounded: the
 * least recently used nonce is forgotten first, and a forgotten nonce simply starts again at 1. The order of use
 * is a linked list: finding the oldest key of a Map through its iterator walked over every entry deleted before
 * it (about 1 µs per answer with 1,024 nonces, as many as the rest of the answer).
 */
export class NonceCounter {
  readonly #uses = new Map<string, NonceUse>();
  #oldest: NonceUse | undefined;
  #newest: NonceUse | undefined;
  constructor(readonly maxNonces = 1024) {}

  next(nonce: string): number {
    let use = this.#uses.get(nonce);
    if (use === undefined) {
      use = { nonce, count: 0, older: undefined, newer: undefined };
      this.#uses.set(nonce, use);
    } else {
      // a nonce seen before moves to the newest end
      this.#unlink(use);
    }
    use.count = use.count >= 0xffffffff ? 1 : use.count + 1;
    this.#append(use);
    if (this.#uses.size > this.maxNonces) {
      const oldest = this.#oldest;
      if (oldest !== undefined) {
        this.#unlink(oldest);
        this.#uses.delete(oldest.nonce);
      }
    }
    return use.count;
  }

  get size(): number {
    return this.#uses.size;
  }

  #append(use: NonceUse): void {
    use.older = this.#newest;
    use.newer = undefined;
    if (this.#newest !== undefined) this.#newest.newer = use;
    else this.#oldest = use;
    this.#newest = use;
  }

  #unlink(use: NonceUse): void {
    if (use.older !== undefined) use.older.newer = use.newer;
    else this.#oldest = use.newer;
    if (use.newer !== undefined) use.newer.older = use.older;
    else this.#newest = use.older;
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
  const ha1 = ha1Of(hash, d.algorithm, d.username, d.realm, d.password, d.nonce, d.cnonce);
  const ha2 = ha2Of(hash, d.qop, d.method, d.uri, d.body);
  return responseOf(hash, ha1, d.nonce, ha2, d.qop, d.nc, d.cnonce);
}

/** H(A1), with the cnonce hashed in for -sess (RFC 7616 §3.4.2). */
function ha1Of(
  hash: Hash,
  algorithm: DigestAlgorithm,
  username: string,
  realm: string,
  password: string,
  nonce: string,
  cnonce: string | undefined,
): string {
  const hexLen = HEX_LENGTH[hash];
  const ha1 =
    password.length === hexLen + 2 && password.startsWith("0x") && /^[0-9a-f]+$/.test(password.slice(2))
      ? password.slice(2)
      : h(hash, `${username}:${realm}:${password}`);
  if (!algorithm.endsWith("-sess")) return ha1;
  if (cnonce === undefined) throw new DigestError(`${algorithm} needs a cnonce`);
  return h(hash, `${ha1}:${nonce}:${cnonce}`);
}

/** H(A2) (RFC 7616 §3.4.3): H(method:uri), or with H(body) for auth-int. */
function ha2Of(hash: Hash, qop: DigestInputs["qop"], method: string, uri: string, body: Buffer | undefined): string {
  return qop === "auth-int"
    ? h(hash, `${method}:${uri}:${h(hash, body ?? Buffer.alloc(0))}`)
    : ha2Cache.get(hash, method, uri);
}

/** KD(H(A1), nonce:nc:cnonce:qop:H(A2)), or H(H(A1):nonce:H(A2)) without qop (RFC 2069). */
function responseOf(
  hash: Hash,
  ha1: string,
  nonce: string,
  ha2: string,
  qop: DigestInputs["qop"],
  nc: string | undefined,
  cnonce: string | undefined,
): string {
  if (qop === undefined) return h(hash, `${ha1}:${nonce}:${ha2}`);
  if (cnonce === undefined || nc === undefined) throw new DigestError("qop needs nc and cnonce");
  return h(hash, `${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`);
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

/** The Digest auth-params a challenge is answered from, by their lower-case names. */
const DIGEST_PARAM_NAMES = new SpellingIndex(
  (["realm", "nonce", "opaque", "algorithm", "qop", "stale"] as const).map((name) => [name, name] as const),
);

function stronger(a: DigestChallenge, b: DigestChallenge | undefined): boolean {
  return b === undefined || STRENGTH[HASH_OF[a.algorithm]] > STRENGTH[HASH_OF[b.algorithm]];
}

/**
 * Reads the challenge headers of a 401/407 and keeps the strongest usable challenge (the first one among equals)
 * and the reasons the others were refused, without a map or an object per challenge read.
 */
class ChallengeChooser implements ChallengeSink, DigestParams {
  best: DigestChallenge | undefined;
  readonly refused: string[] = [];
  /** the strongest of the value being read: kept only if the whole value parses */
  #valueBest: DigestChallenge | undefined;
  #open = false;
  /** the current challenge's scheme when it is not Digest */
  #otherScheme: string | undefined;
  realm: string | undefined;
  nonce: string | undefined;
  opaque: string | undefined;
  algorithm: string | undefined;
  qop: string | undefined;
  stale: string | undefined;

  /** One header value; a malformed one counts as one refusal, whatever it held. */
  read(value: string, headerName: string): void {
    const mark = this.refused.length;
    this.#valueBest = undefined;
    const ok = scanAuthChallenges(value, this);
    if (ok) this.#close();
    this.#open = false;
    if (!ok) {
      this.refused.length = mark;
      this.refused.push(`malformed ${headerName}`);
    } else if (this.#valueBest !== undefined && stronger(this.#valueBest, this.best)) {
      this.best = this.#valueBest;
    }
  }

  scheme(value: string, start: number, end: number): void {
    this.#close();
    this.#open = true;
    this.#otherScheme =
      end - start === 6 && equalsLowerAt(value, start, "digest") ? undefined : value.slice(start, end);
    this.realm = this.nonce = this.opaque = this.algorithm = this.qop = this.stale = undefined;
  }

  param(value: string, ns: number, ne: number, vs: number, ve: number): void {
    const name = DIGEST_PARAM_NAMES.at(value, ns, ne);
    // the first occurrence of a name counts
    if (name !== undefined && this[name] === undefined) this[name] = paramText(value, vs, ve);
  }

  /** The current challenge is complete: refused, or a candidate. */
  #close(): void {
    if (!this.#open) return;
    this.#open = false;
    if (this.#otherScheme !== undefined) {
      this.refused.push(`scheme ${this.#otherScheme} is not Digest`);
      return;
    }
    const c = digestChallengeOf(this);
    if (typeof c === "string") this.refused.push(c);
    else if (stronger(c, this.#valueBest)) this.#valueBest = c;
  }
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
  const name = response.status === 407 ? "proxy-authenticate" : "www-authenticate";
  const chooser = new ChallengeChooser();
  for (const header of response.headers) if (header.name === name) chooser.read(header.value, name);
  const best = chooser.best;
  if (best === undefined) {
    const why = chooser.refused.length > 0 ? chooser.refused.join("; ") : "no challenge";
    return { ok: false, error: new DigestError(`no usable digest challenge: ${why}`) };
  }
  try {
    const { algorithm, realm, nonce, qop } = best;
    let nc: string | undefined;
    let cnonce: string | undefined;
    if (qop !== undefined) {
      const count = (opts?.nonceCounts ?? defaultNonceCounts).next(nonce);
      // a nonce is nearly always used once: its nc needs no formatting
      nc = count === 1 ? "00000001" : count.toString(16).padStart(8, "0");
      cnonce = (opts?.cnonce ?? cryptoIds.cnonce)();
    }
    const hash = HASH_OF[algorithm];
    const ha1 = ha1Of(hash, algorithm, creds.username, realm, creds.password, nonce, cnonce);
    const ha2 = ha2Of(hash, qop, request.method, request.uri, request.body);
    const digest = responseOf(hash, ha1, nonce, ha2, qop, nc, cnonce);
    return {
      ok: true,
      header: response.status === 407 ? "Proxy-Authorization" : "Authorization",
      value: authorizationValue(creds.username, best, request.uri, nc, cnonce, digest),
      stale: best.stale,
    };
  } catch (e) {
    return {
      ok: false,
      error: e instanceof DigestError ? e : new DigestError("digest computation failed", { cause: e }),
    };
  }
}

/**
 * The credentials as OpenSIPS lays them out (see answerChallenge). The quotes are written in the templates, not
 * by `quote` (a string less per value); an array join, flat but slower to build, cost more CPU than it saved.
 */
function authorizationValue(
  username: string,
  c: DigestChallenge,
  uri: string,
  nc: string | undefined,
  cnonce: string | undefined,
  digest: string,
): string {
  let value = `Digest username="${escapeQuoted(username)}", realm="${escapeQuoted(c.realm)}"`;
  value += `, nonce="${escapeQuoted(c.nonce)}", uri="${escapeQuoted(uri)}"`;
  if (c.opaque !== undefined) value += `, opaque="${escapeQuoted(c.opaque)}"`;
  if (c.qop !== undefined && nc !== undefined && cnonce !== undefined) {
    value += `, qop=${c.qop}, nc=${nc}, cnonce="${escapeQuoted(cnonce)}"`;
  }
  // the digest is hex: nothing to escape
  return `${value}, response="${digest}", algorithm=${c.algorithm}`;
}
