// Dashboard bootstrap: connect to the events websocket, take the snapshot, keep the model live from the
// notifications, and draw at most once per animation frame whatever changed since the last one.

import { DetailPane } from "./detail-pane.js";
import { RegistrantModel, STATES, fromMiList, fromSnapshot, fromStateNotification, keyOf } from "./model.js";
import { RpcSocket } from "./rpc-socket.js";
import { VirtualTable } from "./virtual-table.js";

const EVENT_LOG_SIZE = 200;
/** above this many records a full re-sort waits at least this long after the previous one */
const BIG_TABLE = 20_000;
const BIG_TABLE_REBUILD_MS = 500;

const $ = (sel) => document.querySelector(sel);

function ago(sec) {
  if (!sec) return "never";
  return new Date(sec * 1000).toLocaleTimeString();
}

const COLUMNS = [
  { id: "aor", title: "AOR", text: (r) => r.aor },
  { id: "contact", title: "Binding", text: (r) => r.contact },
  { id: "registrar", title: "Registrar", text: (r) => r.registrar },
  { id: "state", title: "State", text: (r) => r.state.replace(/_STATE$/, "") },
  { id: "enabled", title: "Enabled", text: (r) => (r.enabled ? "yes" : "no") },
  { id: "lastSent", title: "Last REGISTER", text: (r) => ago(r.lastSentSec) },
  { id: "expires", title: "Expires", text: (r) => (r.expiresSec === undefined ? "" : String(r.expiresSec)) },
  { id: "dst", title: "Destination", text: (r) => r.dst ?? "" },
  { id: "shtag", title: "Cluster tag", text: (r) => r.shtag ?? "" },
];

