/**
 * Scenario 1, cold start: N rows in the store (MariaDB or db_text) to every record loaded and MI answering.
 * `loadMs` is startDaemon() inside the process (store read, row checks, table, sockets); `startMs` adds forking
 * Node with the TypeScript loader. Memory right after the load, before any SIP traffic.
 */
import type { Rig } from "./rig.js";

export interface ColdStartFigures {
  readonly store: string;
  readonly n: number;
  readonly records: number;
  readonly loadMs: number;
  readonly startMs: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly rssPerRegistrantBytes: number;
}

export function coldStart(rig: Rig): ColdStartFigures {
  const r = rig.probe.ready;
  return {
    store: rig.store,
    n: rig.n,
    records: r.records,
    loadMs: r.loadMs,
    startMs: rig.startMs,
    rssBytes: r.rssBytes,
    heapUsedBytes: r.heapUsedBytes,
    rssPerRegistrantBytes: r.rssBytes / rig.n,
  };
}
