/**
 * Families written on every request, kept as plain numbers and arrays, and
 * exposed through a prom-client {@linkcode Registry} as metric objects of
 * its own shape (`name`, `help`, `type`, `get()`, `reset()`): the registry
 * formats them like its own (default labels, escaping, values).
 *
 * Why: a prom-client `inc`/`observe` validates and hashes its labels object
 * on every call (≈0.3–0.5 µs each; a request touches about twenty), while a
 * request here looks its series up once per label value and then only adds.
 *
 * A series is exposed once it was written (added to, even by 0, or
 * observed), as prom-client and Pingap do.
 *
 * @module
 */
import type { FamilySpec } from "./families.ts";

/** A counter or gauge series. */
export class Scalar {
  value = 0;
  touched = false;

  constructor(readonly labels: Readonly<Record<string, string>>) {}

  /** Adds `n` (may be 0 or, for gauges, negative). */
  add(n = 1): void {
    this.value += n;
    this.touched = true;
  }

  /** Sets the value. */
  set(n: number): void {
    this.value = n;
    this.touched = true;
  }
}

/** A histogram series: per-bucket (non-cumulative) counts, sum and count. */
export class Hist {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly labels: Readonly<Record<string, string>>, readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }

  /** Records one value. */
  observe(v: number): void {
    this.sum += v;
    this.count++;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }
}

/** The value shape a prom-client registry formats. */
interface MetricValue {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName?: string;
}

/** A family of series keyed by a string (its label values). */
export class FastFamily<S extends Scalar | Hist> {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  readonly aggregator = "sum";
  readonly #series = new Map<string, S>();
  readonly #make: (labels: Record<string, string>) => S;

  /** A family for `spec` (a histogram when its type says so). */
  constructor(spec: FamilySpec) {
    this.name = spec.name;
    this.help = spec.help;
    this.type = spec.type;
    const bounds = spec.buckets ?? [];
    this.#make = (spec.type === "histogram" ? (l) => new Hist(l, bounds) : (l) => new Scalar(l)) as (
      labels: Record<string, string>,
    ) => S;
  }

  /** The series for `key`, created with `labels()` on first use. */
  series(key: string, labels: () => Record<string, string>): S {
    let s = this.#series.get(key);
    if (s === undefined) {
      s = this.#make(labels());
      this.#series.set(key, s);
    }
    return s;
  }

  /** Zeroes every series in place (prom-client's `resetMetrics`); holders of a series keep a live one. */
  reset(): void {
    for (const s of this.#series.values()) {
      if (s instanceof Hist) {
        s.counts.fill(0);
        s.sum = 0;
        s.count = 0;
      } else {
        s.value = 0;
        s.touched = false;
      }
    }
  }

  /** What the registry formats. */
  get(): Promise<{ name: string; help: string; type: string; values: MetricValue[]; aggregator: string }> {
    const values: MetricValue[] = [];
    for (const s of this.#series.values()) {
      if (s instanceof Hist) {
        if (s.count === 0) continue;
        let acc = 0;
        for (let i = 0; i < s.bounds.length; i++) {
          acc += s.counts[i]!;
          values.push({ labels: { le: s.bounds[i]!, ...s.labels }, value: acc, metricName: `${this.name}_bucket` });
        }
        values.push({ labels: { le: "+Inf", ...s.labels }, value: s.count, metricName: `${this.name}_bucket` });
        values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` });
        values.push({ labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` });
      } else if (s.touched) {
        values.push({ labels: { ...s.labels }, value: s.value });
      }
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }
}
