import type { ShtagRef } from "../registrant/record-spec.js";

/** A `sharing_tag` modparam value: `name/cluster_id=active|backup` (OpenSIPS clusterer). */
export interface ShtagDecl extends ShtagRef {
  readonly active: boolean;
}

export type ShtagParse<T> = { ok: true; value: T } | { ok: false; error: string };

/** `name/cluster_id` with spaces around both parts trimmed, as clusterer's MI reads it. */
export function parseShtagRef(text: string): ShtagParse<ShtagRef> {
  const slash = text.indexOf("/");
  if (slash < 0) return { ok: false, error: "Bad tag format <name/cluster_id>" };
  const tag = text.slice(0, slash).trim();
  const cid = text.slice(slash + 1).trim();
  if (tag === "") return { ok: false, error: "Bad tag format <name/cluster_id>" };
  if (!/^[0-9]+$/.test(cid)) return { ok: false, error: "Bad cluster ID in tag" };
  return { ok: true, value: { tag, clusterId: Number(cid) } };
}

export function parseShtagDecl(text: string): ShtagParse<ShtagDecl> {
  const eq = text.lastIndexOf("=");
  if (eq < 0) return { ok: false, error: `missing '=active' or '=backup' in '${text}'` };
  const state = text
    .slice(eq + 1)
    .trim()
    .toLowerCase();
  if (state !== "active" && state !== "backup") return { ok: false, error: `bad state '${state}' in '${text}'` };
  const ref = parseShtagRef(text.slice(0, eq));
  if (!ref.ok) return ref;
  return { ok: true, value: { ...ref.value, active: state === "active" } };
}

/** `name/cluster_id`: the key tags are compared and stored by. */
export function shtagKey(ref: ShtagRef): string {
  return `${ref.tag}/${ref.clusterId}`;
}
