import type { Cluster } from "../../cluster/cluster-service.js";
import { parseShtagRef } from "../../cluster/shtag.js";
import { MiError } from "../../errors.js";
import type { MiCommand } from "../command.js";

/**
 * clusterer's sharing-tag MI commands (reference mi-and-events §9) with OpenSIPS's replies and error texts: 4.0
 * `clusterer:*` names, the 3.x names as aliases.
 */
export function clustererCommands(cluster: Cluster): MiCommand[] {
  return [
    {
      name: "clusterer:list_shtags",
      aliases: ["clusterer_list_shtags"],
      recipes: [[]],
      handler() {
        return cluster.list().map((t) => ({ Tag: t.tag, Cluster: t.clusterId, State: t.active ? "active" : "backup" }));
      },
    },
    {
      name: "clusterer:shtag_set_active",
      aliases: ["clusterer_shtag_set_active"],
      recipes: [[{ name: "tag", type: "string" }]],
      async handler(p) {
        const v = p["tag"];
        const parsed = parseShtagRef(typeof v === "string" ? v : String(v));
        if (!parsed.ok) throw new MiError(400, parsed.error);
        if (!cluster.clusterIds().has(parsed.value.clusterId)) throw new MiError(404, "Cluster ID not found");
        try {
          await cluster.setActive(parsed.value);
        } catch {
          throw new MiError(500, "Internal failure when activating tag");
        }
        return undefined;
      },
    },
  ];
}
