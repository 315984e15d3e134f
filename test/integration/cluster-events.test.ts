import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { validateConfig } from "../../src/config/load.js";
import { startDaemon } from "../../src/daemon.js";
import type { Daemon } from "../../src/daemon.js";
import { silentLogger } from "../../src/log.js";
import { createTestDatabase } from "../support/mariadb.js";
import type { TestDatabase } from "../support/mariadb.js";
import { freePort } from "../support/ports.js";
import { QueueTap } from "../support/rabbitmq.js";
import { until } from "../support/until.js";

describe("E_CLUSTERER_SHARING_TAG_CHANGED through the daemon (static election, RabbitMQ subscriber)", () => {
  let db: TestDatabase;
  let tap: QueueTap;
  let daemon: Daemon;

  before(async () => {
    db = await createTestDatabase();
    tap = await QueueTap.open({ prefix: "registrantd_shtag" });
    const { config } = validateConfig({
      db_url: db.url,
      listen: [`udp:127.0.0.1:${await freePort()}`],
      timer_interval: 10,
      enable_clustering: 1,
      sharing_tag: ["vip1/2=active", "node/10=backup"],
      cluster: { election: "static" },
      mi_http: { enabled: false },
      events: {
        subscribe: [
          { event: "E_CLUSTERER_SHARING_TAG_CHANGED", socket: `rabbitmq:guest:guest@127.0.0.1:5672/${tap.queue}` },
        ],
        websocket: { enabled: false },
      },
    });
    daemon = await startDaemon(config, silentLogger);
  });

  after(async () => {
    await daemon?.stop();
    await tap?.close();
    await db?.drop();
  });

  const mi = async (method: string, params?: unknown): Promise<string> => {
    const body = JSON.stringify({ jsonrpc: "2.0", method, id: 1, ...(params !== undefined ? { params } : {}) });
    const out = await daemon.mi.handle(body, "test");
    return out.kind === "reply" ? out.text : out.kind;
  };

  it("is raised once per real transition, with OpenSIPS's params", async () => {
    assert.equal(
      await mi("clusterer:list_shtags"),
      '{"jsonrpc":"2.0","result":[{"Tag":"vip1","Cluster":2,"State":"active"},' +
        '{"Tag":"node","Cluster":10,"State":"backup"}],"id":1}',
    );
    assert.equal(await mi("clusterer_shtag_set_active", { tag: "node/10" }), '{"jsonrpc":"2.0","result":"OK","id":1}');
    // already active: no transition, no event
    assert.equal(await mi("clusterer_shtag_set_active", { tag: "node/10" }), '{"jsonrpc":"2.0","result":"OK","id":1}');
    assert.equal(await mi("clusterer_shtag_set_active", { tag: "extra/2" }), '{"jsonrpc":"2.0","result":"OK","id":1}');
    await until("two events on the queue", () => tap.messages.length >= 2, 20_000, 50);
    assert.deepEqual(tap.bodies(), [
      '{"jsonrpc":"2.0","method":"E_CLUSTERER_SHARING_TAG_CHANGED","params":{"name":"node","cluster":10,"state":"active","reason":"MI command"}}',
      '{"jsonrpc":"2.0","method":"E_CLUSTERER_SHARING_TAG_CHANGED","params":{"name":"extra","cluster":2,"state":"active","reason":"MI command"}}',
    ]);
  });
});
