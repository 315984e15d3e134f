/**
 * registrantd's own statistics, shown by MI `statistics:get` / `get_statistics` with OpenSIPS's `group:name`
 * keys. Counters are incremented by the modules that own the fact (REGISTERs sent, replies by class, MI
 * requests, events published or dropped...); gauges are computed when read (records per state). Names follow
 * OpenSIPS's style: lower case, words joined by `_`.
 */
export type StatKind = "incremental" | "non-incremental";

export interface Counter {
  inc(by?: number): void;
  get(): number;
}

export interface StatInfo {
  readonly group: string;
  readonly name: string;
  readonly kind: StatKind;
}

interface CounterEntry extends StatInfo {
  readonly kind: "incremental";
  value: number;
}

interface GaugeEntry extends StatInfo {
  readonly kind: "non-incremental";
  /** gauges of one group share a provider, read once per `read()` call */
  readonly provider: () => Readonly<Record<string, number>>;
}

export class Statistics {
  private readonly entries = new Map<string, CounterEntry | GaugeEntry>();

  /** Get-or-create the incremental counter `group:name`. */
  counter(group: string, name: string): Counter {
    const key = `${group}:${name}`;
    let entry = this.entries.get(key);
    if (!entry || entry.kind !== "incremental") {
      entry = { group, name, kind: "incremental", value: 0 };
      this.entries.set(key, entry);
    }
    const e = entry;
    return {
      inc: (by = 1) => {
        e.value += by;
      },
      get: () => e.value,
    };
  }

  /** Non-incremental statistics of one group computed together (OpenSIPS STAT_IS_FUNC): one pass per read. */
  gauges(group: string, names: readonly string[], provider: () => Readonly<Record<string, number>>): void {
    for (const name of names) this.entries.set(`${group}:${name}`, { group, name, kind: "non-incremental", provider });
  }

  /** Every statistic, in registration order. */
  list(): readonly StatInfo[] {
    return [...this.entries.values()].map(({ group, name, kind }) => ({ group, name, kind }));
  }

  /** Values of the given `group:name` keys (unknown keys are left out). */
  read(keys: readonly string[]): Map<string, number> {
    const cache = new Map<GaugeEntry["provider"], Readonly<Record<string, number>>>();
    const out = new Map<string, number>();
    for (const key of keys) {
      const entry = this.entries.get(key);
      if (!entry) continue;
      if (entry.kind === "incremental") {
        out.set(key, entry.value);
        continue;
      }
      let values = cache.get(entry.provider);
      if (!values) {
        values = entry.provider();
        cache.set(entry.provider, values);
      }
      out.set(key, values[entry.name] ?? 0);
    }
    return out;
  }

  /** Zeroes a counter; false when the key is unknown. Gauges reflect live state and are left alone. */
  reset(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    if (entry.kind === "incremental") entry.value = 0;
    return true;
  }
}
