/**
 * A seeded mutator of TOML config files, for the config fuzzer: deleted keys and tables, values of the wrong type,
 * huge numbers, deep nesting, garbage bytes, invalid UTF-8, truncation, duplicated tables and keys, values swapped
 * between keys, renamed keys and dangling references. Text-level, so most mutants still parse and reach the
 * compiler's later stages, and some break the TOML itself. Pure: the same seed gives the same bytes.
 *
 * @module
 */

/** A PRNG (sfc32) seeded by a 32-bit integer: `next()` is uniform in [0, 1). */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** Seeds the generator; equal seeds give equal sequences. */
  constructor(seed: number) {
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88;
    this.#c = 0xb7e15162;
    this.#d = seed | 0;
    for (let i = 0; i < 12; i++) this.next();
  }

  /** A float in [0, 1). */
  next(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One element of a non-empty list. */
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** murmur3's finaliser: every input bit moves every output bit. */
function mix(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The seed of case `index` of a run seeded `seed` (each case reproducible alone; runs of two seeds share no case). */
export function caseSeed(seed: number, index: number): number {
  return mix((mix(seed ^ 0x5bd1e995) + Math.imul(index, 0x9e3779b1)) >>> 0);
}

/** A `key = value` entry of a file: the lines it spans and where its value starts. */
interface Entry {
  readonly first: number;
  /** Last line (inclusive): a multi-line array or string spans several. */
  readonly last: number;
  readonly key: string;
  /** The value's text (lines joined by `\n`). */
  readonly value: string;
  /** Offset of the value in the first line. */
  readonly at: number;
}

/** A `[table]` header and the lines up to the next header. */
interface Table {
  readonly first: number;
  /** First line after the table. */
  readonly end: number;
  readonly name: string;
}

const KEY_LINE = /^(\s*)([A-Za-z0-9_.\-"' ]+?)\s*=\s*/;
const HEADER = /^\s*\[\[?\s*([^\]]*?)\s*\]\]?\s*(#.*)?$/;

function bracketDepth(text: string): number {
  let depth = 0;
  let quote = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#") break;
    else if (c === "[" || c === "{") depth++;
    else if (c === "]" || c === "}") depth--;
  }
  return depth;
}

/** The entries and tables of a file's lines (a rough scan: good enough to aim mutations). */
function scan(lines: readonly string[]): { entries: Entry[]; tables: Table[] } {
  const entries: Entry[] = [];
  const tables: Table[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const header = HEADER.exec(line);
    if (header && !KEY_LINE.test(line)) {
      if (tables.length) tables[tables.length - 1] = { ...tables[tables.length - 1]!, end: i };
      tables.push({ first: i, end: lines.length, name: header[1]! });
      continue;
    }
    const m = KEY_LINE.exec(line);
    if (!m || line.trimStart().startsWith("#")) continue;
    const at = m[0].length;
    let last = i;
    const rest = line.slice(at);
    if (rest.startsWith('"""') || rest.startsWith("'''")) {
      const q = rest.slice(0, 3);
      if (rest.indexOf(q, 3) < 0) {
        while (last + 1 < lines.length && !lines[last]!.includes(q, last === i ? at + 3 : 0)) last++;
      }
    } else {
      let depth = bracketDepth(rest);
      while (depth > 0 && last + 1 < lines.length) depth += bracketDepth(lines[++last]!);
    }
    const value = [rest, ...lines.slice(i + 1, last + 1)].join("\n");
    entries.push({ first: i, last, key: m[2]!.trim(), value, at });
    i = last;
  }
  return { entries, tables };
}

/** Values of every TOML type and of every shape the schema parses (durations, sizes, addresses, regexes…). */
const VALUES = [
  "true",
  "false",
  "0",
  "1",
  "-1",
  "42",
  "3.14",
  "-0.0",
  "nan",
  "inf",
  "-inf",
  "1e308",
  '""',
  '" "',
  '"x"',
  "[]",
  "[1, 2]",
  '["a", "b"]',
  '[1, "a", true]',
  "[[]]",
  "{}",
  "{ a = 1 }",
  '{ path = "/", upstream = "x" }',
  "1979-05-27T07:32:00Z",
  "1979-05-27",
  "07:32:00",
  '"10s"',
  '"0s"',
  '"-5s"',
  '"1ms"',
  '"1h30m"',
  '"10"',
  '"1kb"',
  '"1.5MB"',
  '"-1kb"',
  '"127.0.0.1:6188"',
  '"127.0.0.1:99999"',
  '"[::1]:80"',
  '"0.0.0.0:0"',
  '"localhost"',
  '"http://"',
  '"http://127.0.0.1:1/x?check_frequency=0s"',
  '"tcp://"',
  '"/"',
  '"~/x"',
  '"^/api/(?<name>.+)$"',
  '"(("',
  '"[a-"',
  '"(?<n>"',
  '"$name"',
  '"${HOME}"',
  '"{status}"',
  '"{:nope}"',
  '"{{"',
  '"%"',
  '"\\u0000"',
  '"\\u001b[31m"',
  '"é😀\u202e"',
  '"a\\tb"',
  '"X-Name:value"',
  '"X-Name:😀"',
  '["X-Name:é", "X-Other:\u2028"]',
  '"X-Name"',
  '":"',
  '"hash:ip"',
  '"hash:"',
  '"sticky:"',
  '"round_robin"',
  '"nope"',
  '"*"',
  '"*.example.com"',
  '"10.0.0.0/33"',
  '"999.1.1.1"',
  '"-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----"',
  '"/etc/passwd"',
  '"../../../x"',
  '"etcd://127.0.0.1:2379/pingap"',
  '"file:///tmp"',
  '"redis://"',
  '"constructor"',
  '"__proto__"',
  '"toString"',
  '"hash:constructor"',
  '"{toString}"',
  '"{:constructor}"',
  '"10constructor"',
  '"1toString"',
  '"5valueOf"',
  '["constructor", "__proto__"]',
  "{ __proto__ = 1 }",
];

const HUGE = [
  "9223372036854775807",
  "-9223372036854775808",
  "9223372036854775808",
  "18446744073709551616",
  "99999999999999999999999999999999",
  "0x7fffffffffffffff",
  "0o777777777777777777777",
  "0b" + "1".repeat(64),
  "1e309",
  "-1e309",
  "1_000_000_000_000_000_000",
  '"9999999999999999999999s"',
  '"99999999999999h"',
  '"1e300ms"',
  '"9007199254740993ms"',
  '"99999999999999999TB"',
  `"${"9".repeat(400)}s"`,
  `"${"9".repeat(400)}kb"`,
  `"${"9".repeat(400)}"`,
  '"4294967296"',
  '"65536"',
  '"0.0.0.0:65536"',
  "4294967296",
  "65536",
  "2147483648",
];

/** Bytes that are not UTF-8: a lone continuation, overlongs, a surrogate, a cut sequence, 0xff. */
const INVALID_UTF8 = [[0xff], [0x80], [0xc0, 0x80], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [
  0xf8,
  0x88,
  0x80,
  0x80,
  0x80,
], [
  0xf4,
  0x90,
  0x80,
  0x80,
]];

function nested(rng: Rng): string {
  const n = rng.pick([8, 64, 300, 1000, 5000, 20000]);
  switch (rng.int(4)) {
    case 0:
      return "[".repeat(n) + "]".repeat(n);
    case 1:
      return "{ a = ".repeat(n) + "1" + " }".repeat(n);
    case 2:
      return "[".repeat(n) + "1" + "]".repeat(n - 1);
    default:
      return "[{ a = [".repeat(Math.min(n, 2000)) + "]}]".repeat(Math.min(n, 2000));
  }
}

function longString(rng: Rng): string {
  const n = rng.pick([1000, 65536, 300_000]);
  return `"${rng.pick(["a", "/", "é", "\\\\", "$", "{"]).repeat(n)}"`;
}

function randomName(rng: Rng): string {
  return rng.pick([
    "",
    "x",
    "nope",
    "basic",
    "Upstream",
    "a.b",
    "é",
    "😀",
    " ",
    "0",
    "-",
    // Names Object.prototype has: a lookup in a plain object must not find them.
    "__proto__",
    "constructor",
    "toString",
    "hasOwnProperty",
    "valueOf",
  ]);
}

type Edit = (lines: string[], rng: Rng) => string | undefined;

const NAMED_KEYS =
  /access_log|category|algo|discovery|alpn|path|rewrite|mode|step|type|format|level|health_check|addrs|timeout|size|ttl|interval|frequency|encodings|tag/;

/** An entry, its key chosen first among the distinct key names: a key set once is as likely as `path`. */
function pickEntry(entries: readonly Entry[], rng: Rng): Entry {
  const keys = [...new Set(entries.map((e) => e.key))];
  const key = rng.pick(keys);
  return rng.pick(entries.filter((e) => e.key === key));
}

function replaceValue(lines: string[], e: Entry, value: string): void {
  const head = lines[e.first]!.slice(0, e.at);
  lines.splice(e.first, e.last - e.first + 1, ...(head + value).split("\n"));
}

/** Mutations on lines; each returns its name, or undefined when it found nothing to change. */
const EDITS: readonly [string, Edit][] = [
  ["delete-key", (lines, rng) => {
    const { entries } = scan(lines);
    if (!entries.length) return undefined;
    const e = pickEntry(entries, rng);
    lines.splice(e.first, e.last - e.first + 1);
    return `delete-key ${e.key}`;
  }],
  ["delete-table", (lines, rng) => {
    const { tables } = scan(lines);
    if (!tables.length) return undefined;
    const t = rng.pick(tables);
    lines.splice(t.first, t.end - t.first);
    return `delete-table ${t.name}`;
  }],
  ["wrong-type", (lines, rng) => {
    const { entries } = scan(lines);
    if (!entries.length) return undefined;
    const e = pickEntry(entries, rng);
    const v = rng.pick(VALUES);
    replaceValue(lines, e, v);
    return `wrong-type ${e.key} = ${v}`;
  }],
  ["huge-number", (lines, rng) => {
    const { entries } = scan(lines);
    if (!entries.length) return undefined;
    const e = pickEntry(entries, rng);
    const v = rng.pick(HUGE);
    replaceValue(lines, e, v);
    return `huge-number ${e.key} = ${v}`;
  }],
  ["deep-nesting", (lines, rng) => {
    const { entries } = scan(lines);
    const v = nested(rng);
    if (entries.length && rng.chance(0.7)) {
      const e = pickEntry(entries, rng);
      replaceValue(lines, e, v);
      return `deep-nesting ${e.key} (${v.length} chars)`;
    }
    const depth = rng.pick([10, 200, 5000]);
    const header = `[${Array.from({ length: depth }, (_, i) => `k${i % 7}`).join(".")}]`;
    lines.splice(rng.int(lines.length + 1), 0, header, `x = ${v}`);
    return `deep-nesting table of ${depth}`;
  }],
  ["long-string", (lines, rng) => {
    const { entries } = scan(lines);
    if (!entries.length) return undefined;
    const e = pickEntry(entries, rng);
    replaceValue(lines, e, longString(rng));
    return `long-string ${e.key}`;
  }],
  ["swap-values", (lines, rng) => {
    const { entries } = scan(lines);
    if (entries.length < 2) return undefined;
    let a = pickEntry(entries, rng);
    let b = pickEntry(entries, rng);
    if (a === b) return undefined;
    if (a.first > b.first) [a, b] = [b, a];
    // The later one first, so the earlier one's line numbers hold.
    replaceValue(lines, b, a.value);
    replaceValue(lines, a, b.value);
    return `swap-values ${a.key} <-> ${b.key}`;
  }],
  ["duplicate-table", (lines, rng) => {
    const { tables } = scan(lines);
    if (!tables.length) return undefined;
    const t = rng.pick(tables);
    const block = lines.slice(t.first, t.end);
    lines.splice(rng.chance(0.5) ? lines.length : rng.int(lines.length + 1), 0, ...block);
    return `duplicate-table ${t.name}`;
  }],
  ["duplicate-key", (lines, rng) => {
    const { entries } = scan(lines);
    if (!entries.length) return undefined;
    const e = pickEntry(entries, rng);
    lines.splice(e.last + 1, 0, ...lines.slice(e.first, e.last + 1));
    return `duplicate-key ${e.key}`;
  }],
  ["rename-key", (lines, rng) => {
    const { entries, tables } = scan(lines);
    if (tables.length && rng.chance(0.4)) {
      const t = rng.pick(tables);
      const name = randomName(rng);
      const parts = t.name.split(".");
      parts[rng.int(parts.length)] = JSON.stringify(name);
      lines[t.first] = `[${parts.join(".")}]`;
      return `rename-table ${t.name} -> ${parts.join(".")}`;
    }
    if (!entries.length) return undefined;
    const e = pickEntry(entries, rng);
    const name = JSON.stringify(randomName(rng) + (rng.chance(0.5) ? e.key.slice(1) : ""));
    lines[e.first] = lines[e.first]!.replace(KEY_LINE, (_m, indent: string) => `${indent}${name} = `);
    return `rename-key ${e.key} -> ${name}`;
  }],
  ["prototype-name", (lines, rng) => {
    // A string value that names an Object.prototype member, alone or inside the value's own syntax.
    const { entries } = scan(lines);
    const strings = entries.filter((e) => e.value.startsWith('"') || e.value.startsWith("["));
    if (!strings.length) return undefined;
    // Half the time a key whose value is looked up in a table of names (presets, units, categories, algorithms).
    const named = strings.filter((e) => NAMED_KEYS.test(e.key));
    const e = pickEntry(named.length && rng.chance(0.5) ? named : strings, rng);
    const name = rng.pick(["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "isPrototypeOf"]);
    const v = rng.pick([
      `"${name}"`,
      `["${name}"]`,
      `"10${name}"`,
      `"{${name}}"`,
      `"{:${name}}"`,
      `"/tmp/x ${name}"`,
      `"~^/[[:${name}:]]"`,
      `"hash:${name}"`,
      `"${name}:${name}"`,
      `"$${name}"`,
      `"http://127.0.0.1/?${name}=1"`,
    ]);
    replaceValue(lines, e, v);
    return `prototype-name ${e.key} = ${v}`;
  }],
  ["header-value", (lines, rng) => {
    // A header line whose name or value HTTP cannot carry, or that a variable fills.
    const { entries } = scan(lines);
    const headers = entries.filter((e) => /header/.test(e.key) && e.value.startsWith("["));
    if (!headers.length) return undefined;
    const e = pickEntry(headers, rng);
    const v = rng.pick([
      '"X-A:😀"',
      '"X-A:\u00ff"',
      '"X-A:\u0100"',
      '"X-A:\ufffd"',
      '"X-A:\u0001"',
      '"X-A:\t"',
      '"X-A: "',
      '"X A:b"',
      '"é:b"',
      '":b"',
      '"X-A:$http_x_b"',
      '"X-A:${HOME}é"',
      '"X-A:$remote_addr😀"',
    ]);
    replaceValue(lines, e, `[${v}]`);
    return `header-value ${e.key} = [${v}]`;
  }],
  ["dangling-reference", (lines, rng) => {
    const { entries } = scan(lines);
    const refs = entries.filter((e) => /^(upstream|locations|plugins|plugin|certificate|storage)$/.test(e.key));
    if (!refs.length) return undefined;
    const e = pickEntry(refs, rng);
    const v = rng.pick(['"missing"', '["missing"]', '["", ""]', '"$nope"', "[]", '"a" ']);
    replaceValue(lines, e, v);
    return `dangling-reference ${e.key} = ${v}`;
  }],
  ["delete-line", (lines, rng) => {
    if (!lines.length) return undefined;
    const i = rng.int(lines.length);
    lines.splice(i, 1);
    return `delete-line ${i + 1}`;
  }],
  ["duplicate-line", (lines, rng) => {
    if (!lines.length) return undefined;
    const i = rng.int(lines.length);
    lines.splice(rng.int(lines.length + 1), 0, lines[i]!);
    return `duplicate-line ${i + 1}`;
  }],
  ["swap-lines", (lines, rng) => {
    if (lines.length < 2) return undefined;
    const a = rng.int(lines.length);
    const b = rng.int(lines.length);
    [lines[a], lines[b]] = [lines[b]!, lines[a]!];
    return `swap-lines ${a + 1} ${b + 1}`;
  }],
];

/** Mutations on bytes, applied after the line edits. */
const BYTE_EDITS: readonly [string, (bytes: Uint8Array, rng: Rng) => [Uint8Array, string]][] = [
  ["garbage-bytes", (bytes, rng) => {
    const n = 1 + rng.int(16);
    const junk = Uint8Array.from({ length: n }, () => rng.int(256));
    const at = rng.int(bytes.length + 1);
    return [concat(bytes.subarray(0, at), junk, bytes.subarray(at)), `garbage-bytes ${n} at ${at}`];
  }],
  ["invalid-utf8", (bytes, rng) => {
    const seq = Uint8Array.from(rng.pick(INVALID_UTF8));
    // Inside a string when one is near: the decoder's replacement then reaches the compiler as a value.
    let at = rng.int(bytes.length + 1);
    const quote = bytes.indexOf(0x22, at);
    if (quote >= 0 && rng.chance(0.7)) at = quote + 1;
    return [concat(bytes.subarray(0, at), seq, bytes.subarray(at)), `invalid-utf8 at ${at}`];
  }],
  ["truncate", (bytes, rng) => {
    const at = rng.int(bytes.length + 1);
    return [bytes.subarray(0, at), `truncate at ${at}`];
  }],
  ["flip-byte", (bytes, rng) => {
    if (!bytes.length) return [bytes, "flip-byte (empty)"];
    const out = bytes.slice();
    const at = rng.int(out.length);
    out[at] = rng.pick([0, 0x22, 0x27, 0x5b, 0x5d, 0x3d, 0x0a, 0x0d, 0x23, 0x5c, 0x7f, rng.int(256)]);
    return [out, `flip-byte at ${at}`];
  }],
];

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A mutant: its bytes (what a file would hold) and the mutations, for the report. */
export interface Mutant {
  readonly bytes: Uint8Array;
  readonly ops: readonly string[];
}

/**
 * Mutates `text` with 1–4 mutations chosen by `rng`: mostly line edits (the mutant often still parses), sometimes
 * byte edits (garbage, invalid UTF-8, truncation).
 *
 * @example Usage
 * ```ts
 * import { mutate, Rng } from "./mutator.ts";
 * const a = mutate("[basic]\nname = 'x'\n", new Rng(7));
 * const b = mutate("[basic]\nname = 'x'\n", new Rng(7));
 * if (a.ops.join() !== b.ops.join()) throw new Error("not reproducible");
 * ```
 */
export function mutate(text: string, rng: Rng): Mutant {
  const lines = text.split("\n");
  const ops: string[] = [];
  const count = 1 + rng.int(rng.chance(0.3) ? 4 : 2);
  for (let i = 0; i < count; i++) {
    const [, edit] = rng.pick(EDITS);
    const op = edit(lines, rng);
    if (op) ops.push(op);
  }
  let bytes: Uint8Array = new TextEncoder().encode(lines.join("\n"));
  if (rng.chance(0.2)) {
    const [, edit] = rng.pick(BYTE_EDITS);
    const [out, op] = edit(bytes, rng);
    bytes = out;
    ops.push(op);
  }
  return { bytes, ops };
}
