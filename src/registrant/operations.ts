import type { Coords } from "./coords.js";
import type { RecordSpec, ShtagRef } from "./record-spec.js";
import type { RegStateValue } from "./state.js";

/** What MI `list` (and the dashboard) shows of one record; times in Unix seconds, 0 = never. */
export interface RecordView extends Coords {
  readonly recordId: number;
  readonly expiresSec: number;
  readonly state: RegStateValue;
  readonly enabled: boolean;
  readonly lastRegisterSentSec: number;
  readonly registrationTimeoutSec: number;
  readonly bindingParams?: string;
  readonly thirdPartyRegistrant?: string;
  /** `proto:ip:port` of the forced socket, or of the one used after the first send */
  readonly socket?: string;
  readonly proxy?: string;
  /** address (no port) a real reply came from; cleared after a timeout */
  readonly dstIp?: string;
  readonly shtag?: ShtagRef;
}

export type ReloadOneResult = "ok" | "not-in-db";

/**
 * The operations MI, the dashboard and the cluster layer call (reference §7). A record that is not in memory
 * answers `false`; store failures reject with StoreUnavailableError.
 */
export interface RegistrantOperations {
  /** every record, bucket 0..N-1 then list order inside each bucket */
  list(): Iterable<RecordView>;
  find(coords: Coords): RecordView | undefined;
  reloadAll(): Promise<void>;
  reloadOne(coords: Coords): Promise<ReloadOneResult>;
  enable(coords: Coords): Promise<boolean>;
  disable(coords: Coords): Promise<boolean>;
  forceRegister(coords: Coords): boolean;
  /** memory only; the spec already passed the load checks */
  upsert(spec: RecordSpec): void;
  delete(coords: Coords): Promise<boolean>;
}
