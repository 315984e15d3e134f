import type { Coords } from "../registrant/coords.js";
import type { RegistrantRow } from "../registrant/record-spec.js";

/**
 * Where registrant rows live: MariaDB or the embedded db_text directory. Stores return raw rows; the load
 * checks (registrant/row-check.ts) are the same for both.
 */
export interface RegistrantStore {
  readonly kind: "mariadb" | "dbtext";
  /** every row of the table, in the order the DB returns them */
  loadAll(): Promise<RegistrantRow[]>;
  /** rows matching the three key columns (MySQL collation rules, as OpenSIPS's query) */
  loadOne(coords: Coords): Promise<RegistrantRow[]>;
  /** OpenSIPS writes 0 (enabled) or 1 (disabled) back on MI enable/disable/delete */
  writeState(coords: Coords, state: 0 | 1): Promise<void>;
  close(): Promise<void>;
}
