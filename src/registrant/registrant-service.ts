import type { Clock } from "../clock.js";
import { systemClock } from "../clock.js";
import type { Config } from "../config/config.js";
import { RowError, StoreUnavailableError } from "../errors.js";
import type { Logger } from "../log.js";
import type { SipClient } from "../sip/sip-client.js";
import type { RegistrantStore } from "../store/store.js";
import { CoordsIndex } from "./coords-index.js";
import type { Coords } from "./coords.js";
import type { RandomInt } from "./dialog-ids.js";
import { columnLabeler } from "../store/columns.js";
import { checkEngineOptions, engineOptionsFromConfig } from "./engine-options.js";
import type { EngineOptions } from "./engine-options.js";
import { RegistrantMachine } from "./machine.js";
import type { ResumedDialog } from "./machine.js";
import type { RegistrantOperations, RecordView, ReloadOneResult } from "./operations.js";
import type { RegistrantRecord } from "./record.js";
import type { RecordSpec, RegistrantRow, ShtagRef } from "./record-spec.js";
import { wireReaders } from "./response.js";
import type { ReplyReaders } from "./response.js";
import { rowChecker } from "./row-check.js";
import { BucketScheduler, nextCheckSec, realTimers } from "./scheduler.js";
import type { TimerPort } from "./scheduler.js";
import { RegState, isWaiting } from "./state.js";
import type { StateChange, StateChangeListener, TableChange } from "./state-change.js";
import { RegistrantTable } from "./table.js";

export type TableChangeListener = (change: TableChange) => void;

export interface RegistrantServiceDeps {
  readonly store: RegistrantStore;
  readonly sip: SipClient;
  readonly clock: Clock;
  readonly log: Logger;
  readonly options: EngineOptions;
  /** the load checks of reference §3.1 (registrant/row-check.ts): a spec, or the reason the row is skipped */
  readonly specFromRow: (row: RegistrantRow) => RecordSpec | RowError;
  /** the SIP wire readers (Contact, URI comparison, digest); default: src/sip's */
  readonly readers?: ReplyReaders;
  /** the cluster layer: is this sharing tag ACTIVE on this node (reference §10) */
  readonly isActive?: (shtag: ShtagRef) => boolean;
  readonly timers?: TimerPort;
  readonly rand?: RandomInt;
  readonly jitter?: () => number;
}

const sameOptional = (a: string | undefined, b: string | undefined): boolean => (a ?? "") === (b ?? "");

/** Same row apart from the enabled flag (which is live state in memory). */
function sameDefinition(a: RecordSpec, b: RecordSpec): boolean {
  return (
    a.aor === b.aor &&
    a.contact === b.contact &&
    a.registrar === b.registrar &&
    sameOptional(a.proxy, b.proxy) &&
    sameOptional(a.thirdPartyRegistrant, b.thirdPartyRegistrant) &&
    sameOptional(a.username, b.username) &&
    sameOptional(a.password, b.password) &&
    sameOptional(a.bindingParams, b.bindingParams) &&
    a.expirySec === b.expirySec &&
    sameOptional(a.forcedSocket, b.forcedSocket) &&
    a.shtag?.tag === b.shtag?.tag &&
    a.shtag?.clusterId === b.shtag?.clusterId &&
    a.uniqueBinding === b.uniqueBinding
  );
}

/**
 * The engine as MI, the cluster layer and the daemon see it: the table, the timer and the machine, plus the
 * operations of reference §7 with the fixes of §11 (full-key lookups, reconciling reloads, stable ids).
 */
export class RegistrantService implements RegistrantOperations {
  private readonly table: RegistrantTable;
  private readonly machine: RegistrantMachine;
  private readonly scheduler: BucketScheduler;
  /** removed from the table but still finishing an unREGISTER */
  private readonly detached = new Map<number, RegistrantRecord>();
  private readonly stateListeners = new Set<StateChangeListener>();
  private readonly tableListeners = new Set<TableChangeListener>();
  private readonly timers: TimerPort;

