/**
 * Durations inside a URL's query string (`otlp_exporter`'s `timeout`,
 * `prometheus_metrics`' push `interval`): the value stays the string the
 * runtime reads, but each named parameter must be a duration a timer can
 * hold, so `check` catches what the runtime would silently replace or
 * overflow.
 *
 * @module
 */
import type { Parsed } from "../schema/types.ts";
import { parseBoundedDuration } from "../units.ts";

/**
 * Checks the duration parameters `names` of `value`'s query string; returns
 * the value unchanged when they are valid.
 *
 * @example Usage
 * ```ts
 * import { queryDurations } from "./query_durations.ts";
 * if (!queryDurations("http://gw:9091/m?interval=1m", ["interval"]).ok) throw new Error();
 * if (queryDurations("http://gw:9091/m?interval=99999d", ["interval"]).ok) throw new Error();
 * ```
 */
export function queryDurations(value: string, names: readonly string[]): Parsed<string> {
  const q = value.indexOf("?");
  if (q < 0) return { ok: true, value };
  const params = new URLSearchParams(value.slice(q + 1));
  for (const name of names) {
    const text = params.get(name);
    if (text === null) continue;
    const ms = parseBoundedDuration(text);
    if (typeof ms === "string") {
      return { ok: false, message: `Parameter ${name}: ${ms}`, hint: `Write ${name}=<duration>, e.g. ${name}=30s` };
    }
  }
  return { ok: true, value };
}
