import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { silentLogger } from "../../src/log.js";
import { coordsKey } from "../../src/registrant/coords.js";
import type { RecordView } from "../../src/registrant/operations.js";
import { startMiHttp } from "../../src/mi/http-server.js";
import type { MiHttpServer } from "../../src/mi/http-server.js";
import { FakeRegistrantOps, buildMi, goldenRecords, loadGoldenMi, viewFromJson } from "../support/golden-mi.js";
import type { GoldenExchange } from "../support/golden-mi.js";

// the captures print ctime in UTC; byte-exact list replies need the same zone
process.env["TZ"] = "UTC";

const exchanges = loadGoldenMi();
const all = goldenRecords(exchanges);
/** the four rows of the golden DB (golden/README.md) */
const DB_AORS = ["sip:alice@example.test", "sip:bob@example.test", "sip:carol@example.test", "sip:dave@example.test"];

/** EVI and Status/Report commands (the events helper's): replayed in mi-golden-engine.test.ts with their real state. */
const OTHER_OWNERS = /^(events_list|evi-|subscribers_list|sr_|status_report-)/;

/** Replies that depend on the process (names, version, pid, clock): same JSON shape, not the same values. */
const SHAPE_ONLY = new Set(["which", "core-which-namespaced", "version", "uptime", "ps"]);

/**
 * Deliberate differences (docs/compatibility.md): #3 lookups compare all three coords, so a bad AOR finds
 * nothing; #21 an invalid upsert is always -32602 with a data naming the parameter.
 */
const DELIBERATE: Readonly<Record<string, string>> = {
  "err-list-bad-uri": '{"jsonrpc":"2.0","error":{"code":404,"message":"No such registrant"},"id":1}',
  "err-upsert-bad-aor":
    '{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"Bad value for parameter \'aor\': cannot parse aor uri [not a uri]"},"id":1}',
  "err-upsert-registrar-with-user":
    '{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":"Bad value for parameter \'registrar\': registrant uri must not have user [user]"},"id":1}',
};

/** The records in memory when the exchange was captured, as far as its reply shows them. */
function seedFor(ex: GoldenExchange): RecordView[] {
  const result = ex.response.body.startsWith("{")
    ? (
        JSON.parse(ex.response.body) as {
          result?: { Records?: Record<string, unknown>[]; Registrant?: Record<string, unknown> };
        }
      ).result
    : undefined;
  if (result?.Records) return result.Records.map(viewFromJson);
  const seed = new Map(all.map((r) => [coordsKey(r), r]));
  if (result?.Registrant) {
    const one = viewFromJson(result.Registrant);
    seed.set(coordsKey(one), one);
  }
  // records the capture answered 404 for were not in memory then
  if (ex.response.body.includes('"message":"No such registrant"')) {
    const p = (JSON.parse(ex.request.body) as { params: Record<string, string> }).params;
    seed.delete(coordsKey({ aor: p["aor"]!, contact: p["contact"]!, registrar: p["registrar"]! }));
  }
  return [...seed.values()];
}

type Shape = string | Shape[] | { [k: string]: Shape };

/** Keys in order and value types; arrays as the set of their element shapes. */
function shape(v: unknown): Shape {
  if (Array.isArray(v)) {
    const shapes = new Map(v.map((x) => [JSON.stringify(shape(x)), shape(x)]));
    return [...shapes.values()];
  }
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
  }
  return v === null ? "null" : typeof v;
}

function post(port: number, ex: GoldenExchange): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const body = Buffer.from(ex.request.body);
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: ex.request.path,
        method: ex.request.method,
        headers: {
          "Content-Type": ex.request.headers["content-type"] ?? "application/json",
          "Content-Length": body.length,
          Connection: "close",
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            type: res.headers["content-type"],
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("golden MI exchanges replayed over mi_http", () => {
  const ops = new FakeRegistrantOps();
  for (const r of all) if (DB_AORS.includes(r.aor)) ops.dbKeys.add(coordsKey(r));
  const { dispatcher } = buildMi(ops);
  let http: MiHttpServer;

  before(async () => {
    http = await startMiHttp({ enabled: true, ip: "127.0.0.1", port: 0, root: "mi" }, dispatcher, silentLogger);
  });
  after(() => http.close());

  for (const ex of exchanges) {
    if (OTHER_OWNERS.test(ex.name)) continue;
    it(ex.name, async () => {
      ops.records.clear();
      for (const r of seedFor(ex)) ops.records.set(coordsKey(r), r);
      const got = await post(http.address().port, ex);
      assert.equal(got.status, ex.response.status, "HTTP status");
      assert.equal(got.type, ex.response.headers["content-type"]);
      const deliberate = DELIBERATE[ex.name];
      if (deliberate !== undefined) assert.equal(got.body, deliberate);
      else if (SHAPE_ONLY.has(ex.name))
        assert.deepEqual(shape(JSON.parse(got.body)), shape(JSON.parse(ex.response.body)));
      else assert.equal(got.body, ex.response.body);
    });
  }
});
