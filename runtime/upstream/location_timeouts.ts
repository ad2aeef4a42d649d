/**
 * A location's `connection_timeout`, `read_timeout` and `write_timeout`
 * (Pingap 0.16): time limits of its requests to the upstream, instead of
 * the upstream's own. Made once per location config and reused.
 *
 * @module
 */
import type { LocationConfig } from "../../compiler/mod.ts";
import type { RequestTimeouts } from "../http/message.ts";

const made = new WeakMap<LocationConfig, RequestTimeouts | null>();

/**
 * The time limits a location sets, or undefined when it sets none.
 *
 * @example Usage
 * ```ts
 * import { locationTimeouts } from "./location_timeouts.ts";
 * if (locationTimeouts({ read_timeout: 500 } as never)?.readTimeout !== 500) throw new Error();
 * if (locationTimeouts({} as never) !== undefined) throw new Error();
 * ```
 */
export function locationTimeouts(config: LocationConfig): RequestTimeouts | undefined {
  let t = made.get(config);
  if (t === undefined) {
    const c = config.connection_timeout, r = config.read_timeout, w = config.write_timeout;
    t = c === undefined && r === undefined && w === undefined ? null : {
      ...(c !== undefined ? { connectionTimeout: c } : {}),
      ...(r !== undefined ? { readTimeout: r } : {}),
      ...(w !== undefined ? { writeTimeout: w } : {}),
    };
    made.set(config, t);
  }
  return t ?? undefined;
}