  constructor(private readonly deps: RegistrantServiceDeps) {
    checkEngineOptions(deps.options, deps.log);
    this.timers = deps.timers ?? realTimers;
    this.table = new RegistrantTable(2 ** deps.options.hashSize);
    this.machine = new RegistrantMachine({
      options: deps.options,
      sip: deps.sip,
      clock: deps.clock,
      log: deps.log,
      readers: deps.readers ?? wireReaders,
      reschedule: (rec) => this.table.schedule(rec, nextCheckSec(rec, deps.options.timerIntervalSec)),
      emit: (change) => this.emitState(change),
      gateOpen: (rec) => this.gateOpen(rec),
      onSettled: (rec) => this.forget(rec),
      ...(deps.rand !== undefined && { rand: deps.rand }),
      ...(deps.jitter !== undefined && { jitter: deps.jitter }),
    });
    this.scheduler = new BucketScheduler({
      table: this.table,
      options: deps.options,
      clock: deps.clock,
      timers: this.timers,
      log: deps.log,
      gateOpen: (rec) => this.gateOpen(rec),
      visit: (rec) => {
        // a record waiting for its slot in a spread tick may have been replaced or removed since, or its sharing
        // tag may have gone backup: the gate is checked again at the moment of sending
        if (!this.table.has(rec)) return;
        if (this.gateOpen(rec)) this.machine.tick(rec);
        else this.table.schedule(rec, nextCheckSec(rec, deps.options.timerIntervalSec));
      },
      onClockJump: (driftSec) => {
        for (const rec of [...this.table.all(), ...this.detached.values()]) this.machine.shiftTimes(rec, driftSec);
      },
    });
  }

  /**
   * The service as the daemon builds it: options from the config (OpenSIPS modparams + our switches), OpenSIPS's
   * row checks with the configured column names in their messages, the system clock and real timers.
   */
  static fromConfig(
    config: Config,
    deps: {
      readonly store: RegistrantStore;
      readonly sip: SipClient & { hasSocket(spec: string): boolean };
      readonly log: Logger;
      readonly isActive?: (shtag: ShtagRef) => boolean;
      readonly clock?: Clock;
    },
  ): RegistrantService {
    const check = rowChecker({
      timerInterval: config.timer_interval,
      defaultExpires: config.default_expires,
      hasSocket: (spec: string) => deps.sip.hasSocket(spec),
      columnName: columnLabeler(config),
    });
    return new RegistrantService({
      store: deps.store,
      sip: deps.sip,
      clock: deps.clock ?? systemClock,
      log: deps.log,
      options: engineOptionsFromConfig(config),
      specFromRow: (row) => {
        const checked = check(row);
        return checked.ok ? checked.spec : checked.error;
      },
      ...(deps.isActive !== undefined && { isActive: deps.isActive }),
    });
  }

  /** Initial load (a store failure rejects) and the timer: the first bucket one period later (reference §3.6). */
  async start(): Promise<void> {
    await this.reloadAll();
    this.scheduler.start();
  }

  /**
   * Stops the timer. With `unregister` (default: the `unregister_on_shutdown` option) every registered record
   * is unregistered first, and the call waits for the replies up to `shutdown_unregister_timeout`.
   */
  async stop(opts: { unregister?: boolean } = {}): Promise<void> {
    this.scheduler.stop();
    if (!(opts.unregister ?? this.deps.options.unregisterOnShutdown)) return;
    for (const rec of this.table.all()) this.machine.disable(rec);
    await this.whenQuiet(this.deps.options.shutdownUnregisterTimeoutSec * 1000);
  }

  /** Runs the next bucket now (what the timer does every floor(TI/N) s); returns the number of due records. */
  tick(): number {
    return this.scheduler.tick();
  }

  onStateChange(listener: StateChangeListener): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  onTableChange(listener: TableChangeListener): () => void {
    this.tableListeners.add(listener);
    return () => this.tableListeners.delete(listener);
  }

  // ---- RegistrantOperations ----

  *list(): IterableIterator<RecordView> {
    for (const rec of this.table.all()) yield this.view(rec);
  }

