import type { Coords } from "../../src/registrant/coords.js";
import type { RegistrantRow } from "../../src/registrant/record-spec.js";
import { StoreUnavailableError } from "../../src/errors.js";
import type { RegistrantStore, RowVisitor } from "../../src/store/store.js";

/** A RegistrantStore in memory, with a switch to simulate an outage. */
export class MemoryStore implements RegistrantStore {
  readonly kind = "dbtext" as const;
  rows: RegistrantRow[] = [];
  down = false;
  readonly writes: { coords: Coords; state: 0 | 1 }[] = [];

  constructor(rows: RegistrantRow[] = []) {
    this.rows = rows;
  }

  async scanAll(visit: RowVisitor): Promise<number> {
    this.check();
    for (const r of this.rows) visit({ ...r });
    return this.rows.length;
  }

  async loadOne(c: Coords): Promise<RegistrantRow[]> {
    this.check();
    return this.rows
      .filter((r) => r.aor === c.aor && r.binding_URI === c.contact && r.registrar === c.registrar)
      .map((r) => ({ ...r }));
  }

  async writeState(c: Coords, state: 0 | 1): Promise<void> {
    this.check();
    this.writes.push({ coords: c, state });
    for (const [i, r] of this.rows.entries()) {
      if (r.aor === c.aor && r.binding_URI === c.contact && r.registrar === c.registrar) this.rows[i] = { ...r, state };
    }
  }

  async close(): Promise<void> {}

  private check(): void {
    if (this.down) throw new StoreUnavailableError("memory store is down");
  }
}
