import { answerChallenge } from "../sip/digest.js";
import type { DigestAnswer } from "../sip/digest.js";
import { contactExpiresParam, parseContactExpiries, parseDeltaSecondsHeader, parseRetryAfter } from "../sip/headers.js";
import type { SipResponse } from "../sip/message.js";
import { headerValue, headerValues } from "../sip/message.js";
import { parseUri, urisEqual } from "../sip/uri.js";

/** One contact of a 200 OK: its URI and its raw `expires` parameter (null = no value, absent = none). */
export interface ReplyContact {
  readonly uri: string;
  readonly expires?: string | null | undefined;
}

/**
 * The SIP wire functions the machine uses to read replies and answer challenges, behind one seam so tests can
 * pin the cnonce. `wireReaders` is the real thing (src/sip/headers.ts, uri.ts, digest.ts).
 */
export interface ReplyReaders {
  /** every contact of every Contact header, in order; undefined when a Contact header does not parse */
  contacts(response: SipResponse): readonly ReplyContact[] | undefined;
  /** RFC 3261 §19.1.4 URI comparison */
  urisEqual(a: string, b: string): boolean;
  answerChallenge(
    response: SipResponse,
    credentials: { readonly username: string; readonly password: string },
    request: { readonly method: "REGISTER"; readonly uri: string },
  ): DigestAnswer;
}

export const wireReaders: ReplyReaders = {
  contacts(response) {
    const parsed = parseContactExpiries(headerValues(response, "contact"));
    return parsed.ok ? parsed.contacts : undefined;
  },
  urisEqual: (a, b) => urisEqual(a, b),
  answerChallenge: (response, credentials, request) => answerChallenge(response, credentials, request),
};

/**
 * Granted expiry of a 200 OK (reference §5.2 step 4): the `expires` of the first contact equal to our binding
 * (RFC 3261 §19.1.4), read OpenSIPS's way (`60s` → 60); when that is absent or 0, the `Expires` header; 0 = none.
 */
export function grantedExpires(
  response: SipResponse,
  contacts: readonly ReplyContact[],
  binding: string,
  equal: (a: string, b: string) => boolean,
): number {
  // §11.10 fix: a registrar (or a rewrite) may add parameters; then take the contact with our user, host and port
  const ours = contactFor(contacts, binding, equal) ?? contactFor(contacts, binding, sameAddress);
  if (ours?.expires !== undefined) {
    const fromContact = contactExpiresParam(ours.expires).seconds;
    if (fromContact > 0) return fromContact;
  }
  const header = headerValue(response, "expires");
  if (header === undefined) return 0;
  const parsed = parseDeltaSecondsHeader(header);
  return parsed.ok ? parsed.seconds : 0;
}

/** The first contact whose URI `match`es the binding (a loop: `find` would make a closure per 200). */
function contactFor(
  contacts: readonly ReplyContact[],
  binding: string,
  match: (a: string, b: string) => boolean,
): ReplyContact | undefined {
  for (const c of contacts) if (match(c.uri, binding)) return c;
  return undefined;
}

/** Same scheme, user, host and port: the loose match used when no contact equals the binding exactly. */
export function sameAddress(a: string, b: string): boolean {
  const x = parseUri(a);
  const y = parseUri(b);
  if (!x.ok || !y.ok) return false;
  return (
    x.uri.scheme === y.uri.scheme &&
    x.uri.user === y.uri.user &&
    x.uri.host.toLowerCase() === y.uri.host.toLowerCase() &&
    x.uri.port === y.uri.port
  );
}

/** `Min-Expires` of a 423 (RFC 3261 §20.23), undefined when absent or malformed. */
export function minExpires(response: SipResponse): number | undefined {
  const v = headerValue(response, "min-expires");
  if (v === undefined) return undefined;
  const parsed = parseDeltaSecondsHeader(v);
  return parsed.ok ? parsed.seconds : undefined;
}

/** `Retry-After` delta-seconds (RFC 3261 §20.33), undefined when absent or malformed. */
export function retryAfterSec(response: SipResponse): number | undefined {
  const v = headerValue(response, "retry-after");
  if (v === undefined) return undefined;
  const parsed = parseRetryAfter(v);
  return parsed.ok ? parsed.seconds : undefined;
}
