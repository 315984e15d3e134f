import type { Coords } from "./coords.js";

/** One row of the OpenSIPS `registrant` table as any store reads it, before the load checks (reference §1.1). */
export interface RegistrantRow {
  /** primary key, only used to name the row in error messages */
  readonly id: string;
  readonly registrar: string | null;
  readonly proxy: string | null;
  readonly aor: string | null;
  readonly third_party_registrant: string | null;
  readonly username: string | null;
  readonly password: string | null;
  readonly binding_URI: string | null;
  readonly binding_params: string | null;
  /** raw column value; NULL allowed by the schema */
  readonly expiry: number | string | null;
  readonly forced_socket: string | null;
  readonly cluster_shtag: string | null;
  readonly state: number | string | null;
}

/** A sharing tag as OpenSIPS writes it in `cluster_shtag`: `name/cluster_id`. */
export interface ShtagRef {
  readonly tag: string;
  readonly clusterId: number;
}

/** A record definition that passed the load checks (reference §3.1): what the engine builds a record from. */
export interface RecordSpec extends Coords {
  readonly proxy?: string;
  readonly thirdPartyRegistrant?: string;
  readonly username?: string;
  readonly password?: string;
  /** verbatim, starts with ';' */
  readonly bindingParams?: string;
  readonly expirySec: number;
  readonly forcedSocket?: string;
  readonly shtag?: ShtagRef;
  readonly enabled: boolean;
  /** reg-id + +sip.instance in binding_params: OpenSIPS's FORCE_SINGLE_REGISTRATION */
  readonly uniqueBinding: boolean;
}
