// Types of model.js for the TypeScript unit tests (the browser loads the plain module).
export declare const STATES: readonly string[];
export declare function stateOfEvent(method: string): string | undefined;
export declare function keyOf(aor: string, contact: string, registrar: string): string;

export interface DashboardRecord {
  readonly key: string;
  readonly aor: string;
  readonly contact: string;
  readonly registrar: string;
  state: string;
  enabled: boolean;
  recordId?: number;
  socket?: string;
  lastSentSec?: number;
  expiresSec?: number;
  dst?: string;
  shtag?: string;
  status?: number;
  reason?: string;
  lastEventMs?: number;
}

export declare function fromSnapshot(entry: Record<string, unknown>): Record<string, unknown>;
export declare function fromStateNotification(params: Record<string, unknown>): Record<string, unknown>;
export declare function fromMiList(record: Record<string, unknown>): Record<string, unknown>;
export declare const COLUMNS: Readonly<Record<string, (r: DashboardRecord) => string | number>>;

export declare class RegistrantModel {
  readonly records: Map<string, DashboardRecord>;
  readonly counts: number[];
  filter: { text: string; state: string };
  sort: { column: string; dir: 1 | -1 };
  view: DashboardRecord[];
  viewDirty: boolean;
  changed: boolean;
  readonly size: number;
  setSnapshot(list: readonly Record<string, unknown>[]): void;
  upsert(fields: Record<string, unknown>): DashboardRecord;
  remove(aor: string, contact: string, registrar: string): boolean;
  applyEvent(method: string, params: Record<string, unknown> | undefined, atMs: number): DashboardRecord | undefined;
  setFilter(filter: { text?: string; state?: string }): void;
  setSort(column: string): void;
  rebuild(): DashboardRecord[];
}
