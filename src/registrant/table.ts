import { bucketOf } from "./core-hash.js";
import { coordsKey } from "./coords.js";
import type { Coords } from "./coords.js";
import { CoordsIndex } from "./coords-index.js";
import { DueHeap } from "./due-heap.js";
import { RegistrantRecord } from "./record.js";
import type { RecordSpec } from "./record-spec.js";

interface Bucket {
  /** OpenSIPS list order: load order, later additions at the end */
  records: RegistrantRecord[];
  readonly due: DueHeap<RegistrantRecord>;
}

/**
 * The records in 2^hash_size buckets chosen by OpenSIPS's core_hash of the AOR (reference §3.5), each bucket with
 * its due heap. Lookups compare all three key parts (fix of reference §11.3).
 */
export class RegistrantTable {
  /** created on first use: hash_size may go up to 20 (a million buckets) with few records */
  private readonly buckets: (Bucket | undefined)[];
  private byCoords = new CoordsIndex<RegistrantRecord>();

  constructor(readonly bucketCount: number) {
    this.buckets = new Array<Bucket | undefined>(bucketCount);
  }

  get size(): number {
    return this.byCoords.size;
  }

  /** A new record for `spec`, in its bucket but not yet in the table. */
  create(spec: RecordSpec): RegistrantRecord {
    return new RegistrantRecord(spec, bucketOf(spec.aor, this.bucketCount));
  }

  get(coords: Coords): RegistrantRecord | undefined {
    return this.byCoords.get(coords);
  }

  /** True while `rec` itself (not a successor under the same coordinates) is in the table. */
  has(rec: RegistrantRecord): boolean {
    return rec.inTable;
  }

  append(rec: RegistrantRecord): void {
    if (!this.byCoords.add(rec)) throw new Error(`duplicate registrant ${coordsKey(rec)}`);
    this.bucket(rec).records.push(rec);
    rec.inTable = true;
  }

  /** `next` takes `old`'s place in its bucket list (same key, so same bucket). */
  replace(old: RegistrantRecord, next: RegistrantRecord): void {
    const b = this.bucket(old);
    const i = b.records.indexOf(old);
    if (i < 0) throw new Error("replace: record not in table");
    b.records[i] = next;
    b.due.remove(old);
    old.inTable = false;
    this.byCoords.take(old);
    this.byCoords.add(next);
    next.inTable = true;
  }

  remove(rec: RegistrantRecord): void {
    const b = this.bucket(rec);
    const i = b.records.indexOf(rec);
    if (i >= 0) b.records.splice(i, 1);
    b.due.remove(rec);
    if (this.byCoords.get(rec) === rec) this.byCoords.take(rec);
    rec.inTable = false;
  }

  /** Replace the whole content, keeping `records` order inside each bucket (a full reload). */
  reset(records: readonly RegistrantRecord[]): void {
    // the in-table flag marks the records that stay, so the records that leave go out of the due heaps
    for (const r of this.all()) r.inTable = false;
    for (const r of records) r.inTable = true;
    for (const b of this.buckets) {
      if (b === undefined) continue;
      for (const r of b.records) if (!r.inTable) b.due.remove(r);
      b.records = [];
    }
    this.byCoords = new CoordsIndex();
    for (const r of records) this.append(r);
  }

  /** Every record, bucket 0..N-1 then list order (MI `list`). */
  *all(): IterableIterator<RegistrantRecord> {
    for (const b of this.buckets) if (b !== undefined) yield* b.records;
  }

  /** (Re)queue a record for the tick of its bucket; Infinity dequeues it. */
  schedule(rec: RegistrantRecord, dueSec: number): void {
    if (!rec.inTable) return;
    this.bucket(rec).due.set(rec, dueSec);
  }

  /** The records of `bucket` whose check time has come, earliest first; they leave the heap. */
  popDue(bucket: number, nowSec: number): RegistrantRecord[] {
    return this.buckets[bucket]?.due.popDue(nowSec) ?? [];
  }

  dueCount(bucket: number): number {
    return this.buckets[bucket]?.due.size ?? 0;
  }

  private bucket(rec: RegistrantRecord): Bucket {
    let b = this.buckets[rec.bucket];
    if (b === undefined) {
      b = { records: [], due: new DueHeap() };
      this.buckets[rec.bucket] = b;
    }
    return b;
  }
}
