/** One outbox entry; `confirmed` flips when the broker acknowledges it. */
export interface OutboxSlot<T> {
  readonly item: T;
  confirmed: boolean;
}

/**
 * A bounded FIFO of messages waiting for one connection, with publisher-confirm bookkeeping.
 *
 * Entries move queued → in flight (published, confirm pending) → gone (confirmed and everything before
 * it confirmed too). Brokers may confirm out of order, so each slot carries its own flag and the head only
 * advances over a confirmed prefix. When the connection drops, `rewind()` makes every unconfirmed
 * in-flight entry queued again, in the original order, so it is published again after the reconnect:
 * delivery is at-least-once, and a message the broker had taken but whose confirm was lost with the
 * connection is delivered twice (in the original order).
 *
 * When full, the oldest *queued* entry is dropped to make room (the newest state is what a consumer needs
 * most); in-flight entries are never dropped, and when everything is in flight the new entry is refused.
 * Every drop is counted and reported to `onDrop`.
 */
export class Outbox<T> {
  private slots: OutboxSlot<T>[] = [];
  private head = 0;
  /** index (absolute, >= head) of the first slot not yet published since the last rewind */
  private next = 0;
  private droppedCount = 0;

  constructor(
    readonly capacity: number,
    private readonly onDrop: (dropped: T) => void = () => {},
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`outbox capacity must be >= 1, got ${capacity}`);
  }

  /** entries not yet confirmed (queued + in flight) */
  get size(): number {
    return this.slots.length - this.head;
  }

  get inFlight(): number {
    return this.next - this.head;
  }

  get queued(): number {
    return this.slots.length - this.next;
  }

  get dropped(): number {
    return this.droppedCount;
  }

  /** false when the entry itself had to be refused */
  push(item: T): boolean {
    if (this.size >= this.capacity) {
      let victim = this.next;
      while (victim < this.slots.length && this.slots[victim]!.confirmed) victim++;
      if (victim >= this.slots.length) {
        this.drop(item);
        return false;
      }
      const [oldest] = this.slots.splice(victim, 1);
      this.drop(oldest!.item);
    }
    this.slots.push({ item, confirmed: false });
    return true;
  }

  /** the next slot to publish, now in flight; skips slots confirmed before a rewind */
  take(): OutboxSlot<T> | undefined {
    while (this.next < this.slots.length) {
      const slot = this.slots[this.next++]!;
      if (!slot.confirmed) return slot;
    }
    return undefined;
  }

  confirm(slot: OutboxSlot<T>): void {
    slot.confirmed = true;
    while (this.head < this.slots.length && this.slots[this.head]!.confirmed) this.head++;
    if (this.next < this.head) this.next = this.head;
    if (this.head > 1024 && this.head * 2 > this.slots.length) this.compact();
  }

  /** connection lost: unconfirmed in-flight slots go back to the front of the queue */
  rewind(): void {
    this.next = this.head;
  }

  private drop(item: T): void {
    this.droppedCount++;
    this.onDrop(item);
  }

  private compact(): void {
    this.slots = this.slots.slice(this.head);
    this.next -= this.head;
    this.head = 0;
  }
}
