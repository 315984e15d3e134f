import type { ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnCli } from "../integration/cli-run.js";
import { freePort } from "./ports.js";

/** One clustered registrantd process of a multi-node test, and the sharing-tag transitions it logged. */
export interface ClusterNode {
  readonly name: string;
  readonly sipPort: number;
  readonly miPort: number;
  readonly proc: ChildProcess;
  /** sharing tag transitions this node logged (`tag/cluster`), in order */
  readonly changes: { atMs: number; tag: string; active: boolean }[];
  /** what the node wrote to stderr */
  stderr: string;
  killedAtMs?: number;
}

export interface ClusterNodeOptions {
  readonly name: string;
  /** where its config file goes */
  readonly dir: string;
  readonly dbUrl: string;
  /** the election's own connection (default: db_url) */
  readonly lockDbUrl?: string;
  /** `name/cluster` tags, all declared backup: the election decides */
  readonly tags: readonly string[];
  readonly takeoverSec: number;
}

/** Starts the real bin with a clustered config (MI on a free port, SIP on a free UDP port, short timers). */
export async function startClusterNode(o: ClusterNodeOptions): Promise<ClusterNode> {
  const sipPort = await freePort();
  const miPort = await freePort();
  const file = join(o.dir, `${o.name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      db_url: o.dbUrl,
      listen: [`udp:127.0.0.1:${sipPort}`],
      timer_interval: 10,
      enable_clustering: 1,
      sharing_tag: o.tags.map((t) => `${t}=backup`),
      cluster: {
        node_id: o.name,
        ...(o.lockDbUrl !== undefined && { lock_db_url: o.lockDbUrl }),
        takeover_timeout: o.takeoverSec,
        heartbeat_interval: 500,
        runtime_flush_interval: 250,
      },
      mi_http: { enabled: true, ip: "127.0.0.1", port: miPort, root: "mi" },
      events: { websocket: { enabled: false } },
    }),
  );
  const proc = spawnCli(["--config", file], { REGISTRANTD_LOG_LEVEL: "info" });
  const node: ClusterNode = { name: o.name, sipPort, miPort, proc, changes: [], stderr: "" };
  let partial = "";
  proc.stdout?.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.includes("sharing tag state changed")) continue;
      const j = JSON.parse(line) as { time: number; tag: string; cluster: number; state: string };
      node.changes.push({ atMs: j.time, tag: `${j.tag}/${j.cluster}`, active: j.state === "active" });
    }
  });
  proc.stderr?.on("data", (chunk: Buffer) => (node.stderr += chunk.toString()));
  return node;
}

/** An MI call over mi_http; an MI error rejects with its JSON. */
export async function clusterMi(node: ClusterNode, method: string, params: unknown = []): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${node.miPort}/mi`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: unknown };
  if (body.error !== undefined) throw new Error(JSON.stringify(body.error));
  return body.result;
}

/** The tags active on `node` (`tag/cluster`), from MI; undefined while it does not answer. */
export async function activeTagsOf(node: ClusterNode): Promise<string[] | undefined> {
  try {
    const r = (await clusterMi(node, "clusterer_list_shtags")) as { Tag: string; Cluster: number; State: string }[];
    return r.filter((t) => t.State === "active").map((t) => `${t.Tag}/${t.Cluster}`);
  } catch {
    return undefined;
  }
}

/** SIGKILLs every node still running and waits until each has exited (its output fully read). */
export async function killClusterNodes(nodes: readonly ClusterNode[]): Promise<void> {
  for (const n of nodes) n.proc.kill("SIGKILL");
  await Promise.all(
    nodes.map((n) =>
      n.proc.exitCode === null && n.proc.signalCode === null
        ? new Promise((r) => n.proc.once("close", r))
        : Promise.resolve(),
    ),
  );
}

/** One INSERT of enabled registrant rows carrying a sharing tag. */
export async function insertTaggedRows(
  db: { query(sql: string, values?: unknown[]): Promise<unknown> },
  rows: readonly { registrar: string; aor: string; binding: string; expiry: number; shtag: string }[],
): Promise<void> {
  await db.query(
    `INSERT INTO registrant (registrar, aor, binding_URI, expiry, cluster_shtag, state) VALUES ${rows
      .map(() => "(?, ?, ?, ?, ?, 0)")
      .join(", ")}`,
    rows.flatMap((r) => [r.registrar, r.aor, r.binding, r.expiry, r.shtag]),
  );
}
