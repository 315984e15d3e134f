import { readFileSync, readdirSync } from "node:fs";
import { coordsKey } from "../../src/registrant/coords.js";
import type { Coords } from "../../src/registrant/coords.js";
import type { RecordView, RegistrantOperations, ReloadOneResult } from "../../src/registrant/operations.js";
import type { RecordSpec } from "../../src/registrant/record-spec.js";
import { RegState } from "../../src/registrant/state.js";
import type { RegStateName } from "../../src/registrant/state.js";
import { systemClock } from "../../src/clock.js";
import type { Clock } from "../../src/clock.js";
import { silentLogger } from "../../src/log.js";
import { coreCommands } from "../../src/mi/commands/core.js";
import { registrantGauges, statisticsCommands } from "../../src/mi/commands/statistics.js";
import { uacRegistrantCommands } from "../../src/mi/commands/uac-registrant.js";
import { createMiDispatcher } from "../../src/mi/dispatch.js";
import type { MiDispatcher } from "../../src/mi/dispatch.js";
import { Statistics } from "../../src/statistics.js";

/**
 * The MI exchanges captured from OpenSIPS 4.0.1 (../shared/golden/mi, copied into test/fixtures/mi/golden) and
 * an in-memory RegistrantOperations holding the same records, for replay tests and benchmarks.
 */
export const GOLDEN_DIR = new URL("../fixtures/mi/golden/", import.meta.url);
export const CLI_EXCHANGES = new URL("../fixtures/mi/opensips-cli-exchanges.jsonl", import.meta.url);

/** The keys every `<record>` of uac_registrant:list starts with, in OpenSIPS's order (reference §7.3). */
export const RECORD_KEYS = [
  "AOR",
  "expires",
  "state",
  "enabled",
  "last_register_sent",
  "registration_t_out",
  "registrar",
  "binding",
] as const;

export interface HttpMessage {
  readonly startLine: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface GoldenExchange {
  readonly name: string;
  readonly request: HttpMessage & { readonly method: string; readonly path: string };
  readonly response: HttpMessage & { readonly status: number };
}

function parseHttp(text: string): HttpMessage {
  const split = text.indexOf("\r\n\r\n");
  const head = split < 0 ? text : text.slice(0, split);
  const body = split < 0 ? "" : text.slice(split + 4).replace(/\n$/, "");
  const [startLine, ...lines] = head.split("\r\n");
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const colon = l.indexOf(":");
    if (colon > 0) headers[l.slice(0, colon).toLowerCase()] = l.slice(colon + 1).trim();
  }
  return { startLine: startLine!, headers, body };
}

export function loadGoldenMi(): GoldenExchange[] {
  return readdirSync(GOLDEN_DIR)
    .filter((f) => f.endsWith(".http"))
    .sort()
    .map((file) => {
      const text = readFileSync(new URL(file, GOLDEN_DIR), "latin1");
      const [reqText, resText] = text.split("=== RESPONSE ===\n") as [string, string];
      const req = parseHttp(reqText);
      const res = parseHttp(resText);
      const [method, path] = req.startLine.split(" ") as [string, string];
      // the chunked empty bodies were captured without their chunk framing
      const status = Number(res.startLine.split(" ")[1]);
      return {
        name: file.replace(/\.http$/, ""),
        request: { ...req, body: Buffer.from(req.body, "latin1").toString("utf8"), method, path },
        response: { ...res, body: Buffer.from(res.body, "latin1").toString("utf8"), status },
      };
    });
}

export function loadCliExchanges(): { request: string; response: string }[] {
  return readFileSync(CLI_EXCHANGES, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { request: string; response: string });
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** ctime text (UTC, as captured) → Unix seconds. */
export function ctimeToSec(text: string): number {
  const m = /^\w{3} (\w{3}) +(\d+) (\d\d):(\d\d):(\d\d) (\d{4})$/.exec(text);
  if (!m) throw new Error(`not ctime: ${text}`);
  return Date.UTC(Number(m[6]), MONTHS.indexOf(m[1]!), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])) / 1000;
}

let nextId = 1;

/** A golden `<record>` JSON object back into the RecordView that prints it. */
export function viewFromJson(o: Record<string, unknown>): RecordView {
  const view: { -readonly [K in keyof RecordView]: RecordView[K] } = {
    recordId: nextId++,
    aor: o["AOR"] as string,
    contact: o["binding"] as string,
    registrar: o["registrar"] as string,
    expiresSec: o["expires"] as number,
    state: RegState[o["state"] as RegStateName],
    enabled: o["enabled"] === "yes",
    lastRegisterSentSec: ctimeToSec(o["last_register_sent"] as string),
    registrationTimeoutSec: ctimeToSec(o["registration_t_out"] as string),
  };
  if (typeof o["binding_params"] === "string") view.bindingParams = o["binding_params"];
  if (typeof o["third_party_registrant"] === "string") view.thirdPartyRegistrant = o["third_party_registrant"];
  if (typeof o["socket"] === "string") view.socket = o["socket"];
  if (typeof o["proxy"] === "string") view.proxy = o["proxy"];
  if (typeof o["ip"] === "string") view.dstIp = o["ip"];
  return view;
}

