import type { Clock } from "../clock.js";
import { systemClock } from "../clock.js";
import type { Coords } from "../registrant/coords.js";
import type { RegistrantStore } from "../store/store.js";

/** Coordinates no row can have (an AOR is a SIP URI): a probe that reads nothing. */
const PROBE: Coords = { aor: "", contact: "", registrar: "" };

/**
 * The store's health for `registrantd_db_up`, without a probe loop of its own: every store call the daemon
 * makes (load, reload, enable/disable write-backs) records whether it worked; when none happened for
 * `probeAfterMs`, the next read starts a cheap `loadOne` of impossible coordinates and reports the result on
 * the following scrape. The store methods pass through untouched.
 */
export class StoreHealth {
  readonly store: RegistrantStore;
  private up = true;
  private lastMs = Number.NEGATIVE_INFINITY;
  private probing = false;

  constructor(
    inner: RegistrantStore,
    private readonly probeAfterMs = 30_000,
    private readonly clock: Clock = systemClock,
  ) {
    const track = <T>(p: Promise<T>): Promise<T> =>
      p.then(
        (v) => {
          this.note(true);
          return v;
        },
        (err: unknown) => {
          this.note(false);
          throw err;
        },
      );
    this.store = {
      kind: inner.kind,
      scanAll: (visit) => track(inner.scanAll(visit)),
      loadOne: (coords) => track(inner.loadOne(coords)),
      writeState: (coords, state) => track(inner.writeState(coords, state)),
      close: () => inner.close(),
    };
  }

  /** For MetricsOptions.db. */
  readonly read = (): { kind: string; up: boolean } => {
    if (!this.probing && this.clock.monoMs() - this.lastMs >= this.probeAfterMs) {
      this.probing = true;
      void this.store
        .loadOne(PROBE)
        .catch(() => undefined)
        .finally(() => {
          this.probing = false;
        });
    }
    return { kind: this.store.kind, up: this.up };
  };

  private note(ok: boolean): void {
    this.up = ok;
    this.lastMs = this.clock.monoMs();
  }
}