  find(coords: Coords): RecordView | undefined {
    const rec = this.table.get(coords);
    return rec === undefined ? undefined : this.view(rec);
  }

  /**
   * Full reload (reference §7.4 with the §11.4 fix): rows are matched to records by the full key; unchanged
   * records are left alone (Call-ID, CSeq, state, reply in flight), changed ones are rebuilt, records gone from
   * the table or disabled in it are unregistered. A store failure leaves memory untouched and rejects.
   */
  async reloadAll(): Promise<void> {
    // each row is checked as it arrives: only the specs of the valid rows are kept
    const specs: RecordSpec[] = [];
    const seen = new CoordsIndex<RecordSpec>();
    await this.load(() =>
      this.deps.store.scanAll((row) => {
        const spec = this.check(row);
        if (spec === undefined) return;
        if (!seen.add(spec)) {
          this.deps.log.error({ rowId: row.id }, "duplicate (aor, binding_URI, registrar) in the table: row skipped");
          return;
        }
        specs.push(spec);
      }),
    );
    this.reconcileAll(specs);
  }

  /** Reload one record from the store (reference §7.5); an invalid row rejects with its RowError (§11.22 fix). */
  async reloadOne(coords: Coords): Promise<ReloadOneResult> {
    const rows = await this.load(() => this.deps.store.loadOne(coords));
    const row = rows[0];
    if (row === undefined) return "not-in-db";
    if (rows.length > 1) this.deps.log.info({ ...coords }, `${rows.length} rows match; using the first`);
    const spec = this.deps.specFromRow(row);
    if (spec instanceof RowError) {
      this.deps.log.error({ rowId: spec.rowId, column: spec.column }, spec.message);
      throw spec;
    }
    this.reconcileOne(spec);
    return "ok";
  }

  /** MI enable: the store's `state` column first (0), then memory (reference §5.6, §1.4). */
  async enable(coords: Coords): Promise<boolean> {
    const rec = this.table.get(coords);
    if (rec === undefined) return false;
    if (rec.enabled) return true;
    await this.writeState(rec, 0);
    const now = this.table.get(coords);
    if (now !== undefined) this.machine.enable(now);
    return true;
  }

  /** MI disable: the store first (1), then memory; a registered record is unregistered at once. */
  async disable(coords: Coords): Promise<boolean> {
    const rec = this.table.get(coords);
    if (rec === undefined) return false;
    if (!rec.enabled) return true;
    await this.writeState(rec, 1);
    const now = this.table.get(coords);
    if (now !== undefined) this.machine.disable(now);
    return true;
  }

  forceRegister(coords: Coords): boolean {
    const rec = this.table.get(coords);
    if (rec === undefined) return false;
    this.machine.forceRegister(rec);
    return true;
  }

  /** Memory only, replace-or-append by the full key (reference §7.8). */
  upsert(spec: RecordSpec): void {
    this.reconcileOne(spec);
  }

  /**
   * MI delete: the disable logic, including OpenSIPS's `state=1` write (reference §7.9, §11.14), then the record
   * leaves the table; its unREGISTER still completes (answering a challenge) before it is forgotten.
   */
  async delete(coords: Coords): Promise<boolean> {
    const rec = this.table.get(coords);
    if (rec === undefined) return false;
    if (rec.enabled) await this.writeState(rec, 1);
    const now = this.table.get(coords);
    if (now !== undefined) {
      this.table.remove(now);
      this.retire(now);
    }
    return true;
  }

  /** The cluster layer reports a sharing tag's new role on this node (reference §10). */
  shtagChanged(shtag: ShtagRef, active: boolean): void {
    const now = Math.floor(this.deps.clock.nowMs() / 1000);
    const ti = this.deps.options.timerIntervalSec;
    for (const rec of this.table.all()) {
      const t = rec.spec.shtag;
      if (t === undefined || t.tag !== shtag.tag || t.clusterId !== shtag.clusterId) continue;
      if (!active) this.machine.shtagBackup(rec);
      // ACTIVE: NOT_REGISTERED records wait for their bucket's tick (they stay queued); a resumed binding whose
      // refresh is already due goes now, since its bucket may come round only after the registrar's expiry
      else if (rec.state === RegState.REGISTERED_STATE && rec.enabled && now + ti >= rec.registrationTimeoutSec) {
        this.machine.tick(rec);
      }
    }
  }

