// The dashboard's data: every registrant by key, live counts per state, and the filtered + sorted view the
// table shows. Pure (no DOM), so the same file runs in the browser and in node's unit tests.

/** OpenSIPS state names, numbered as OpenSIPS numbers them. */
export const STATES = [
  "NOT_REGISTERED_STATE",
  "REGISTERING_STATE",
  "AUTHENTICATING_STATE",
  "REGISTERED_STATE",
  "REGISTER_TIMEOUT_STATE",
  "INTERNAL_ERROR_STATE",
  "WRONG_CREDENTIALS_STATE",
  "REGISTRAR_ERROR_STATE",
  "UNREGISTERING_STATE",
  "AUTHENTICATING_UNREGISTER_STATE",
];

const EVENT_PREFIX = "E_REGISTRANT_";

/** The state an E_REGISTRANT_* event reports (OpenSIPS raises none for NOT_REGISTERED). */
export function stateOfEvent(method) {
  if (!method.startsWith(EVENT_PREFIX)) return undefined;
  const state = `${method.slice(EVENT_PREFIX.length)}_STATE`;
  return STATES.includes(state) ? state : undefined;
}

export function keyOf(aor, contact, registrar) {
  return `${aor}\n${contact}\n${registrar}`;
}

/** Columns the table can sort by, and how a record reads for each. */
export const COLUMNS = {
  aor: (r) => r.aor,
  contact: (r) => r.contact,
  registrar: (r) => r.registrar,
  state: (r) => STATES.indexOf(r.state),
  enabled: (r) => (r.enabled ? 1 : 0),
  lastSent: (r) => r.lastSentSec ?? -1,
  expires: (r) => r.expiresSec ?? -1,
  dst: (r) => r.dst ?? "",
  shtag: (r) => r.shtag ?? "",
};

/** record field → the column it feeds */
const FIELD_COLUMN = { enabled: "enabled", lastSentSec: "lastSent", expiresSec: "expires", dst: "dst", shtag: "shtag" };

/** A `ws:snapshot` entry (snake_case, as the websocket sends it) → model fields. */
export function fromSnapshot(e) {
  const f = { aor: e.aor, contact: e.contact, registrar: e.registrar, state: e.state, enabled: e.enabled !== false };
  if (typeof e.record_id === "number") f.recordId = e.record_id;
  if (typeof e.expires === "number") f.expiresSec = e.expires;
  if (typeof e.last_register_sent === "number") f.lastSentSec = e.last_register_sent;
  if (typeof e.dst_ip === "string") f.dst = e.dst_ip;
  if (typeof e.socket === "string") f.socket = e.socket;
  if (typeof e.shtag === "string") f.shtag = e.shtag;
  return f;
}

/**
 * A `ws:state` notification: every state change, NOT_REGISTERED included (OpenSIPS raises no event for it),
 * with the SIP answer behind it when there is one.
 */
export function fromStateNotification(p) {
  const f = { aor: p.aor, contact: p.contact, registrar: p.registrar, state: p.state };
  if (typeof p.record_id === "number") f.recordId = p.record_id;
  if (typeof p.expires === "number") f.expiresSec = p.expires;
  if (typeof p.destination === "string") f.dst = p.destination;
  if (typeof p.status === "number") f.status = p.status;
  if (typeof p.reason === "string") f.reason = p.reason;
  return f;
}

/** One record of MI `uac_registrant:list` (OpenSIPS's field names and ctime dates) → model fields. */
export function fromMiList(r) {
  const f = { aor: r.AOR, contact: r.binding, registrar: r.registrar, state: r.state, enabled: r.enabled === "yes" };
  if (typeof r.expires === "number") f.expiresSec = r.expires;
  const sent = typeof r.last_register_sent === "string" ? Date.parse(r.last_register_sent) : NaN;
  if (Number.isFinite(sent)) f.lastSentSec = Math.floor(sent / 1000);
  if (typeof r.ip === "string") f.dst = r.ip;
  if (typeof r.socket === "string") f.socket = r.socket;
  if (typeof r.shtag === "string") f.shtag = typeof r.cluster_id === "number" ? `${r.shtag}/${r.cluster_id}` : r.shtag;
  return f;
}

export class RegistrantModel {
  constructor() {
    /** @type {Map<string, object>} */
    this.records = new Map();
    this.counts = new Array(STATES.length).fill(0);
    this.filter = { text: "", state: "" };
    this.sort = { column: "aor", dir: 1 };
    this.view = [];
    /** the view must be rebuilt (membership or order may have changed) */
    this.viewDirty = true;
    /** something shown changed (rows or counts) */
    this.changed = true;
  }

