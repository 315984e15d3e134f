import type { ColumnNames } from "../config/config.js";
import { StoreVersionError } from "../errors.js";
import type { RegistrantRow } from "../registrant/record-spec.js";
import type { RowColumn } from "../registrant/row-check.js";

export type { RowColumn };

/** The twelve columns OpenSIPS reads (reference §1.4), in its SELECT order. */
export const ROW_COLUMNS = [
  "registrar",
  "proxy",
  "aor",
  "third_party_registrant",
  "username",
  "password",
  "binding_URI",
  "binding_params",
  "expiry",
  "forced_socket",
  "cluster_shtag",
  "state",
] as const satisfies readonly RowColumn[];

/** Where each of ROW_COLUMNS sits in a store's decoded record, in ROW_COLUMNS order. */
export type ColumnPositions = readonly number[];

/**
 * A raw row from one store's decoded record `cells`: `expiry` and `state` are numeric columns (kept as the store
 * gives them, for the load checks to judge), the others text. Both stores build their rows here so they type them
 * alike; one object literal of a fixed shape per row (a million rows are read at a cold start).
 */
export function registrantRow<T>(
  id: string,
  cells: readonly T[],
  at: ColumnPositions,
  text: (cell: T | undefined) => string | null,
  numeric: (cell: T | undefined) => number | string | null,
): RegistrantRow {
  return {
    id,
    registrar: text(cells[at[0]!]),
    proxy: text(cells[at[1]!]),
    aor: text(cells[at[2]!]),
    third_party_registrant: text(cells[at[3]!]),
    username: text(cells[at[4]!]),
    password: text(cells[at[5]!]),
    binding_URI: text(cells[at[6]!]),
    binding_params: text(cells[at[7]!]),
    expiry: numeric(cells[at[8]!]),
    forced_socket: text(cells[at[9]!]),
    cluster_shtag: text(cells[at[10]!]),
    state: numeric(cells[at[11]!]),
  };
}

/** `uac_registrant`'s REG_TABLE_VERSION: the only `version` value it accepts (reference §1.1). */
export const REGISTRANT_TABLE_VERSION = 3;

/** The primary key is not a modparam; OpenSIPS never reads it, we only use it to name rows in messages. */
export const ID_COLUMN = "id";

/** One logical column with the name the operator configured and the modparam that configures it. */
export interface ColumnRef {
  readonly column: RowColumn;
  readonly name: string;
  readonly modparam: keyof ColumnNames;
}

export function columnRefs(names: ColumnNames): readonly ColumnRef[] {
  return ROW_COLUMNS.map((column) => {
    const modparam = `${column}_column` as const satisfies keyof ColumnNames;
    return { column, name: names[modparam], modparam };
  });
}

/** Maps a logical column to the configured name, for error messages that an operator greps in his own schema. */
export function columnLabeler(names: ColumnNames): (column: RowColumn) => string {
  return (column) => names[`${column}_column`];
}

/**
 * The names of configured columns the table does not have, compared case-insensitively as MySQL compares column
 * names. Each entry names the modparam so the operator knows what to fix.
 */
export function missingColumns(refs: readonly ColumnRef[], tableColumns: readonly string[]): string[] {
  const present = new Set(tableColumns.map((c) => c.toLowerCase()));
  return refs.filter((r) => !present.has(r.name.toLowerCase())).map((r) => `${r.name} (${r.modparam})`);
}

/**
 * OpenSIPS's `db_check_table_version` verdict on the `table_version` values found for `table` (reference §1.1).
 * Throws StoreVersionError with OpenSIPS's wording.
 */
export function checkTableVersion(table: string, versions: readonly unknown[]): void {
  if (versions.length === 0) {
    throw new StoreVersionError(
      `'${table}' record not found in 'version' table, expected ver ${REGISTRANT_TABLE_VERSION}`,
    );
  }
  if (versions.length > 1) {
    throw new StoreVersionError(`${versions.length} records for table '${table}' found in 'version' table, expected 1`);
  }
  const raw = versions[0];
  const version =
    typeof raw === "bigint" ? Number(raw) : typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof version !== "number" || !Number.isInteger(version)) {
    throw new StoreVersionError(`invalid version value ${String(raw)} for table '${table}' in 'version' table`);
  }
  if (version !== REGISTRANT_TABLE_VERSION) {
    throw new StoreVersionError(
      `invalid version ${version} for table ${table} found, expected ${REGISTRANT_TABLE_VERSION}`,
    );
  }
}
