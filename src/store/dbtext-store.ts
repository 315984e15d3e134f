import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ColumnNames } from "../config/config.js";
import { ConfigError, StoreUnavailableError, StoreVersionError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Coords } from "../registrant/coords.js";
import type { RegistrantRow } from "../registrant/record-spec.js";
import {
  checkTableVersion,
  columnRefs,
  ID_COLUMN,
  missingColumns,
  registrantRow,
  REGISTRANT_TABLE_VERSION,
  ROW_COLUMNS,
} from "./columns.js";
import type { ColumnPositions, ColumnRef, RowColumn } from "./columns.js";
import { encodeValue, fileLines, formatHeader, parseHeader, parseRow } from "./dbtext-table.js";
import type { DbtextColumn, DbtextValue } from "./dbtext-table.js";
import type { RegistrantStore, RowVisitor } from "./store.js";

export interface DbtextStoreOptions {
  /** create the directory, the table file and its `version` row when they do not exist (the embedded default) */
  readonly create: boolean;
}

/** OpenSIPS's own db_text files for a fresh embedded database (scripts/dbtext/opensips/{registrant,version}). */
const SCHEMA_DIR = fileURLToPath(new URL("../../schemas/dbtext/", import.meta.url));
const VERSION_TABLE = "version";

/** Where each logical column sits in the file, found from the header line by the configured names. */
interface Layout {
  readonly idIndex: number;
  readonly index: Readonly<Record<RowColumn, number>>;
  /** `index` in ROW_COLUMNS order */
  readonly positions: ColumnPositions;
}

/**
 * The registrant table as an OpenSIPS db_text directory: `<dir>/<table_name>` and `<dir>/version`. Every load reads
 * the file again (an operator may edit it between reloads). A state write-back rewrites only the `state` field of
 * the matching lines and replaces the file atomically (temp file, fsync, rename), so a crash leaves the old or the
 * new file, never half of one.
 */
export class DbtextStore implements RegistrantStore {
  readonly kind = "dbtext";
  readonly #dir: string;
  readonly #table: string;
  readonly #refs: readonly ColumnRef[];
  readonly #log: Logger;
  /** writes are chained so two state updates never rewrite the file at the same time */
  #writing: Promise<unknown> = Promise.resolve();

  private constructor(dir: string, table: string, refs: readonly ColumnRef[], log: Logger) {
    this.#dir = dir;
    this.#table = table;
    this.#refs = refs;
    this.#log = log;
  }

  static async open(
    dir: string,
    table: string,
    columns: ColumnNames,
    log: Logger,
    options: DbtextStoreOptions,
  ): Promise<DbtextStore> {
    if (table === "" || table.includes("/") || table === "." || table === "..") {
      throw new ConfigError(`table_name "${table}" cannot name a db_text file`);
    }
    const store = new DbtextStore(dir, table, columnRefs(columns), log.child({ mod: "store.dbtext" }));
    if (options.create) await store.#createIfMissing();
    await store.#checkVersion();
    await store.#checkHeader();
    store.#log.info({ dir, table }, "registrant table opened");
    return store;
  }