  /**
   * Cluster takeover: the record continues a binding another node registered (same Call-ID, higher CSeq); call it
   * before the tag's gate opens. False when the record is unknown or not idle (it then registers afresh).
   */
  resume(coords: Coords, saved: ResumedDialog): boolean {
    const rec = this.table.get(coords);
    return rec !== undefined && this.machine.resume(rec, saved);
  }

  // ---- internals ----

  private reconcileAll(specs: readonly RecordSpec[]): void {
    const before = [...this.table.all()];
    const old = new CoordsIndex<RegistrantRecord>();
    for (const rec of before) old.add(rec);
    const next: RegistrantRecord[] = [];
    const added: RegistrantRecord[] = [];
    const replaced: [RegistrantRecord, RegistrantRecord][] = [];
    const toggled: [RegistrantRecord, boolean][] = [];
    for (const spec of specs) {
      // the first load finds an empty table: no lookup
      const prev = old.size === 0 ? undefined : old.take(spec);
      if (prev === undefined) {
        const rec = this.fresh(spec);
        next.push(rec);
        added.push(rec);
      } else if (sameDefinition(prev.spec, spec)) {
        next.push(prev);
        if (prev.enabled !== spec.enabled) toggled.push([prev, spec.enabled]);
      } else {
        const rec = this.fresh(spec);
        next.push(rec);
        replaced.push([prev, rec]);
      }
    }
    this.table.reset(next);
    // in table order, what no row matched
    for (const rec of before) if (old.get(rec) === rec) this.retire(rec);
    for (const [prev, rec] of replaced) this.takeOver(prev, rec);
    for (const rec of added) this.admit(rec);
    for (const [rec, enabled] of toggled) {
      if (enabled) this.machine.enable(rec);
      else this.machine.disable(rec);
    }
  }

  private reconcileOne(spec: RecordSpec): void {
    const prev = this.table.get(spec);
    if (prev === undefined) {
      const rec = this.fresh(spec);
      this.table.append(rec);
      this.admit(rec);
    } else if (sameDefinition(prev.spec, spec)) {
      if (spec.enabled) this.machine.enable(prev);
      else this.machine.disable(prev);
    } else {
      const rec = this.fresh(spec);
      this.table.replace(prev, rec);
      this.takeOver(prev, rec);
    }
  }

  private fresh(spec: RecordSpec): RegistrantRecord {
    return this.table.create(spec);
  }

  private admit(rec: RegistrantRecord): void {
    this.emitTable({ kind: "added", coords: pick(rec), recordId: rec.id });
    this.table.schedule(rec, nextCheckSec(rec, this.deps.options.timerIntervalSec));
  }

  /**
   * A rebuilt record replaces `prev` (reference §7.5): both enabled and `prev` registered → the dialog and the
   * REGISTERED state carry over silently; turned off while registered → it carries over and the new record
   * sends the unREGISTER itself (so its reply, even a challenge, is handled); otherwise a fresh start.
   */
  private takeOver(prev: RegistrantRecord, rec: RegistrantRecord): void {
    prev.pendingTx = 0;
    this.emitTable({ kind: "replaced", coords: pick(rec), recordId: rec.id, previousId: prev.id });
    if (prev.state === RegState.REGISTERED_STATE && prev.enabled) {
      this.machine.inherit(rec, prev);
      if (!rec.enabled) this.machine.unbind(rec);
      return;
    }
    this.table.schedule(rec, nextCheckSec(rec, this.deps.options.timerIntervalSec));
  }

  /**
   * A record that left the table: unregister it if needed, keeping it (out of `list`) until that transaction
   * ends; `removed` is announced when it is forgotten.
   */
  private retire(rec: RegistrantRecord): void {
    rec.detached = true;
    this.detached.set(rec.id, rec);
    if (rec.enabled) this.machine.disable(rec);
    if (!isWaiting(rec.state)) this.forget(rec);
  }

