import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../src/log.js";
import { coordsKey } from "../../src/registrant/coords.js";
import { startMiDatagram } from "../../src/mi/datagram.js";
import type { MiDatagramServer } from "../../src/mi/datagram.js";
import { startMiFifo } from "../../src/mi/fifo.js";
import type { MiFifoServer } from "../../src/mi/fifo.js";
import { startMiHttp } from "../../src/mi/http-server.js";
import type { MiHttpServer } from "../../src/mi/http-server.js";
import type { RecordView } from "../../src/registrant/operations.js";
import { FakeRegistrantOps, buildMi, loadCliExchanges, viewFromJson } from "../support/golden-mi.js";
import { datagramCall, fifoCall, httpPost } from "../support/mi-clients.js";
import { until } from "../support/until.js";

process.env["TZ"] = "UTC";

const exchanges = loadCliExchanges();

/** Commands of other helpers (Status/Report) and process-dependent replies: compared by shape. */
const SHAPE_ONLY = /"method": "(which|core:version|status_report:status)"/;

/** Times move between the captured calls; everything else must be byte-identical. */
const maskTimes = (s: string): string => s.replace(/\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}/g, "<ctime>");

function seed(): RecordView[] {
  // the records the first `list` of the capture shows, in its order
  const first = exchanges.find((e) => e.response.includes('"Records"'))!;
  return (JSON.parse(first.response) as { result: { Records: Record<string, unknown>[] } }).result.Records.map(
    viewFromJson,
  );
}

type Shape = string | Shape[] | { [k: string]: Shape };
function shape(v: unknown): Shape {
  if (Array.isArray(v)) return v.length === 0 ? [] : [shape(v[0])];
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
  return v === null ? "null" : typeof v;
}

type Transport = (json: string) => Promise<string>;

/** The exact bodies opensips-cli sent (golden/sip/mi-http-8888-wire.txt), in order, over one transport. */
async function replay(send: Transport, ops: FakeRegistrantOps): Promise<void> {
  ops.records.clear();
  for (const r of seed()) ops.records.set(coordsKey(r), r);
  for (const ex of exchanges) {
    // status_report is served by the events helper's commands, not registered in this stack
    if (ex.request.includes("status_report:")) continue;
    const got = await send(ex.request);
    if (SHAPE_ONLY.test(ex.request))
      assert.deepEqual(shape(JSON.parse(got)), shape(JSON.parse(ex.response)), ex.request);
    else assert.equal(maskTimes(got), maskTimes(ex.response), ex.request);
  }
}

describe("opensips-cli's exact requests over mi_http, mi_fifo and mi_datagram", () => {
  const ops = new FakeRegistrantOps();
  const { dispatcher } = buildMi(ops);
  let dir: string;
  let http: MiHttpServer;
  let fifo: MiFifoServer;
  let datagram: MiDatagramServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "registrantd-mi-"));
    http = await startMiHttp({ enabled: true, ip: "127.0.0.1", port: 0, root: "mi" }, dispatcher, silentLogger);
    fifo = await startMiFifo(
      { enabled: true, fifo_name: join(dir, "opensips_fifo"), reply_dir: dir },
      dispatcher,
      silentLogger,
      {
        recheckMs: 100,
      },
    );
    datagram = await startMiDatagram({ enabled: true, socket_name: "udp:127.0.0.1:0" }, dispatcher, silentLogger);
  });
  after(async () => {
    await http?.close();
    await fifo?.close();
    await datagram?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("http", async () => {
    await replay(async (json) => {
      const r = await httpPost(http.address().port, json);
      assert.equal(r.status, 200);
      assert.equal(r.headers["content-type"], "application/json");
      return r.body;
    }, ops);
  });

  it("fifo", async () => {
    await replay((json) => fifoCall(fifo.path, dir, json), ops);
  });

  it("datagram", async () => {
    await replay((json) => datagramCall(datagram.address().port, json), ops);
  });

  it("fifo: several requests in one write, the empty reply name, junk, then a good one", async () => {
    const { writeFile } = await import("node:fs/promises");
    const before = ops.records.size;
    await writeFile(fifo.path, '::{"jsonrpc":"2.0","method":"reg_list","id":1}  :x:not json at all');
    const reply = await fifoCall(fifo.path, dir, '{"jsonrpc": "2.0", "id": "9", "method": "version", "params": {}}');
    assert.match(reply, /^\{"jsonrpc":"2\.0","result":\{"Server":"OpenSIPS \(4\.0\.1 /);
    assert.equal(ops.records.size, before);
  });

  it("fifo: an unparsable request gets no reply (OpenSIPS), and the FIFO keeps serving", async () => {
    await assert.rejects(fifoCall(fifo.path, dir, '{"jsonrpc": "2.0", "id": "1", "method": }', { timeoutMs: 1500 }));
    const reply = await fifoCall(
      fifo.path,
      dir,
      '{"jsonrpc": "2.0", "id": "2", "method": "uac_registrant:list", "params": ["sip:a", "sip:b", "sip:c"]}',
    );
    assert.equal(reply, '{"jsonrpc":"2.0","error":{"code":404,"message":"No such registrant"},"id":"2"}');
  });

  it("fifo: re-created when deleted", async () => {
    await unlink(fifo.path);
    const { lstat } = await import("node:fs/promises");
    await until("FIFO re-created", async () => (await lstat(fifo.path).catch(() => undefined))?.isFIFO());
    const reply = await fifoCall(fifo.path, dir, '{"jsonrpc": "2.0", "id": "3", "method": "ps", "params": {}}');
    assert.match(reply, /"Processes"/);
  });

  it("datagram: unparsable text gets the plain `400 Parse_error`; a notification gets nothing", async () => {
    assert.equal(await datagramCall(datagram.address().port, "{nope"), "400 Parse_error");
    await assert.rejects(datagramCall(datagram.address().port, '{"jsonrpc":"2.0","method":"ps"}', 500));
  });

  it("datagram: a reply too big for one datagram answers `500 Internal error`", async () => {
    const many = new FakeRegistrantOps(
      Array.from({ length: 1000 }, (_, i) => ({ ...seed()[0]!, recordId: i, aor: `sip:user${i}@example.test` })),
    );
    const stack = buildMi(many);
    const big = await startMiDatagram(
      { enabled: true, socket_name: "udp:127.0.0.1:0" },
      stack.dispatcher,
      silentLogger,
    );
    try {
      assert.equal(
        await datagramCall(big.address().port, '{"jsonrpc":"2.0","method":"reg_list","id":1}'),
        "500 Internal error",
      );
    } finally {
      await big.close();
    }
  });
});
