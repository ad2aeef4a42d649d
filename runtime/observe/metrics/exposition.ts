/**
 * A small reader of the Prometheus text exposition format: samples with
 * their labels (label order does not matter). For tests and for anything
 * that wants to read a scrape back (the admin UI's stats).
 *
 * @module
 */

/** One sample line. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/y;

function unescape(v: string): string {
  return v.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
}

function number(v: string): number {
  if (v === "+Inf") return Infinity;
  if (v === "-Inf") return -Infinity;
  return Number(v);
}

/**
 * Parses the samples of an exposition text; throws on a line it cannot read.
 *
 * @example Usage
 * ```ts
 * import { parseExposition } from "./exposition.ts";
 * const [s] = parseExposition('# TYPE a counter\na{x="1",y="b\\"c"} 3\n');
 * if (s!.name !== "a" || s!.labels.y !== 'b"c' || s!.value !== 3) throw new Error();
 * ```
 */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (!m) throw new Error(`unreadable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? "";
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < body.length) {
      const at = LABEL.lastIndex;
      const l = LABEL.exec(body);
      if (!l) throw new Error(`unreadable labels at ${at}: ${line}`);
      labels[l[1]!] = unescape(l[2]!);
    }
    out.push({ name: m[1]!, labels, value: number(m[3]!) });
  }
  return out;
}

/** The samples named `name` whose labels include all of `labels`. */
export function findSamples(text: string | Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  const samples = typeof text === "string" ? parseExposition(text) : text;
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/**
 * The value of the one sample named `name` with exactly `labels`
 * (undefined when there is none).
 */
export function sampleValue(
  text: string | Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const want = Object.keys(labels).length;
  const hits = findSamples(text, name, labels).filter((s) => Object.keys(s.labels).length === want);
  if (hits.length > 1) throw new Error(`several samples ${name}${JSON.stringify(labels)}`);
  return hits[0]?.value;
}
