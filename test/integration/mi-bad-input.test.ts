import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { silentLogger } from "../../src/log.js";
import { coordsKey } from "../../src/registrant/coords.js";
import { startMiHttp } from "../../src/mi/http-server.js";
import type { MiHttpServer } from "../../src/mi/http-server.js";
import { FakeRegistrantOps, buildMi, goldenRecords, loadGoldenMi } from "../support/golden-mi.js";
import { httpPost } from "../support/mi-clients.js";

const records = goldenRecords(loadGoldenMi());
const alice = records.find((r) => r.aor === "sip:alice@example.test")!;
const ALICE = { aor: alice.aor, contact: alice.contact, registrar: alice.registrar };

const invalid = (data: string, id: unknown = 1) => ({
  jsonrpc: "2.0",
  error: { code: -32602, message: "Invalid params", data },
  id,
});

const UPSERT = {
  aor: "sip:x@sipp.test",
  contact: "sip:x@127.0.0.1:5080",
  registrar: "sip:127.0.0.1:5091",
  proxy: "",
  third_party_registrant: "",
  username: "x",
  password: "x",
  binding_params: "",
  expiry: 60,
  forced_socket: "",
  cluster_shtag: "",
  state: 0,
};

describe("bad MI input never crashes and gets OpenSIPS's answer", () => {
  const ops = new FakeRegistrantOps(records, new Set(records.slice(0, 4).map(coordsKey)));
  const { dispatcher } = buildMi(ops);
  let http: MiHttpServer;
  let port: number;
  const rpc = async (body: unknown): Promise<unknown> => {
    const r = await httpPost(port, typeof body === "string" ? body : JSON.stringify(body));
    assert.equal(r.status, 200, r.body);
    return JSON.parse(r.body);
  };
  const snapshot = () => JSON.stringify([...ops.records.values()]);

  before(async () => {
    http = await startMiHttp({ enabled: true, ip: "127.0.0.1", port: 0, root: "mi" }, dispatcher, silentLogger);
    port = http.address().port;
  });
  after(() => http.close());

  it("wrong types", async () => {
    const before = snapshot();
    assert.deepEqual(
      await rpc({ jsonrpc: "2.0", method: "uac_registrant:list", id: 1, params: { ...ALICE, aor: true } }),
      invalid("Bad type for parameter 'aor'"),
    );
    assert.deepEqual(
      await rpc({
        jsonrpc: "2.0",
        method: "uac_registrant:enable",
        id: 1,
        params: [ALICE.aor, ALICE.contact, { x: 1 }],
      }),
      invalid("Bad type for parameter 'registrar'"),
    );
    assert.deepEqual(
      await rpc({ jsonrpc: "2.0", method: "uac_registrant:upsert", id: 1, params: { ...UPSERT, expiry: "sixty" } }),
      invalid("Bad type for parameter 'expiry'"),
    );
    assert.deepEqual(
      await rpc({ jsonrpc: "2.0", method: "uac_registrant:upsert", id: 1, params: { ...UPSERT, state: [0] } }),
      invalid("Bad type for parameter 'state'"),
    );
    assert.deepEqual(
      await rpc({ jsonrpc: "2.0", method: "get_statistics", id: 1, params: { statistics: "all" } }),
      invalid("Bad type for parameter 'statistics'"),
    );
    assert.equal(snapshot(), before);
  });

  it("unknown and missing params", async () => {
    const { aor, contact } = ALICE;
    assert.deepEqual(
      await rpc({ jsonrpc: "2.0", method: "reg_disable", id: 1, params: { aor, contact, registrarr: "x" } }),
      invalid("Named parameters do not match"),
    );
    assert.deepEqual(
      await rpc({ jsonrpc: "2.0", method: "reg_disable", id: 1, params: { aor, contact } }),
      invalid("Too few or too many parameters"),
    );
    assert.deepEqual(
      await rpc({ jsonrpc: "2.0", method: "reg_delete", id: 1, params: { ...ALICE, extra: 1 } }),
      invalid("Too few or too many parameters"),
    );
    const { state: _state, ...eleven } = UPSERT;
    assert.deepEqual(
      await rpc({ jsonrpc: "2.0", method: "reg_upsert", id: 1, params: { ...eleven, State: 0 } }),
      invalid("Named parameters do not match"),
    );
    assert.equal(ops.find(ALICE)?.enabled, true);
  });

  it("invalid URIs in upsert: -32602 naming the parameter, nothing added", async () => {
    const size = ops.records.size;
    for (const [param, value] of [
      ["aor", "not a uri"],
      ["contact", "<sip:x>"],
      ["registrar", "sip:user@127.0.0.1:5091"],
    ] as const) {
      const r = (await rpc({
        jsonrpc: "2.0",
        method: "uac_registrant:upsert",
        id: 1,
        params: { ...UPSERT, [param]: value },
      })) as {
        error: { code: number; data: string };
      };
      assert.equal(r.error.code, -32602);
      assert.match(r.error.data, new RegExp(`^Bad value for parameter '${param}': `));
    }
    assert.equal(ops.records.size, size);
  });

  it("invalid JSON, batches, odd ids, case-insensitive members", async () => {
    assert.deepEqual(await rpc('{"jsonrpc":"2.0","method":'), {
      jsonrpc: "2.0",
      error: { code: -32700, message: "Parse error" },
      id: null,
    });
    assert.deepEqual(await rpc("\u0000\u00ff garbage"), {
      jsonrpc: "2.0",
      error: { code: -32700, message: "Parse error" },
      id: null,
    });
    assert.deepEqual(await rpc([{ jsonrpc: "2.0", method: "ps", id: 1 }]), {
      jsonrpc: "2.0",
      error: { code: -32600, message: "Invalid Request" },
      id: null,
    });
    assert.deepEqual(await rpc({ jsonrpc: "2.0", method: "ps", id: { a: 1 } }), {
      jsonrpc: "2.0",
      error: { code: -32600, message: "Invalid Request" },
      id: null,
    });
    assert.deepEqual(await rpc({ jsonrpc: "1.0", method: "ps", id: 5 }), {
      jsonrpc: "2.0",
      error: { code: -32600, message: "Invalid Request" },
      id: 5,
    });
    const r = (await rpc('{"JsonRpc":"2.0","METHOD":"reg_list","Id":2.7,"PARAMS":{}} trailing bytes are ignored')) as {
      id: unknown;
    };
    assert.equal(r.id, 2);
    const raw = await httpPost(port, '{"jsonrpc":"2.0","method":"reg_list","id":"007"}');
    assert.match(raw.body, /,"id":"007"\}$/);
  });

  it("HTTP refusals as OpenSIPS's httpd answers them", async () => {
    const empty = await httpPost(port, "");
    assert.deepEqual([empty.status, empty.body], [400, ""]);
    const get = await httpPost(port, "", { method: "GET" });
    assert.deepEqual([get.status, get.body], [405, ""]);
    const put = await httpPost(port, "{}", { method: "PUT" });
    assert.equal(put.status, 406);
    const path = await httpPost(port, "{}", { path: "/other" });
    assert.deepEqual(
      [path.status, path.headers["content-type"], path.body.includes("Unable to parse URL!")],
      [400, "text/html", true],
    );
    const tail = await httpPost(port, '{"jsonrpc":"2.0","method":"ps","id":1}', { path: "/mi/anything" });
    assert.equal(tail.status, 200);
    const form = await httpPost(port, "a=b", { contentType: "application/x-www-form-urlencoded" });
    assert.equal(form.status, 400);
    // OpenSIPS drops a request with another Content-Type without answering
    await assert.rejects(httpPost(port, "{}", { contentType: "text/plain" }));
    const note = await httpPost(port, '{"jsonrpc":"2.0","method":"reg_list"}');
    assert.deepEqual([note.status, note.body], [202, ""]);
    const charset = await httpPost(port, '{"jsonrpc":"2.0","method":"ps","id":1}', {
      contentType: "application/json; charset=utf-8",
    });
    assert.equal(charset.status, 200);
  });

  it("huge bodies: -32700 past the limit, the connection cut past 1 MiB, the server still answers", async () => {
    const big = JSON.stringify({
      jsonrpc: "2.0",
      method: "reg_list",
      id: 1,
      params: { aor: "x".repeat(200_000), contact: "a", registrar: "b" },
    });
    assert.deepEqual(await rpc(big), { jsonrpc: "2.0", error: { code: -32700, message: "Parse error" }, id: null });
    await assert.rejects(httpPost(port, Buffer.alloc(4 * 1024 * 1024, 0x20)));
    // a client that promises a body and never sends it is cut by the request timeout; meanwhile others are served
    const idle = connect(port, "127.0.0.1");
    idle.on("error", () => undefined);
    idle.write("POST /mi HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{");
    assert.deepEqual(await rpc({ jsonrpc: "2.0", method: "ps", id: 1 }).then((r) => Object.keys(r as object)), [
      "jsonrpc",
      "result",
      "id",
    ]);
    idle.destroy();
  });

  it("a thousand concurrent requests during a reload", async () => {
    ops.reloadDelayMs = 300;
    const upserted = { ...UPSERT, aor: "sip:upserted@sipp.test" };
    await rpc({ jsonrpc: "2.0", method: "uac_registrant:upsert", id: 1, params: upserted });
    const bodies: unknown[] = [{ jsonrpc: "2.0", method: "uac_registrant:reload", id: "reload" }];
    for (let i = 0; i < 1000; i++) {
      const kind = i % 5;
      if (kind === 0) bodies.push({ jsonrpc: "2.0", method: "uac_registrant:list", id: i });
      else if (kind === 1) bodies.push({ jsonrpc: "2.0", method: "uac_registrant:list", id: i, params: ALICE });
      else if (kind === 2)
        bodies.push({
          jsonrpc: "2.0",
          method: "reg_force_register",
          id: i,
          params: [ALICE.aor, ALICE.contact, ALICE.registrar],
        });
      else if (kind === 3) bodies.push({ jsonrpc: "2.0", method: "uac_registrant:list", id: i, params: { aor: 1 } });
      else bodies.push('{"jsonrpc":"2.0","method":"reg_list","id":' + String(i));
    }
    const replies = await Promise.all(bodies.map((b) => httpPost(port, typeof b === "string" ? b : JSON.stringify(b))));
    for (const [i, r] of replies.entries()) {
      assert.equal(r.status, 200, `request ${i}`);
      const j = JSON.parse(r.body) as { result?: unknown; error?: { code: number } };
      const kind = (i - 1) % 5;
      if (i === 0) assert.equal(j.result, "OK");
      else if (kind === 0 || kind === 1 || kind === 2) assert.ok(j.result, r.body);
      else if (kind === 3) assert.equal(j.error?.code, -32602);
      else assert.equal(j.error?.code, -32700);
    }
    assert.equal(ops.reloads, 1);
    // the reload dropped the in-memory-only record and nothing else
    assert.equal(ops.find({ aor: upserted.aor, contact: upserted.contact, registrar: upserted.registrar }), undefined);
    assert.equal(ops.records.size, 4);
    ops.reloadDelayMs = 0;
  });

  it("Basic auth: 401 with the realm without credentials, served with them", async () => {
    const authed = await startMiHttp(
      { enabled: true, ip: "127.0.0.1", port: 0, root: "mi", auth: { username: "op", password: "s3cret" } },
      dispatcher,
      silentLogger,
    );
    try {
      const body = '{"jsonrpc":"2.0","method":"ps","id":1}';
      const denied = await httpPost(authed.address().port, body);
      assert.equal(denied.status, 401);
      assert.equal(denied.headers["www-authenticate"], 'Basic realm="OpenSIPS MI"');
      const wrong = await httpPost(authed.address().port, body, {
        auth: `Basic ${Buffer.from("op:nope").toString("base64")}`,
      });
      assert.equal(wrong.status, 401);
      const ok = await httpPost(authed.address().port, body, {
        auth: `Basic ${Buffer.from("op:s3cret").toString("base64")}`,
      });
      assert.equal(ok.status, 200);
    } finally {
      await authed.close();
    }
  });

  it("extra routes and upgrades share the listener without touching the MI root", async () => {
    http.route("/health", (_req, res) => res.end("up"));
    const health = await httpPost(port, "", { path: "/health", method: "GET" });
    assert.deepEqual([health.status, health.body], [200, "up"]);
    assert.equal(http.server.listening, true);
  });
});
