/**
 * A family of `families.ts` made into a prom-client metric (counter, gauge
 * or histogram) in a registry, for the families not kept in `fast.ts` form.
 *
 * @module
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { FAMILIES, type FamilySpec } from "./families.ts";

export function spec(name: string): FamilySpec {
  const f = FAMILIES.find((f) => f.name === name);
  if (!f) throw new Error(`unknown metric family ${name}`);
  return f;
}

export type Collect<T> = (this: T) => void | Promise<void>;

export function histogramOf(f: FamilySpec, registry: Registry): Histogram<string> {
  return new Histogram({
    name: f.name,
    help: f.help,
    labelNames: f.labels,
    buckets: [...f.buckets!],
    registers: [registry],
  });
}

export function build(
  f: FamilySpec,
  registry: Registry,
  collect?: Collect<Gauge<string>>,
): Counter | Gauge | Histogram {
  const base = { name: f.name, help: f.help, labelNames: f.labels, registers: [registry] };
  switch (f.type) {
    case "counter":
      return new Counter(base);
    case "gauge":
      return new Gauge(collect ? { ...base, collect } : base);
    case "histogram":
      return histogramOf(f, registry);
  }
}
