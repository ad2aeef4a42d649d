/**
 * Which requests an access log has a line for (Pingap 0.16): parameters of
 * the log's target.
 *
 * - `skip=<regex>`: requests whose path and query match are not logged.
 * - `min_status=<100–599>`, `min_latency=<duration>`: a request answered
 *   with at least that status, or that took at least that long, is always
 *   logged.
 * - `sample=<0–1>`: the share of the other requests that is logged, evenly
 *   (one in every 1/share, no random numbers). Without it the others are all
 *   logged, unless `min_status` or `min_latency` is set: then only those.
 *
 * A filter that lets every request through is no filter (undefined), so a
 * server without one pays nothing.
 *
 * @module
 */
import type { Parsed } from "../schema/types.ts";
import { parseBoundedDuration } from "../units.ts";
import { rustRegex } from "./rust_regex.ts";

/** The conditions of one access log (compiled by runtime/observe/log/access_filter.ts). */
export interface AccessLogFilter {
  /** Requests whose path and query match are not logged. */
  readonly skip?: RegExp;
  /** Responses with this status or above are always logged. */
  readonly minStatus?: number;
  /** Requests that took this many milliseconds or more are always logged. */
  readonly minLatency?: number;
  /** The share (0–1) of the other requests that is logged. */
  readonly sample?: number;
}

const HINT = "e.g. /var/log/access.log?skip=%5E%2Fhealth%24&min_status=500&min_latency=1s&sample=0.1 combined";

/**
 * Reads the filter parameters of `target` (the whole target text, for the messages); undefined when every request
 * is logged.
 *
 * @example Usage
 * ```ts
 * import { logFilter } from "./log_filter.ts";
 * const r = logFilter("a.log?min_status=500&sample=0.1", new URLSearchParams("min_status=500&sample=0.1"));
 * if (!r.ok || r.value?.minStatus !== 500 || r.value.sample !== 0.1) throw new Error();
 * ```
 */
export function logFilter(target: string, params: URLSearchParams): Parsed<AccessLogFilter | undefined> {
  const bad = (message: string): Parsed<AccessLogFilter | undefined> => ({
    ok: false,
    message: `Invalid access log ${target}: ${message}`,
    hint: HINT,
  });
  let skip: RegExp | undefined;
  const skipText = params.get("skip");
  if (skipText) {
    const r = rustRegex(skipText);
    if (!r.ok) return bad(`skip is no regex: ${r.message}`);
    skip = r.value;
  }
  const statusText = params.get("min_status");
  let minStatus: number | undefined;
  if (statusText !== null) {
    minStatus = /^\d{1,5}$/.test(statusText) ? Number(statusText) : NaN;
    if (!(minStatus >= 100 && minStatus <= 599)) return bad("min_status should be a status, 100 to 599");
  }
  const latencyText = params.get("min_latency");
  let minLatency: number | undefined;
  if (latencyText !== null) {
    const ms = parseBoundedDuration(latencyText);
    if (typeof ms === "string") return bad(`min_latency should be a duration such as 500ms or 1s: ${ms}`);
    minLatency = ms;
  }
  const sampleText = params.get("sample");
  let sample: number | undefined;
  if (sampleText !== null) {
    sample = sampleText.trim() === "" ? NaN : Number(sampleText);
    if (!(sample >= 0 && sample <= 1)) return bad("sample should be a share, 0 to 1");
  }
  // Every request is logged: nothing skipped, and no condition, or all of the rest wanted as well.
  const all = skip === undefined &&
    (sample === undefined ? minStatus === undefined && minLatency === undefined : sample >= 1);
  if (all) return { ok: true, value: undefined };
  return {
    ok: true,
    value: {
      ...(skip ? { skip } : {}),
      ...(minStatus !== undefined ? { minStatus } : {}),
      ...(minLatency !== undefined ? { minLatency } : {}),
      ...(sample !== undefined ? { sample } : {}),
    },
  };
}
