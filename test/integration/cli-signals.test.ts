import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import type { Socket } from "node:dgram";
import type { ChildProcess } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../support/ports.js";
import { until } from "../support/until.js";
import { spawnCli } from "./cli-run.js";

/**
 * A registrar that answers REGISTER with 200 and never answers an unREGISTER, so a graceful stop with
 * unregister_on_shutdown=1 stays busy until the second signal.
 */
function silentOnUnregister(socket: Socket, seen: { registers: number; unregisters: number }): void {
  socket.on("message", (buf, rinfo) => {
    const text = buf.toString("latin1");
    const [head = ""] = text.split("\r\n\r\n");
    const lines = head.split("\r\n");
    if (!lines[0]?.startsWith("REGISTER ")) return;
    const headers = lines.slice(1).map((l) => {
      const colon = l.indexOf(":");
      return { name: l.slice(0, colon).trim().toLowerCase(), value: l.slice(colon + 1).trim() };
    });
    const all = (...names: string[]): string[] => headers.filter((h) => names.includes(h.name)).map((h) => h.value);
    const contact = all("contact", "m")[0] ?? "";
    if (contact === "*" || /;expires=0\b/.test(contact) || all("expires")[0] === "0") {
      seen.unregisters++;
      return;
    }
    seen.registers++;
    const reply = [
      "SIP/2.0 200 OK",
      ...all("via", "v").map((v) => `Via: ${v}`),
      `From: ${all("from", "f")[0] ?? ""}`,
      `To: ${all("to", "t")[0] ?? ""};tag=reg1`,
      `Call-ID: ${all("call-id", "i")[0] ?? ""}`,
      `CSeq: ${all("cseq")[0] ?? ""}`,
      `Contact: ${contact}`,
      "Content-Length: 0",
      "",
      "",
    ].join("\r\n");
    socket.send(reply, rinfo.port, rinfo.address);
  });
}

describe("registrantd signals", () => {
  let dir = "";
  let registrar: Socket | undefined;
  let child: ChildProcess | undefined;
  const seen = { registers: 0, unregisters: 0 };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "registrantd-signals-"));
    registrar = createSocket("udp4");
    silentOnUnregister(registrar, seen);
    await new Promise<void>((resolve) => registrar?.bind(0, "127.0.0.1", resolve));
  });
  after(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    registrar?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("first SIGTERM stops gracefully (unREGISTER sent), a second one exits at once", async () => {
    assert.ok(registrar);
    const port = registrar.address().port;
    const data = join(dir, "data");
    mkdirSync(data);
    cpSync(fileURLToPath(new URL("../../schemas/dbtext/version", import.meta.url)), join(data, "version"));
    const header = readFileSync(fileURLToPath(new URL("../../schemas/dbtext/registrant", import.meta.url)), "utf8");
    const row = `1:sip\\:127.0.0.1\\:${port}::sip\\:sig@example.test::::sip\\:sig@127.0.0.1\\:5999::600:::0`;
    writeFileSync(join(data, "registrant"), `${header.trimEnd()}\n${row}\n`);
    const miPort = await freePort();
    const config = join(dir, "signals.json");
    writeFileSync(
      config,
      JSON.stringify({
        data_dir: data,
        listen: ["udp:127.0.0.1:0"],
        timer_interval: 10,
        unregister_on_shutdown: 1,
        shutdown_unregister_timeout: 600,
        tm: { fr_timeout: 600 },
        mi_http: { port: miPort },
        events: { websocket: { enabled: false } },
      }),
    );
    child = spawnCli(["--config", config]);
    let stdout = "";
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child?.on("exit", (code) => resolve(code)));

    await until(
      "the record to be REGISTERED",
      async () => {
        const res = await fetch(`http://127.0.0.1:${miPort}/mi`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", method: "uac_registrant:list", id: 1 }),
        }).catch(() => undefined);
        return res?.ok === true && (await res.text()).includes(`"state":"REGISTERED_STATE"`);
      },
      90_000,
      250,
    );
    assert.ok(seen.registers >= 1);

    child.kill("SIGTERM");
    await until("the unREGISTER of the graceful stop", () => seen.unregisters > 0, 60_000);
    assert.equal(child.exitCode, null, `still waiting for the unREGISTER's answer: ${stdout}`);

    child.kill("SIGTERM");
    assert.equal(await exited, 143, stdout);
    assert.match(stdout, /"msg":"stopping"/);
    assert.match(stdout, /"msg":"second signal: exiting at once"/);
  });
});
