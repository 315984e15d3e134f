/**
 * Keeps a label's value set bounded: the first `max` distinct values are used as they are, every later one
 * is reported as `overflow`. Prometheus keeps one series per label value, so a label fed from data (a
 * registrar URI, a sink) must never grow with the data.
 */
export class BoundedLabels {
  private readonly known = new Set<string>();

  constructor(
    readonly max: number,
    readonly overflow = "other",
  ) {
    if (!Number.isInteger(max) || max < 1) throw new Error(`label cap must be >= 1, got ${max}`);
  }

  label(value: string): string {
    if (this.known.has(value)) return value;
    if (this.known.size >= this.max) return this.overflow;
    this.known.add(value);
    return value;
  }
}