  get path(): string {
    return join(this.#dir, this.#table);
  }

  async scanAll(visit: RowVisitor): Promise<number> {
    const count = await this.#scanTable(visit);
    this.#log.info(`loading [${count}] records from db`);
    return count;
  }

  async loadOne(coords: Coords): Promise<RegistrantRow[]> {
    // db_text compares strings exactly (no collation)
    const rows: RegistrantRow[] = [];
    await this.#scanTable((r) => {
      if (r.aor === coords.aor && r.binding_URI === coords.contact && r.registrar === coords.registrar) rows.push(r);
    });
    return rows;
  }

  writeState(coords: Coords, state: 0 | 1): Promise<void> {
    const next = this.#writing.then(() => this.#rewriteState(coords, state));
    this.#writing = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.#writing;
  }

  async #rewriteState(coords: Coords, state: 0 | 1): Promise<void> {
    const { content, mode } = await this.#readRaw(this.path);
    const lines = content.split("\n");
    const header = parseHeader(stripCr(lines[0] ?? ""));
    if (!header.ok) throw new StoreUnavailableError(`${this.path}: line 1: ${header.error}`);
    const layout = this.#layout(header.value);
    let matched = 0;
    let changed = false;
    for (let n = 1; n < lines.length; n++) {
      const raw = lines[n]!;
      const line = stripCr(raw);
      if (line === "") continue;
      const parsed = parseRow(line, header.value);
      if (!parsed.ok) continue;
      const v = parsed.value.values;
      const same = (col: RowColumn, want: string): boolean => asText(v[layout.index[col]]) === want;
      if (!same("aor", coords.aor) || !same("binding_URI", coords.contact) || !same("registrar", coords.registrar)) {
        continue;
      }
      matched++;
      const fields = [...parsed.value.rawFields];
      const stateIndex = layout.index.state;
      if (fields[stateIndex] === String(state)) continue;
      fields[stateIndex] = String(state);
      lines[n] = fields.join(":") + (raw.endsWith("\r") ? "\r" : "");
      changed = true;
    }
    if (matched === 0) this.#log.debug({ ...coords, state }, "state update matched no row");
    if (changed) await writeFileAtomic(this.path, lines.join("\n"), mode);
  }

  /** At open: the table file is readable and its header has every configured column. */
  async #checkHeader(): Promise<void> {
    const header = parseHeader(fileLines(await this.#readText(this.path))[0] ?? "");
    if (!header.ok) throw new StoreUnavailableError(`${this.path}: line 1: ${header.error}`);
    this.#layout(header.value);
  }

  /** Each data line of the table file as a row; the number of rows. */
  async #scanTable(visit: RowVisitor): Promise<number> {
    const content = await this.#readText(this.path);
    let count = 0;
    let layout: Layout | undefined;
    let columns: readonly DbtextColumn[] = [];
    // line by line over the text (no array of a million lines), cut as fileLines() cuts them
    for (let start = 0, n = 1; start < content.length; n++) {
      const newline = content.indexOf("\n", start);
      const end = newline < 0 ? content.length : newline;
      const line = content.slice(start, end > start && content.charCodeAt(end - 1) === 0x0d ? end - 1 : end);
      start = end + 1;
      if (layout === undefined) {
        const header = parseHeader(line);
        if (!header.ok) throw new StoreUnavailableError(`${this.path}: line 1: ${header.error}`);
        columns = header.value;
        layout = this.#layout(columns);
        continue;
      }
      if (line === "") continue;
      const parsed = parseRow(line, columns);
      if (!parsed.ok) {
        // OpenSIPS's db_text would refuse the whole file; we skip the line, as the load checks skip a bad row
        this.#log.error({ table: this.#table, line: n, reason: parsed.error }, "db_text line skipped");
        continue;
      }
      const values = parsed.value.values;
      const id = layout.idIndex >= 0 ? asText(values[layout.idIndex]) : null;
      visit(registrantRow(id ?? `line ${n}`, values, layout.positions, asText, numeric));
      count++;
    }
    if (layout === undefined) throw new StoreUnavailableError(`${this.path}: line 1: bad column definition ""`);
    return count;
  }

  #layout(columns: readonly DbtextColumn[]): Layout {
    const names = columns.map((c) => c.name);
    const missing = missingColumns(this.#refs, names);
    if (missing.length > 0) throw new ConfigError(`${this.path}: no column ${missing.join(", ")}`);
    const find = (name: string): number => {
      const exact = names.indexOf(name);
      return exact >= 0 ? exact : names.findIndex((n) => n.toLowerCase() === name.toLowerCase());
    };
    const index = Object.fromEntries(this.#refs.map((r) => [r.column, find(r.name)])) as Record<RowColumn, number>;
    return { idIndex: find(ID_COLUMN), index, positions: ROW_COLUMNS.map((c) => index[c]) };
  }

  async #checkVersion(): Promise<void> {
    const path = join(this.#dir, VERSION_TABLE);
    let content: string;
    try {
      content = await this.#readText(path);
    } catch (err) {
      if (err instanceof StoreUnavailableError && isNotFound(err.cause)) {
        throw new StoreVersionError(`db_text table 'version' not found in ${this.#dir}`, { cause: err });
      }
      throw err;
    }
    const lines = fileLines(content);
    const header = parseHeader(lines[0] ?? "");
    if (!header.ok) throw new StoreVersionError(`${path}: line 1: ${header.error}`);
    const nameAt = header.value.findIndex((c) => c.name === "table_name");
    const versionAt = header.value.findIndex((c) => c.name === "table_version");
    if (nameAt < 0 || versionAt < 0) {
      throw new StoreVersionError(`${path}: expected columns table_name and table_version`);
    }
    const versions: DbtextValue[] = [];
    for (let n = 1; n < lines.length; n++) {
      const line = lines[n]!;
      if (line === "") continue;
      const parsed = parseRow(line, header.value);
      if (!parsed.ok) throw new StoreVersionError(`${path}: line ${n + 1}: ${parsed.error}`);
      if (asText(parsed.value.values[nameAt]) === this.#table) versions.push(parsed.value.values[versionAt] ?? null);
    }
    checkTableVersion(this.#table, versions);
  }

  /** First start of the embedded default: OpenSIPS's schema files, with the configured table and column names. */
  async #createIfMissing(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    if (await exists(this.path)) return;
    const schema = fileLines(await readFile(join(SCHEMA_DIR, "registrant"), "utf8"));
    const header = parseHeader(schema[0] ?? "");
    if (!header.ok) throw new Error(`schemas/dbtext/registrant: ${header.error}`);
    const renamed = new Map<string, string>(this.#refs.map((r) => [r.column, r.name]));
    const columns = header.value.map((c) => ({ ...c, name: renamed.get(c.name) ?? c.name }));
    await writeFileAtomic(this.path, formatHeader(columns) + "\n", 0o600);

    const versionPath = join(this.#dir, VERSION_TABLE);
    const row = `${encodeValue(this.#table)}:${REGISTRANT_TABLE_VERSION}\n`;
    if (await exists(versionPath)) {
      const { content, mode } = await this.#readRaw(versionPath);
      const hasRow = fileLines(content).some((l, i) => i > 0 && l.startsWith(`${encodeValue(this.#table)}:`));
      if (!hasRow) await writeFileAtomic(versionPath, content + (content.endsWith("\n") ? "" : "\n") + row, mode);
    } else {
      const versionSchema = fileLines(await readFile(join(SCHEMA_DIR, VERSION_TABLE), "utf8"));
      await writeFileAtomic(versionPath, `${versionSchema[0] ?? ""}\n${row}`, 0o600);
    }
    this.#log.info({ dir: this.#dir, table: this.#table }, "created the embedded db_text database");
  }

  /** The file's text and permission bits: a rewrite keeps the bits. */
  async #readRaw(path: string): Promise<{ content: string; mode: number }> {
    try {
      const [content, st] = await Promise.all([readFile(path, "utf8"), stat(path)]);
      return { content, mode: st.mode & 0o777 };
    } catch (err) {
      throw readError(path, err);
    }
  }

  /** The file's text, for the reads that write nothing back (no stat). */
  async #readText(path: string): Promise<string> {
    try {
      return await readFile(path, "utf8");
    } catch (err) {
      throw readError(path, err);
    }
  }
}

/** Write to a temp file in the same directory, fsync it, rename it over `path`, fsync the directory. */
async function writeFileAtomic(path: string, content: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    const fh = await open(tmp, "wx", mode);
    try {
      await fh.chmod(mode); // open()'s mode is filtered by the umask
      await fh.writeFile(content, "utf8");
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    const reason = err instanceof Error ? err.message : String(err);
    throw new StoreUnavailableError(`cannot write db_text file ${path}: ${reason}`, { cause: err });
  }
  // the new file is in place: a directory that cannot be opened or fsynced (some file systems) fails nothing
  const dir = await open(dirname(path), "r").catch(() => undefined);
  if (dir === undefined) return;
  try {
    await dir.sync();
  } catch {
    // the rename itself is still atomic
  } finally {
    await dir.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

function readError(path: string, err: unknown): StoreUnavailableError {
  const reason = err instanceof Error ? err.message : String(err);
  return new StoreUnavailableError(`cannot read db_text file ${path}: ${reason}`, { cause: err });
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === "ENOENT";
}

function numeric(v: DbtextValue | undefined): number | string | null {
  return v ?? null;
}

function asText(v: DbtextValue | undefined): string | null {
  if (v === null || v === undefined) return null;
  return typeof v === "string" ? v : String(v);
}

function stripCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}
