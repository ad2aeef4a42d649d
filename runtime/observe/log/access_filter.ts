/**
 * The access-log filter of a server (`skip`, `min_status`, `min_latency`,
 * `sample` on its target; compiler/values/log_filter.ts) as one function,
 * asked before a line is made: a request left out costs no line. A server
 * without a filter has none, and its requests pay nothing for it.
 *
 * Sampling is even and deterministic: the n-th request that reaches it is
 * logged when ⌊n·share⌋ grows, so of every thousand at 0.1 a hundred are,
 * whatever came in between. The count is per worker isolate and starts again
 * at a reload.
 *
 * @module
 */
import type { AccessLogFilter } from "../../../compiler/mod.ts";

/** Whether a request to `uri` (path and query) answered with `status` after `latency` ms gets a line. */
export type AccessFilter = (uri: string, status: number, latency: number) => boolean;

/**
 * The filter function of `f`.
 *
 * @example Usage
 * ```ts
 * import { accessFilter } from "./access_filter.ts";
 * const allows = accessFilter({ minStatus: 500, sample: 0.5 });
 * const logged = [200, 200, 200, 200, 503].filter((s) => allows("/", s, 1)).length;
 * if (logged !== 3) throw new Error();
 * ```
 */
export function accessFilter(f: AccessLogFilter): AccessFilter {
  const { skip, minStatus, minLatency, sample } = f;
  const onlyMatching = sample === undefined;
  let seen = 0;
  return (uri, status, latency) => {
    if (skip !== undefined && skip.test(uri)) return false;
    if ((minStatus !== undefined && status >= minStatus) || (minLatency !== undefined && latency >= minLatency)) {
      return true;
    }
    if (onlyMatching) return minStatus === undefined && minLatency === undefined;
    const n = seen++;
    return Math.floor((n + 1) * sample) > Math.floor(n * sample);
  };
}
