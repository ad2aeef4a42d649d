/**
 * Timestamps of log lines: local RFC 3339 with milliseconds and offset
 * (`{when}`, as chrono's `to_rfc3339_opts(Millis, false)` prints it), and
 * UTC with `Z` (`{when_utc_iso}`).
 *
 * @module
 */

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function pad3(n: number): string {
  return n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n);
}

/**
 * Local time: `2026-11-22T12:41:05.123+08:00` (`+00:00` in UTC).
 *
 * @example Usage
 * ```ts
 * import { localIso } from "./when.ts";
 * if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$/.test(localIso(Date.now()))) throw new Error();
 * ```
 */
export function localIso(ms: number): string {
  const d = new Date(ms);
  const offset = -d.getTimezoneOffset();
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T${pad2(d.getHours())}:${
    pad2(d.getMinutes())
  }:${pad2(d.getSeconds())}.${pad3(d.getMilliseconds())}${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

/** UTC: `2026-11-22T04:41:05.123Z`. */
export function utcIso(ms: number): string {
  return new Date(ms).toISOString();
}
