/**
 * Durations (`500ms`, `1m30s`, `2d`, `1w`) and byte sizes (`4kb`, `10MB`,
 * `1gb`, `1KiB`), parsed once into numbers (milliseconds, bytes).
 *
 * Durations follow Pingap's humantime syntax: a sequence of `<number><unit>`
 * pairs, optionally separated by spaces. Sizes follow the bytesize crate:
 * `kb`/`mb`/`gb`/`tb` are powers of 1000, `kib`/`mib`/`gib`/`tib` powers of
 * 1024, case-insensitive.
 *
 * @module
 */

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  nsec: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  usec: 1e-3,
  ms: 1,
  msec: 1,
  millis: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000,
  M: 2_630_016_000,
  month: 2_630_016_000,
  months: 2_630_016_000,
  y: 31_557_600_000,
  year: 31_557_600_000,
  years: 31_557_600_000,
};

/** Units accepted in durations, for messages. */
export const DURATION_UNIT_NAMES = "ms, s, m, h, d, w (also ns, us, M for months, y)";

const PAIR = /(\d+(?:\.\d+)?)\s*([A-Za-zµ]+)/y;

/**
 * Parses a duration into milliseconds, or returns an error message.
 *
 * @example Usage
 * ```ts
 * import { parseDuration } from "./units.ts";
 * if (parseDuration("1m30s") !== 90_000) throw new Error();
 * if (typeof parseDuration("10 parsecs") !== "string") throw new Error();
 * ```
 */
export function parseDuration(text: string): number | string {
  const s = text.trim();
  if (s === "") return "Duration is empty";
  let total = 0;
  let pos = 0;
  let pairs = 0;
  while (pos < s.length) {
    while (s[pos] === " ") pos++;
    if (pos >= s.length) break;
    PAIR.lastIndex = pos;
    const m = PAIR.exec(s);
    if (!m) {
      if (/^\d+(\.\d+)?$/.test(s.slice(pos))) {
        return `Duration "${text}" has a number without a unit`;
      }
      return `Cannot parse duration "${text}" at "${s.slice(pos)}"`;
    }
    const unit = m[2]!;
    const factor = ownValue(DURATION_UNITS, unit) ?? ownValue(DURATION_UNITS, unit.toLowerCase());
    if (factor === undefined) {
      return `Unknown time unit "${unit}" in "${text}"`;
    }
    total += Number(m[1]) * factor;
    pos = PAIR.lastIndex;
    pairs++;
  }
  if (pairs === 0) return "Duration is empty";
  // A value past any bound (even Infinity) is returned as it is: the bounded
  // callers ({@linkcode parseBoundedDuration}, the schema) refuse it at its key.
  return total;
}

/**
 * The longest duration a timer holds: `setTimeout` takes a signed 32-bit
 * count of milliseconds and fires at once on anything larger, so a longer
 * timeout would expire immediately (every connection would time out).
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The longest duration sent as seconds in a header (`Cache-Control: max-age`,
 * `Access-Control-Max-Age`, a cookie's `Max-Age`): RFC 9111 §1.2.2 has
 * caches cap delta-seconds at 2^31.
 */
export const MAX_HEADER_SECONDS_MS = (2 ** 31 - 1) * 1000;

/** A bound on a duration, with the words that explain it. */
export interface DurationLimit {
  readonly maxMs: number;
  /** Why, e.g. "the longest timer". */
  readonly what: string;
  /** The longest value in the config's syntax, for the hint. */
  readonly longest: string;
}

/** The bound of every duration that ends up in a timer (timeouts, intervals, delays). */
export const TIMER_LIMIT: DurationLimit = {
  maxMs: MAX_TIMER_MS,
  what: "the longest a timer can hold (2^31-1 ms, about 24.8 days)",
  longest: "24d",
};

/** The bound of a duration that is only sent or compared as seconds (max-age, TTLs). */
export const SECONDS_LIMIT: DurationLimit = {
  maxMs: MAX_HEADER_SECONDS_MS,
  what: "the longest max-age (2^31-1 s, about 68 years)",
  longest: "68y",
};

/**
 * Parses a duration like {@linkcode parseDuration} and refuses one longer
 * than `limit` (by default {@linkcode TIMER_LIMIT}), so that no value `check`
 * passes overflows where it is used.
 *
 * @example Usage
 * ```ts
 * import { parseBoundedDuration } from "./units.ts";
 * if (parseBoundedDuration("24d") !== 24 * 86_400_000) throw new Error();
 * if (typeof parseBoundedDuration("25d") !== "string") throw new Error();
 * ```
 */
export function parseBoundedDuration(text: string, limit: DurationLimit = TIMER_LIMIT): number | string {
  const ms = parseDuration(text);
  if (typeof ms === "string") return ms;
  if (!(ms <= limit.maxMs)) return `Duration "${text}" is longer than ${limit.what}`;
  return ms;
}

/** `table[key]` when `table` itself has the key: a unit such as "constructor" must not find Object.prototype's. */
function ownValue(table: Record<string, number>, key: string): number | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  ki: 1024,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1e12,
  tb: 1e12,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
  p: 1e15,
  pb: 1e15,
  pi: 1024 ** 5,
  pib: 1024 ** 5,
};

/** Units accepted in sizes, for messages. */
export const SIZE_UNIT_NAMES = "b, kb, mb, gb, tb (powers of 1000) or kib, mib, gib, tib (powers of 1024)";

/**
 * Parses a byte size into bytes, or returns an error message.
 *
 * @example Usage
 * ```ts
 * import { parseSize } from "./units.ts";
 * if (parseSize("10MB") !== 10_000_000) throw new Error();
 * if (parseSize("4KiB") !== 4096) throw new Error();
 * ```
 */
export function parseSize(text: string): number | string {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(text);
  if (!m) return `Cannot parse size "${text}"`;
  const factor = ownValue(SIZE_UNITS, m[2]!.toLowerCase());
  if (factor === undefined) return `Unknown size unit "${m[2]}" in "${text}"`;
  const bytes = Math.round(Number(m[1]) * factor);
  return bytes <= Number.MAX_SAFE_INTEGER ? bytes : `Size "${text}" is too large`;
}
