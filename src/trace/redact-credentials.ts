/**
 * Masks what a trace must never keep: the credentials of Authorization / Proxy-Authorization header lines
 * (RFC 3261 §22.2, §22.3). For Digest only the `response` (a hash of the password) is hidden, so username,
 * realm, nonce, uri, algorithm, qop and nc stay readable for diagnosis; any other scheme (Basic carries the
 * password itself) loses its whole credentials. Header names are case-insensitive (§7.3.1); neither header
 * has a compact form. Folded continuation lines (§7.3.1) belong to the header they continue.
 */
const AUTH_LINE = /^((?:proxy-)?authorization[ \t]*:[ \t]*)(.*(?:\r?\n[ \t]+.*)*)$/gim;
const RESPONSE_PARAM = /(^|[,\s])(response[ \t]*=[ \t]*)("(?:[^"\\]|\\.)*"|[^,\s]*)/gi;

export const REDACTED = "[redacted]";

export function redactCredentials(text: string): string {
  return text.replace(AUTH_LINE, (_line, head: string, value: string) => {
    const cr = value.endsWith("\r") ? "\r" : "";
    const creds = cr ? value.slice(0, -1) : value;
    const scheme = /^digest\s/i.exec(creds);
    if (!scheme) return `${head}${REDACTED}${cr}`;
    return `${head}${creds.replace(RESPONSE_PARAM, (_m, pre: string, key: string) => `${pre}${key}"${REDACTED}"`)}${cr}`;
  });
}
