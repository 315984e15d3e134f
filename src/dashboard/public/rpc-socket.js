// JSON-RPC 2.0 over the events websocket: requests with ids (ws:subscribe and MI commands), notifications
// (ws:snapshot, E_REGISTRANT_*, ws:state) to a listener, reconnect with capped backoff and jitter.

export class RpcSocket {
  constructor(url, { onNotification, onStatus }) {
    this.url = url;
    this.onNotification = onNotification;
    this.onStatus = onStatus;
    this.nextId = 1;
    this.pending = new Map();
    this.ws = undefined;
    this.retryMs = 500;
    this.onOpen = () => {};
    this.closed = false;
  }

  connect() {
    this.onStatus("connecting");
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.retryMs = 500;
      this.onStatus("live");
      this.onOpen();
    });
    ws.addEventListener("message", (ev) => this.receive(ev.data));
    ws.addEventListener("close", (ev) => {
      for (const { reject } of this.pending.values()) reject(new Error("connection closed"));
      this.pending.clear();
      if (this.closed) return;
      this.onStatus(`disconnected${ev.reason ? `: ${ev.reason}` : ""}`);
      const delay = this.retryMs * (0.5 + Math.random());
      this.retryMs = Math.min(this.retryMs * 2, 15_000);
      setTimeout(() => this.connect(), delay);
    });
  }

  /** Resolves with the whole JSON-RPC answer ({result} or {error}), so the caller can show it as it came. */
  call(method, params) {
    const id = this.nextId++;
    const msg = params === undefined ? { jsonrpc: "2.0", method, id } : { jsonrpc: "2.0", method, params, id };
    return new Promise((resolve, reject) => {
      if (this.ws === undefined || this.ws.readyState !== WebSocket.OPEN) {
        reject(new Error("not connected"));
        return;
      }
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify(msg));
    });
  }

  receive(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (msg.id !== undefined && msg.id !== null && this.pending.has(msg.id)) {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      p.resolve(msg);
      return;
    }
    if (typeof msg.method === "string") this.onNotification(msg.method, msg.params);
  }

  close() {
    this.closed = true;
    this.ws?.close();
  }
}
