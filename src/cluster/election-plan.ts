import { createHash } from "node:crypto";

/** What one election round sees: every elected tag, the live nodes, what this node holds, operator pins. */
export interface ElectionView {
  readonly me: string;
  /** tag keys (`name/cluster_id`) to elect */
  readonly tags: readonly string[];
  /** nodes whose membership lock is held, this one included */
  readonly liveNodes: readonly string[];
  readonly held: ReadonlySet<string>;
  /** tag → node an operator handed it to (MI shtag_set_active); pins to dead nodes are ignored */
  readonly pins: ReadonlyMap<string, string>;
  /** tags this node tries before the others (`sharing_tag ...=active`) */
  readonly preferred?: ReadonlySet<string>;
}

export interface ElectionPlan {
  /** how many tags this node should hold */
  readonly share: number;
  /** tags to hand over (drain, then release) */
  readonly release: readonly string[];
  /** tags to try, best first; stop once `want` of them were taken */
  readonly candidates: readonly string[];
  readonly want: number;
  /** pinned here: tried whatever the share */
  readonly mustHave: readonly string[];
}

/** Rendezvous (highest random weight) score: each node ranks tags differently, stable across rounds. */
export function rendezvousWeight(node: string, tag: string): number {
  return createHash("sha1").update(node).update("\0").update(tag).digest().readUInt32BE(0);
}

/**
 * Fair share: with T tags and N live nodes each node holds at most ceil(T/N), so N nodes carry about 1/N of the
 * registrations each. A node over its share releases the tags it ranks lowest; a node under it tries free tags,
 * preferred ones first, then in its own rendezvous order (so nodes rarely race for the same tag).
 */
export function planRound(view: ElectionView): ElectionPlan {
  const live = new Set(view.liveNodes);
  live.add(view.me);
  const share = view.tags.length === 0 ? 0 : Math.ceil(view.tags.length / live.size);
  const pinnedElsewhere = (t: string): boolean => {
    const owner = view.pins.get(t);
    return owner !== undefined && owner !== view.me && live.has(owner);
  };
  const pinnedHere = (t: string): boolean => view.pins.get(t) === view.me;
  const rank = (a: string, b: string): number => rendezvousWeight(view.me, b) - rendezvousWeight(view.me, a);

  const known = new Set(view.tags);
  const release: string[] = [];
  const keep: string[] = [];
  for (const t of view.held) {
    if (!known.has(t) || pinnedElsewhere(t)) release.push(t);
    else keep.push(t);
  }
  if (keep.length > share) {
    const movable = keep.filter((t) => !pinnedHere(t)).sort(rank);
    const pinnedKept = keep.length - movable.length;
    const keepMovable = Math.max(0, share - pinnedKept);
    release.push(...movable.slice(keepMovable));
  }
  const holding = view.held.size - release.length;
  const free = view.tags.filter((t) => !view.held.has(t) && !pinnedElsewhere(t));
  const mustHave = free.filter(pinnedHere);
  const preferred = view.preferred ?? new Set<string>();
  const candidates = free
    .filter((t) => !pinnedHere(t))
    .sort((a, b) => Number(preferred.has(b)) - Number(preferred.has(a)) || rank(a, b));
  return { share, release, candidates, want: Math.max(0, share - holding - mustHave.length), mustHave };
}
