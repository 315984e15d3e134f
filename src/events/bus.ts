import type { Logger } from "../log.js";

export type BusListener<T> = (value: T) => void;

/**
 * Synchronous in-process fan-out. Listeners run in subscription order, one value at a time, so a
 * registrant's events reach every sink in the order the engine raised them. A listener that throws is
 * logged and skipped (graphile-worker's safeEmit): observers can never break the engine. Listeners must
 * not block: sinks only enqueue here and do their I/O later.
 */
export class EventBus<T> {
  /** replaced, never changed in place: emit walks the array it started with, without copying it per value */
  private listeners: readonly BusListener<T>[] = [];

  constructor(private readonly log: Logger) {}

  /** returns the unsubscribe function */
  on(listener: BusListener<T>): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners = this.listeners.filter((_, j) => j !== i);
    };
  }

  emit(value: T): void {
    for (const listener of this.listeners) {
      try {
        listener(value);
      } catch (err) {
        this.log.error({ err }, "event listener threw; skipped");
      }
    }
  }
}