  get size() {
    return this.records.size;
  }

  /** ws:snapshot: replaces everything. */
  setSnapshot(list) {
    this.records.clear();
    this.counts.fill(0);
    for (const r of list) this.upsert(r);
    this.viewDirty = true;
    this.changed = true;
  }

  /** A snapshot entry, a ws:state notification or an MI list record, merged into the record it names. */
  upsert(fields) {
    const key = keyOf(fields.aor, fields.contact, fields.registrar);
    let rec = this.records.get(key);
    if (rec === undefined) {
      rec = {
        key,
        aor: fields.aor,
        contact: fields.contact,
        registrar: fields.registrar,
        hay: `${fields.aor} ${fields.contact} ${fields.registrar}`.toLowerCase(),
        state: "NOT_REGISTERED_STATE",
        enabled: true,
      };
      this.records.set(key, rec);
      this.counts[0]++;
      this.viewDirty = true;
    }
    for (const [k, v] of Object.entries(fields)) {
      if (k === "state") this.setState(rec, v);
      else if (k !== "aor" && k !== "contact" && k !== "registrar" && v !== undefined && rec[k] !== v) {
        rec[k] = v;
        if (FIELD_COLUMN[k] !== undefined && this.affectsView(FIELD_COLUMN[k])) this.viewDirty = true;
      }
    }
    this.changed = true;
    return rec;
  }

  remove(aor, contact, registrar) {
    const key = keyOf(aor, contact, registrar);
    const rec = this.records.get(key);
    if (rec === undefined) return false;
    this.records.delete(key);
    this.counts[STATES.indexOf(rec.state)]--;
    this.viewDirty = true;
    this.changed = true;
    return true;
  }

  /**
   * An E_REGISTRANT_* notification. Extended params (status, reason, expires, destination), when the daemon
   * sends them, are kept for the table and the detail pane. Returns the record, or undefined for an event of
   * a record the snapshot did not have (it is added).
   */
  applyEvent(method, params, atMs) {
    const state = stateOfEvent(method);
    if (state === undefined || params === undefined) return undefined;
    const fields = { aor: params.aor, contact: params.contact, registrar: params.registrar, state, lastEventMs: atMs };
    if (state === "REGISTERING_STATE" || state === "UNREGISTERING_STATE") fields.lastSentSec = Math.floor(atMs / 1000);
    // a disabled record sends no REGISTER and an unREGISTER follows a disable (or a delete)
    if (state === "UNREGISTERING_STATE") fields.enabled = false;
    else if (state === "REGISTERING_STATE") fields.enabled = true;
    if (typeof params.expires === "number") fields.expiresSec = params.expires;
    if (typeof params.destination === "string") fields.dst = params.destination;
    if (typeof params.status === "number") fields.status = params.status;
    if (typeof params.reason === "string") fields.reason = params.reason;
    return this.upsert(fields);
  }

  setState(rec, state) {
    if (!STATES.includes(state) || rec.state === state) return;
    this.counts[STATES.indexOf(rec.state)]--;
    this.counts[STATES.indexOf(state)]++;
    rec.state = state;
    if (this.affectsView("state")) this.viewDirty = true;
  }

  setFilter(filter) {
    this.filter = { text: (filter.text ?? "").trim().toLowerCase(), state: filter.state ?? "" };
    this.viewDirty = true;
    this.changed = true;
  }

  setSort(column) {
    if (!(column in COLUMNS)) return;
    this.sort = this.sort.column === column ? { column, dir: -this.sort.dir } : { column, dir: 1 };
    this.viewDirty = true;
    this.changed = true;
  }

  /** whether a change of `column` can move rows in or out of the view, or reorder it */
  affectsView(column) {
    if (column === "state") return this.filter.state !== "" || this.sort.column === "state";
    return this.sort.column === column;
  }

  /** Rebuilds the view: one pass to filter, one sort; about 100 ms for 100,000 records in a browser. */
  rebuild() {
    const { text, state } = this.filter;
    const out = [];
    for (const r of this.records.values()) {
      if (state !== "" && r.state !== state) continue;
      if (text !== "" && !r.hay.includes(text)) continue;
      out.push(r);
    }
    const read = COLUMNS[this.sort.column];
    const dir = this.sort.dir;
    out.sort((a, b) => {
      const x = read(a);
      const y = read(b);
      if (x < y) return -dir;
      if (x > y) return dir;
      return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
    });
    this.view = out;
    this.viewDirty = false;
    return out;
  }
}