/** Every record any golden list reply shows (last seen wins), in first-seen order. */
export function goldenRecords(exchanges: readonly GoldenExchange[]): RecordView[] {
  const byKey = new Map<string, RecordView>();
  for (const ex of exchanges) {
    if (!ex.response.body.startsWith("{")) continue;
    const result = (JSON.parse(ex.response.body) as { result?: { Records?: unknown[]; Registrant?: unknown } }).result;
    const list = result?.Records ?? (result?.Registrant ? [result.Registrant] : []);
    for (const r of list as Record<string, unknown>[]) {
      const v = viewFromJson(r);
      byKey.set(coordsKey(v), v);
    }
  }
  return [...byKey.values()];
}

/**
 * RegistrantOperations over a Map, as the MI commands see the engine: lookups compare all three coords
 * (compatibility #3), upserts start NOT_REGISTERED, `dbKeys` says which records a single reload finds in the DB.
 * `reloadDelayMs` keeps a reload in flight so tests can overlap requests with it.
 */
export class FakeRegistrantOps implements RegistrantOperations {
  readonly records = new Map<string, RecordView>();
  reloads = 0;
  reloadDelayMs = 0;

  constructor(
    records: readonly RecordView[] = [],
    readonly dbKeys = new Set<string>(),
  ) {
    for (const r of records) this.records.set(coordsKey(r), r);
  }

  list(): Iterable<RecordView> {
    return this.records.values();
  }
  find(coords: Coords): RecordView | undefined {
    return this.records.get(coordsKey(coords));
  }
  async reloadAll(): Promise<void> {
    this.reloads++;
    if (this.reloadDelayMs > 0) await new Promise((r) => setTimeout(r, this.reloadDelayMs));
    // a full reload keeps only what the DB holds (upserted records vanish, reference §7.8)
    for (const key of [...this.records.keys()]) if (!this.dbKeys.has(key)) this.records.delete(key);
  }
  async reloadOne(coords: Coords): Promise<ReloadOneResult> {
    return this.dbKeys.has(coordsKey(coords)) ? "ok" : "not-in-db";
  }
  async enable(coords: Coords): Promise<boolean> {
    return this.setEnabled(coords, true);
  }
  async disable(coords: Coords): Promise<boolean> {
    return this.setEnabled(coords, false);
  }
  forceRegister(coords: Coords): boolean {
    return this.records.has(coordsKey(coords));
  }
  upsert(spec: RecordSpec): void {
    const view: { -readonly [K in keyof RecordView]: RecordView[K] } = {
      recordId: nextId++,
      aor: spec.aor,
      contact: spec.contact,
      registrar: spec.registrar,
      expiresSec: spec.expirySec,
      state: RegState.NOT_REGISTERED_STATE,
      enabled: spec.enabled,
      lastRegisterSentSec: 0,
      registrationTimeoutSec: 0,
    };
    if (spec.bindingParams !== undefined) view.bindingParams = spec.bindingParams;
    if (spec.thirdPartyRegistrant !== undefined) view.thirdPartyRegistrant = spec.thirdPartyRegistrant;
    if (spec.proxy !== undefined) view.proxy = spec.proxy;
    if (spec.forcedSocket !== undefined) view.socket = spec.forcedSocket;
    if (spec.shtag !== undefined) view.shtag = spec.shtag;
    this.records.set(coordsKey(spec), view);
  }
  async delete(coords: Coords): Promise<boolean> {
    return this.records.delete(coordsKey(coords));
  }

  private setEnabled(coords: Coords, enabled: boolean): boolean {
    const key = coordsKey(coords);
    const r = this.records.get(key);
    if (!r) return false;
    this.records.set(key, { ...r, enabled });
    return true;
  }
}

/** The MI stack a daemon builds: core, statistics and uac_registrant commands over `ops`. */
export function buildMi(
  ops: RegistrantOperations,
  clock: Clock = systemClock,
): { dispatcher: MiDispatcher; stats: Statistics } {
  const stats = new Statistics();
  const dispatcher = createMiDispatcher({ log: silentLogger, stats });
  dispatcher.register(
    coreCommands({
      registry: dispatcher.registry,
      clock,
      startedAtMs: clock.nowMs(),
      version: "0.1.0",
      processes: () => ["attendant", "HTTPD 127.0.0.1:8888", "MI FIFO", "MI Datagram"],
      setLogLevel: () => undefined,
    }),
  );
  dispatcher.register(statisticsCommands(stats));
  // the golden setup: timer_interval 10, every socket is ours
  dispatcher.register(
    uacRegistrantCommands(ops, { rowCheck: { timerInterval: 10, defaultExpires: 3600, hasSocket: () => true } }),
  );
  registrantGauges(stats, ops);
  return { dispatcher, stats };
}
