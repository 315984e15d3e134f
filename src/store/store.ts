import type { Coords } from "../registrant/coords.js";
import type { RegistrantRow } from "../registrant/record-spec.js";

/** Takes each row of a full read as the store decodes it. */
export type RowVisitor = (row: RegistrantRow) => void;

/**
 * Where registrant rows live: MariaDB or the embedded db_text directory. Stores return raw rows; the load
 * checks (registrant/row-check.ts) are the same for both.
 */
export interface RegistrantStore {
  readonly kind: "mariadb" | "dbtext";
  /**
   * Every row of the table, in the order the DB returns them, each handed to `visit` as soon as it is decoded, so
   * a million-row table never sits in memory as raw rows. Resolves with the number of rows; on a failure midway
   * it rejects after some rows were visited: the caller keeps nothing of a failed read.
   */
  scanAll(visit: RowVisitor): Promise<number>;
  /** rows matching the three key columns (MySQL collation rules, as OpenSIPS's query) */
  loadOne(coords: Coords): Promise<RegistrantRow[]>;
  /** OpenSIPS writes 0 (enabled) or 1 (disabled) back on MI enable/disable/delete */
  writeState(coords: Coords, state: 0 | 1): Promise<void>;
  close(): Promise<void>;
}

/** Every row as one list, for tools and tests that look at the whole table (the daemon's load streams). */
export async function loadAllRows(store: RegistrantStore): Promise<RegistrantRow[]> {
  const rows: RegistrantRow[] = [];
  await store.scanAll((row) => rows.push(row));
  return rows;
}
