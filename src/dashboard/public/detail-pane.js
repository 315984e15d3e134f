// One registrant in detail: its MI list entry, its Status/Report history, its recent SIP messages (the
// per-registrant trace), and the actions, each answered with the MI reply as it came back.

const ACTIONS = [
  ["enable", "uac_registrant:enable"],
  ["disable", "uac_registrant:disable"],
  ["force_register", "uac_registrant:force_register"],
  ["delete", "uac_registrant:delete"],
];

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

export function srIdentifier(rec) {
  return `aor=${rec.aor};contact=${rec.contact};registrar=${rec.registrar}`;
}

export class DetailPane {
  constructor(root, rpc, { onChanged }) {
    this.root = root;
    this.rpc = rpc;
    this.onChanged = onChanged;
    this.rec = undefined;
    this.loading = false;
    this.again = false;
  }

  show(rec) {
    this.rec = rec;
    this.root.hidden = false;
    this.root.replaceChildren(
      el("h2", {}, rec.aor),
      el("div", { class: "coords" }, `binding ${rec.contact}`, el("br"), `registrar ${rec.registrar}`),
      el(
        "div",
        { class: "actions" },
        ...ACTIONS.map(([label, method]) =>
          el("button", { type: "button", "data-action": label, onclick: () => this.act(method) }, label),
        ),
        el("button", { type: "button", "data-action": "trace", onclick: () => this.toggleTrace() }, "trace"),
      ),
      el("pre", { class: "mi-answer", "aria-live": "polite" }),
      el("h3", {}, "Record"),
      el("dl", { class: "fields" }),
      el("h3", {}, "Status/Report history"),
      el("ol", { class: "reports" }),
      el("h3", {}, "Recent SIP messages"),
      el("div", { class: "trace" }),
    );
    void this.refresh();
  }

  hide() {
    this.rec = undefined;
    this.root.hidden = true;
  }

  params() {
    return { aor: this.rec.aor, contact: this.rec.contact, registrar: this.rec.registrar };
  }

  async act(method) {
    if (this.rec === undefined) return;
    const box = this.root.querySelector(".mi-answer");
    box.textContent = `${method} …`;
    let answer;
    try {
      answer = await this.rpc.call(method, this.params());
    } catch (err) {
      answer = { error: { message: String(err.message ?? err) } };
    }
    box.textContent = `${method} → ${JSON.stringify(answer.error ?? answer.result)}`;
    box.dataset.outcome = answer.error ? "error" : "ok";
    if (method === "uac_registrant:delete" && !answer.error) this.onChanged("deleted", this.rec);
    else void this.refresh();
  }

  async toggleTrace() {
    if (this.rec === undefined) return;
    const mode = this.traceOn ? "off" : "on";
    const answer = await this.rpc.call("registrantd:record_trace", { ...this.params(), trace_mode: mode });
    const box = this.root.querySelector(".mi-answer");
    box.textContent = `registrantd:record_trace ${mode} → ${JSON.stringify(answer.error ?? { trace_mode: answer.result?.trace_mode })}`;
    void this.refresh();
  }

  /** Re-reads the record, its reports and its trace; called on show and when an event for it arrives. */
  async refresh() {
    if (this.rec === undefined) return;
    if (this.loading) {
      this.again = true;
      return;
    }
    this.loading = true;
    const rec = this.rec;
    try {
      const [list, reports, trace] = await Promise.all([
        this.rpc.call("uac_registrant:list", this.params()),
        this.rpc.call("sr_list_reports", { group: "uac_registrant", identifier: srIdentifier(rec) }),
        this.rpc.call("registrantd:record_trace", this.params()),
      ]);
      if (this.rec !== rec) return;
      this.fillFields(list.result?.Registrant);
      if (list.result?.Registrant) this.onChanged("details", rec, list.result.Registrant);
      this.fillReports(reports.result);
      this.fillTrace(trace.result);
    } catch {
      // the connection dropped; the reconnect re-selects nothing, the pane keeps what it had
    } finally {
      this.loading = false;
      if (this.again) {
        this.again = false;
        void this.refresh();
      }
    }
  }

  fillFields(r) {
    const dl = this.root.querySelector(".fields");
    if (!r) {
      dl.replaceChildren(el("dt", {}, "—"), el("dd", {}, "not in memory"));
      return;
    }
    dl.replaceChildren(...Object.entries(r).flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, String(v))]));
  }

  fillReports(list) {
    const ol = this.root.querySelector(".reports");
    const reports = Array.isArray(list) ? list : [];
    ol.replaceChildren(
      ...reports
        .slice()
        .reverse()
        .map((r) => el("li", {}, el("time", {}, r.Date), " ", String(r.Log).trim())),
    );
  }

  fillTrace(t) {
    const box = this.root.querySelector(".trace");
    this.traceOn = t?.traced === true;
    const btn = this.root.querySelector('[data-action="trace"]');
    btn.textContent = this.traceOn ? "stop trace" : "trace";
    const messages = Array.isArray(t?.Messages) ? t.Messages : [];
    if (messages.length === 0) {
      box.replaceChildren(
        el("p", { class: "muted" }, this.traceOn ? "No message yet." : "Trace is off for this registrant."),
      );
      return;
    }
    box.replaceChildren(
      ...messages
        .slice()
        .reverse()
        .map((m) =>
          el(
            "details",
            { class: `msg ${m.kind}` },
            el("summary", {}, `${m.date.slice(11, 23)} ${arrow(m.kind)} ${m.peer ?? ""} ${firstLine(m)}`),
            el("pre", {}, m.message ?? m.detail ?? ""),
          ),
        ),
    );
  }
}

function arrow(kind) {
  return kind === "out" ? "→" : kind === "in" ? "←" : "✕";
}

function firstLine(m) {
  if (m.message) {
    const end = m.message.indexOf("\r\n");
    return m.message.slice(0, end < 0 ? 80 : end);
  }
  return `${m.kind}${m.detail ? `: ${m.detail}` : ""}`;
}
