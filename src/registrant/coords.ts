/** A registrant's identity: (AOR, binding URI, registrar), exact strings (reference §3.3). */
export interface Coords {
  readonly aor: string;
  readonly contact: string;
  readonly registrar: string;
}

/** One string for maps; the separator cannot appear in a SIP URI unescaped. */
export function coordsKey(c: Coords): string {
  return `${c.aor}\n${c.contact}\n${c.registrar}`;
}

/** The Status/Report identifier OpenSIPS builds for a record (reference §9). */
export function srIdentifier(c: Coords): string {
  return `aor=${c.aor};contact=${c.contact};registrar=${c.registrar}`;
}
