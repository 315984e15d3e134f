import type { Coords } from "../registrant/coords.js";

/**
 * The record an outgoing REGISTER belongs to, read from its bytes: Request-URI = registrar, To = AOR,
 * Contact = binding URI (RFC 3261 §10.2; OpenSIPS builds them from exactly those three columns). A
 * `Contact: *` removal names no binding: undefined, and the caller falls back on the Call-ID.
 */
export function registerCoords(bytes: Uint8Array | string): Coords | undefined {
  const text = typeof bytes === "string" ? bytes : Buffer.from(bytes).toString("utf8");
  const headEnd = text.search(/\r?\n\r?\n/);
  const head = headEnd < 0 ? text : text.slice(0, headEnd);
  // §7.3.1: a line starting with whitespace continues the previous header
  const lines = head.split(/\r?\n(?![ \t])/);
  const start = /^REGISTER\s+(\S+)\s+SIP\/2\.0$/i.exec(lines[0] ?? "");
  if (!start) return undefined;
  let to: string | undefined;
  let contact: string | undefined;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line
      .slice(colon + 1)
      .replace(/\r?\n[ \t]+/g, " ")
      .trim();
    // §7.3.3 compact forms: t = To, m = Contact
    if (to === undefined && (name === "to" || name === "t")) to = addrSpec(value);
    else if (contact === undefined && (name === "contact" || name === "m")) contact = addrSpec(value);
  }
  if (to === undefined || contact === undefined || contact === "*") return undefined;
  return { aor: to, contact, registrar: start[1]! };
}

/** `"Alice" <sip:a@b>;tag=x` → `sip:a@b`; a bare `sip:a@b;tag=x` → `sip:a@b` (§20: header params follow `;`) */
function addrSpec(value: string): string {
  const lt = value.indexOf("<");
  if (lt >= 0) {
    const gt = value.indexOf(">", lt);
    return gt < 0 ? value.slice(lt + 1) : value.slice(lt + 1, gt);
  }
  const semi = value.indexOf(";");
  return (semi < 0 ? value : value.slice(0, semi)).trim();
}