  private forget(rec: RegistrantRecord): void {
    if (this.detached.delete(rec.id)) this.emitTable({ kind: "removed", coords: pick(rec), recordId: rec.id });
  }

  private gateOpen(rec: RegistrantRecord): boolean {
    const tag = rec.spec.shtag;
    // no tag, or cluster id <= 0: always active; a tagged record needs clustering and an ACTIVE tag
    if (tag === undefined || tag.tag === "" || tag.clusterId <= 0) return true;
    return this.deps.options.enableClustering && (this.deps.isActive?.(tag) ?? false);
  }

  private check(row: RegistrantRow): RecordSpec | undefined {
    const spec = this.deps.specFromRow(row);
    if (spec instanceof RowError) {
      this.deps.log.error({ rowId: spec.rowId, column: spec.column, reason: spec.reason }, spec.message);
      return undefined;
    }
    return spec;
  }

  private async load<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      throw new StoreUnavailableError(`registrant table could not be read: ${String(error)}`, { cause: error });
    }
  }

  /** OpenSIPS does not check the UPDATE's result: a failure is logged and the operation goes on. */
  private async writeState(rec: RegistrantRecord, state: 0 | 1): Promise<void> {
    try {
      await this.deps.store.writeState(pick(rec), state);
    } catch (error) {
      this.deps.log.error({ err: error, aor: rec.aor }, `could not write state=${state} to the registrant table`);
    }
  }

  private view(rec: RegistrantRecord): RecordView {
    const { spec } = rec;
    const socket = rec.socket ?? spec.forcedSocket;
    return {
      recordId: rec.id,
      aor: rec.aor,
      contact: rec.contact,
      registrar: rec.registrar,
      expiresSec: rec.expiresSec,
      state: rec.state,
      enabled: rec.enabled,
      lastRegisterSentSec: rec.lastRegisterSentSec,
      registrationTimeoutSec: rec.registrationTimeoutSec,
      ...(spec.bindingParams !== undefined && spec.bindingParams !== "" && { bindingParams: spec.bindingParams }),
      ...(spec.thirdPartyRegistrant !== undefined && { thirdPartyRegistrant: spec.thirdPartyRegistrant }),
      ...(socket !== undefined && { socket }),
      ...(spec.proxy !== undefined && { proxy: spec.proxy }),
      ...(rec.destination !== undefined && { dstIp: rec.destination.address }),
      ...(spec.shtag !== undefined && { shtag: spec.shtag }),
    };
  }

  private emitState(change: StateChange): void {
    for (const listener of this.stateListeners) {
      try {
        listener(change);
      } catch (error) {
        this.deps.log.error({ err: error }, "state-change listener threw");
      }
    }
  }

  private emitTable(change: TableChange): void {
    for (const listener of this.tableListeners) {
      try {
        listener(change);
      } catch (error) {
        this.deps.log.error({ err: error }, "table-change listener threw");
      }
    }
  }

  /** Resolves once no record waits for a reply, or after `timeoutMs`. */
  private whenQuiet(timeoutMs: number): Promise<void> {
    const busy = (): boolean => {
      if (this.detached.size > 0) return true;
      for (const rec of this.table.all()) if (isWaiting(rec.state)) return true;
      return false;
    };
    if (!busy()) return Promise.resolve();
    return new Promise((resolve) => {
      let finished = false;
      const done = (): void => {
        if (finished) return;
        finished = true;
        off();
        cancel();
        resolve();
      };
      // checked after the change has settled (a detached record leaves its map just after its last change)
      const off = this.onStateChange(() => queueMicrotask(() => busy() || done()));
      const cancel = this.timers.set(timeoutMs, done);
    });
  }

  /** Test and benchmark hooks: the record itself, and whether it has a next action. */
  recordFor(coords: Coords): RegistrantRecord | undefined {
    return this.table.get(coords);
  }

  get detachedCount(): number {
    return this.detached.size;
  }
}

function pick(c: Coords): Coords {
  return { aor: c.aor, contact: c.contact, registrar: c.registrar };
}