async function main() {
  const config = await (await fetch("config.json", { cache: "no-store" })).json();
  if (!config.websocket) throw new Error("the events websocket is disabled (config events.websocket.enabled)");
  const model = new RegistrantModel();
  const queue = [];
  const events = [];
  let eventsChanged = false;
  let lastRebuild = 0;
  let selectedKey;

  const host = config.websocket.host ?? location.hostname;
  const url = new URL(
    `ws://${host.includes(":") ? `[${host}]` : host}:${config.websocket.port}${config.websocket.path}`,
  );
  if (location.protocol === "https:") url.protocol = "wss:";
  if (config.websocket.token) url.searchParams.set("token", config.websocket.token);

  const status = $("#conn");
  const rpc = new RpcSocket(url.toString(), {
    onNotification: (method, params) => queue.push([method, params, Date.now()]),
    onStatus: (s) => {
      status.textContent = s;
      status.dataset.status = s.split(":")[0];
    },
  });

  // header, counts and filters
  const head = $("#thead");
  for (const col of COLUMNS) {
    const h = document.createElement("button");
    h.type = "button";
    h.className = `cell c-${col.id}`;
    h.dataset.column = col.id;
    h.textContent = col.title;
    h.addEventListener("click", () => model.setSort(col.id));
    head.appendChild(h);
  }
  const countsBox = $("#counts");
  const countEls = STATES.map((s) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "count";
    b.dataset.state = s;
    b.innerHTML = `<span class="n">0</span><span class="label">${s.replace(/_STATE$/, "").replace(/_/g, " ")}</span>`;
    b.addEventListener("click", () => {
      const state = model.filter.state === s ? "" : s;
      $("#state-filter").value = state;
      model.setFilter({ text: $("#filter").value, state });
    });
    countsBox.appendChild(b);
    return b.querySelector(".n");
  });
  const stateSel = $("#state-filter");
  for (const s of STATES) stateSel.add(new Option(s, s));
  const onFilter = () => {
    model.setFilter({ text: $("#filter").value, state: stateSel.value });
    eventsChanged = true;
  };
  $("#filter").addEventListener("input", onFilter);
  stateSel.addEventListener("change", onFilter);

  const detail = new DetailPane($("#detail"), rpc, {
    onChanged: (what, rec, listRecord) => {
      if (what === "deleted") {
        model.remove(rec.aor, rec.contact, rec.registrar);
        detail.hide();
        selectedKey = undefined;
      } else if (listRecord) {
        model.upsert(fromMiList(listRecord));
      }
    },
  });

  const table = new VirtualTable({
    viewport: $("#viewport"),
    spacer: $("#spacer"),
    rowsBox: $("#rows"),
    columns: COLUMNS,
    rowHeight: 26,
    onSelect: (key) => {
      selectedKey = key;
      table.select(key);
      const rec = model.records.get(key);
      if (rec) detail.show(rec);
    },
  });

  rpc.onOpen = async () => {
    const answer = await rpc.call("ws:subscribe", { events: "E_REGISTRANT_*", states: true });
    if (answer.error) {
      status.textContent = `subscribe refused: ${answer.error.message}`;
      return;
    }
    // the snapshot names every record and its state; MI list adds the other columns once. Queued like a
    // notification so it lands after the snapshot and before later events, in the order the server sent them.
    const list = await rpc.call("uac_registrant:list");
    queue.push(["mi:list", list.result?.Records ?? [], Date.now()]);
  };

  const eventList = $("#events");
  function applyQueued() {
    let touchedSelected = false;
    for (const [method, params, at] of queue.splice(0)) {
      if (method === "ws:snapshot") {
        model.setSnapshot((params?.registrants ?? []).map(fromSnapshot));
        continue;
      }
      if (method === "mi:list") {
        for (const r of params) model.upsert(fromMiList(r));
        continue;
      }
      let rec;
      if (method === "ws:state") {
        rec = model.upsert(fromStateNotification(params ?? {}));
      } else if (method.startsWith("E_REGISTRANT_")) {
        rec = model.applyEvent(method, params, at);
        events.push({ at, method, params });
        eventsChanged = true;
      }
      if (rec !== undefined && rec.key === selectedKey) touchedSelected = true;
    }
    if (events.length > EVENT_LOG_SIZE) events.splice(0, events.length - EVENT_LOG_SIZE);
    if (touchedSelected) void detail.refresh();
  }

  function renderEvents() {
    // the text filter narrows the stream too: filtering on one AOR shows that registrant's story
    const text = model.filter.text;
    const matching =
      text === ""
        ? events
        : events.filter((e) =>
            `${e.params?.aor} ${e.params?.contact} ${e.params?.registrar}`.toLowerCase().includes(text),
          );
    const items = matching
      .slice(-50)
      .reverse()
      .map((e) => {
        const li = document.createElement("li");
        li.dataset.event = e.method;
        const extra = e.params?.status !== undefined ? ` ${e.params.status} ${e.params.reason ?? ""}` : "";
        li.textContent = `${new Date(e.at).toLocaleTimeString()} ${e.method.replace("E_REGISTRANT_", "")} ${e.params?.aor ?? ""}${extra}`;
        li.addEventListener("click", () => {
          const key = keyOf(e.params.aor, e.params.contact, e.params.registrar);
          table.scrollTo(key);
          table.onSelect(key);
        });
        return li;
      });
    eventList.replaceChildren(...items);
    eventsChanged = false;
  }

  function frame(now) {
    if (queue.length > 0) applyQueued();
    if (model.viewDirty && (model.size < BIG_TABLE || now - lastRebuild >= BIG_TABLE_REBUILD_MS)) {
      table.setData(model.rebuild());
      lastRebuild = now;
    }
    if (model.changed) {
      STATES.forEach((_s, i) => {
        const text = String(model.counts[i]);
        if (countEls[i].textContent !== text) countEls[i].textContent = text;
      });
      $("#total").textContent = `${model.view.length} shown of ${model.size}`;
      for (const h of head.children) {
        h.dataset.sort = h.dataset.column === model.sort.column ? (model.sort.dir > 0 ? "asc" : "desc") : "";
      }
      table.needsRender = true;
      model.changed = false;
    }
    if (eventsChanged) renderEvents();
    if (table.needsRender) table.render();
    requestAnimationFrame(frame);
  }

  rpc.connect();
  requestAnimationFrame(frame);
}

main().catch((err) => {
  const status = document.querySelector("#conn");
  status.textContent = `failed to start: ${err.message}`;
  status.dataset.status = "error";
});
