import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import type { Server, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { activeTagsOf, insertTaggedRows, killClusterNodes, startClusterNode } from "../support/cluster-node.js";
import type { ClusterNode } from "../support/cluster-node.js";
import { createTestDatabase } from "../support/mariadb.js";
import type { TestDatabase } from "../support/mariadb.js";
import { UdpRegistrar } from "../support/udp-registrar.js";
import { until } from "../support/until.js";

const RECORDS = 200;
const TAGS = ["q0/1", "q1/1", "q2/1", "q3/1"];
const TAKEOVER_SEC = 6;

/**
 * A TCP forwarder that can be frozen: bytes stop flowing both ways and nothing is closed towards the server, as
 * when a node's host is cut off by the network (the server only notices through its own timeout).
 */
class FreezingProxy {
  frozen = false;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<FreezingProxy> {
    const holder: { p?: FreezingProxy } = {};
    const server = createServer((client) => holder.p?.accept(client, targetPort));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const a = server.address();
    holder.p = new FreezingProxy(server, typeof a === "object" && a !== null ? a.port : 0);
    return holder.p;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, port: number): void {
    if (this.frozen) return void client.destroy();
    const upstream = createConnection({ host: "127.0.0.1", port });
    this.sockets.add(client).add(upstream);
    const pass = (from: Socket, to: Socket) =>
      from.on("data", (d: Buffer) => {
        if (!this.frozen) to.write(d);
      });
    pass(client, upstream);
    pass(upstream, client);
    const end = (s: Socket) => () => {
      this.sockets.delete(s);
      // frozen: the node's side going away must not reach the server
      if (!this.frozen) (s === client ? upstream : client).destroy();
    };
    client.on("close", end(client));
    upstream.on("close", end(upstream));
    client.on("error", () => undefined);
    upstream.on("error", () => undefined);
  }
}

type Node = ClusterNode;

describe("a node cut off from the lock server (network partition)", { timeout: 180_000 }, () => {
  let db: TestDatabase;
  let proxy: FreezingProxy;
  let registrar: UdpRegistrar;
  let dir: string;
  const nodes: Node[] = [];

  async function startNode(name: string, lockDbUrl: string): Promise<Node> {
    const node = await startClusterNode({
      name,
      dir,
      dbUrl: db.url,
      ...(lockDbUrl !== "" && { lockDbUrl }),
      tags: TAGS,
      takeoverSec: TAKEOVER_SEC,
    });
    nodes.push(node);
    return node;
  }

  const active = activeTagsOf;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "registrantd-partition-"));
    db = await createTestDatabase();
    proxy = await FreezingProxy.start(Number(new URL(db.url.replace("mysql:", "http:")).port));
    registrar = await UdpRegistrar.start();
    await insertTaggedRows(
      db,
      Array.from({ length: RECORDS }, (_, i) => ({
        registrar: `sip:127.0.0.1:${registrar.port}`,
        aor: `sip:v${i}@example.com`,
        binding: `sip:v${i}@192.0.2.2`,
        expiry: 30,
        shtag: TAGS[i % 4]!,
      })),
    );
  });

  after(async () => {
    await killClusterNodes(nodes);
    await proxy?.close();
    await registrar?.close();
    await db?.drop().catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("stops sending before the other node can take its tags, which then move within the takeover time", async (t) => {
    const proxied = db.url.replace(/@([^/]+)\//, `@127.0.0.1:${proxy.port}/`);
    const a = await startNode("a", proxied);
    const b = await startNode("b", "");
    await until(
      "2/2",
      async () => {
        const [ta, tb] = [await active(a), await active(b)];
        return ta?.length === 2 && tb?.length === 2;
      },
      60_000,
      250,
    );
    await until("all records registered", () => registrar.registeredCount() === RECORDS, 40_000, 250);
    const aTags = (await active(a)) ?? [];

    const frozenAt = Date.now();
    proxy.frozen = true;
    await until("a to drop its tags (lease)", async () => (await active(a))?.length === 0, 30_000, 100);
    const droppedMs = Date.now() - frozenAt;
    await until("b to hold all 4 tags", async () => (await active(b))?.length === 4, 60_000, 100);
    const movedMs = Date.now() - frozenAt;
    t.diagnostic(`lock connection frozen: a dropped its tags after ${droppedMs} ms, b held them after ${movedMs} ms`);
    assert.ok(movedMs < (TAKEOVER_SEC + 6) * 1000, `tags moved after ${movedMs} ms`);

    // the change lines come from the nodes' logs, which may trail what MI already answers
    await until(
      "both logs to show every tag's hand-over",
      () =>
        aTags.every(
          (tag) =>
            a.changes.some((c) => c.tag === tag && !c.active) && b.changes.some((c) => c.tag === tag && c.active),
        ),
      20_000,
      100,
    );
    for (const tag of aTags) {
      const aEnd = a.changes.filter((c) => c.tag === tag && !c.active).at(-1)?.atMs;
      const bStart = b.changes.filter((c) => c.tag === tag && c.active).at(-1)?.atMs;
      assert.ok(aEnd !== undefined && bStart !== undefined);
      assert.ok(aEnd < bStart, `${tag}: a backup at ${aEnd} before b active at ${bStart}`);
      t.diagnostic(`${tag}: gap between a's stop and b's start ${bStart - aEnd} ms`);
    }
    // from the registrar: after a REGISTER from b for a record, nothing new from a
    for (let i = 0; i < RECORDS; i++) {
      const history = registrar.received.get(`sip:v${i}@example.com`) ?? [];
      const firstB = history.findIndex((r) => r.port === b.sipPort && r.atMs > frozenAt);
      if (firstB < 0) continue;
      const late = history.slice(firstB).filter((r) => r.port === a.sipPort);
      assert.deepEqual(late, [], `v${i}: a sent after b took over`);
    }

    // the network comes back: a rejoins and takes its share again
    proxy.frozen = false;
    await until(
      "2/2 again",
      async () => {
        const [ta, tb] = [await active(a), await active(b)];
        return ta?.length === 2 && tb?.length === 2;
      },
      60_000,
      250,
    );
  });
});
