import type { ShtagRef } from "../registrant/record-spec.js";
import { shtagKey } from "./shtag.js";
import type { ShtagDecl } from "./shtag.js";

/** One transition of a sharing tag on this node (E_CLUSTERER_SHARING_TAG_CHANGED). */
export interface ShtagChange {
  readonly tag: string;
  readonly clusterId: number;
  readonly active: boolean;
  /** OpenSIPS wording where one exists: "MI command", "cluster broadcast from <node>"; ours otherwise */
  readonly reason: string;
}

export interface ShtagEntry extends ShtagRef {
  readonly active: boolean;
}

/**
 * The sharing tags this node knows and their state here, in declaration order. The only writer is the cluster
 * layer; the engine's gate reads `isActive`. Listeners hear real transitions only (as clusterer's callbacks).
 */
export class ShtagRegistry {
  private readonly tags = new Map<string, { ref: ShtagRef; active: boolean }>();
  private readonly listeners = new Set<(change: ShtagChange) => void>();
  /** the election's lease: false while this node cannot be sure it still holds its locks */
  private guard: () => boolean = () => true;

  constructor(decls: readonly ShtagDecl[] = []) {
    for (const d of decls)
      this.tags.set(shtagKey(d), { ref: { tag: d.tag, clusterId: d.clusterId }, active: d.active });
  }

  /** an unknown tag is BACKUP (clusterer creates it in that state) */
  isActive(ref: ShtagRef): boolean {
    return (this.tags.get(shtagKey(ref))?.active ?? false) && this.guard();
  }

  setGuard(guard: () => boolean): void {
    this.guard = guard;
  }

  has(ref: ShtagRef): boolean {
    return this.tags.has(shtagKey(ref));
  }

  /** adds an unknown tag as BACKUP; no event (no transition) */
  ensure(ref: ShtagRef): void {
    const key = shtagKey(ref);
    if (!this.tags.has(key)) this.tags.set(key, { ref: { tag: ref.tag, clusterId: ref.clusterId }, active: false });
  }

  /** returns true when the state changed */
  set(ref: ShtagRef, active: boolean, reason: string): boolean {
    this.ensure(ref);
    const entry = this.tags.get(shtagKey(ref));
    if (entry === undefined || entry.active === active) return false;
    entry.active = active;
    const change: ShtagChange = { tag: entry.ref.tag, clusterId: entry.ref.clusterId, active, reason };
    for (const l of this.listeners) l(change);
    return true;
  }

  list(): ShtagEntry[] {
    return [...this.tags.values()].map((e) => ({ tag: e.ref.tag, clusterId: e.ref.clusterId, active: e.active }));
  }

  clusterIds(): Set<number> {
    return new Set([...this.tags.values()].map((e) => e.ref.clusterId));
  }

  onChange(listener: (change: ShtagChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
