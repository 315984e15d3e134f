import type { Metric, Registry } from "prom-client";

interface Sample {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
  readonly metricName: string;
  /** as prom-client has it without exemplars: null on buckets, present but undefined on `_sum` and `_count` */
  readonly exemplar: null | undefined;
}

/**
 * A histogram without labels, exposed exactly as prom-client's `Histogram` exposes one (same samples, same order,
 * same JSON), whose `observe` allocates nothing: prom-client's builds a label object, a hash string and a closure
 * per call (~0.5 µs), and a registration storm observes three values per registration. It is registered in the
 * registry as a custom metric, which prom-client reads through `get()`.
 */
export class LeanHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;
  /** prom-client's histogram shows no sample at all after a reset, until the next observation */
  private cleared = false;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
    registry: Registry,
  ) {
    this.counts = new Float64Array(buckets.length);
    // prom-client types a metric as one of its own classes; its registry only calls get(), reset() and the fields
    registry.registerMetric(this as unknown as Metric);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    const buckets = this.buckets;
    for (let i = 0; i < buckets.length; i++) {
      if (value <= buckets[i]!) {
        this.counts[i]!++;
        break;
      }
    }
    this.sum += value;
    this.count++;
    this.cleared = false;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
    this.cleared = true;
  }

  /** what prom-client's Histogram#get() gives: cumulative `_bucket` samples, `+Inf`, `_sum`, `_count` */
  get(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: string }> {
    const bucket = `${this.name}_bucket`;
    const values: Sample[] = [];
    const result = { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
    if (this.cleared) return Promise.resolve(result);
    let acc = 0;
    this.buckets.forEach((le, i) => {
      acc += this.counts[i]!;
      values.push({ labels: { le }, value: acc, metricName: bucket, exemplar: null });
    });
    values.push(
      { labels: { le: "+Inf" }, value: this.count, metricName: bucket, exemplar: null },
      { labels: {}, value: this.sum, metricName: `${this.name}_sum`, exemplar: undefined },
      { labels: {}, value: this.count, metricName: `${this.name}_count`, exemplar: undefined },
    );
    return Promise.resolve(result);
  }
}
