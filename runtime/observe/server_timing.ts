/**
 * The `Server-Timing` header of `enable_server_timing` (inventory §10.5):
 * `upstream.connect`, `upstream.processing`, `upstream` (their sum, when
 * above 0), `plugin.<name>` per plugin with time, `plugin` (their sum), and
 * always `total`; whole milliseconds, joined by `, `. The cache entries
 * come with the cache plugin.
 *
 * @module
 */
import type { RequestContext } from "../proxy/context.ts";
import { upstreamProcessingMs } from "./log/context_keys.ts";
import type { HttpResponse } from "../http/message.ts";
import { editable } from "../http/response_build.ts";

/**
 * The header value for a request, `total` being the time until now.
 *
 * @example Usage
 * ```ts
 * import { serverTiming } from "./server_timing.ts";
 * // "upstream.connect;dur=1, upstream.processing;dur=2, upstream;dur=3, total;dur=4"
 * ```
 */
export function serverTiming(ctx: RequestContext): string {
  let out = "";
  const t = ctx.timings;
  const connect = ctx.upstreamReused || t.upstreamConnect === undefined ? undefined : Math.floor(t.upstreamConnect);
  const processing = upstreamProcessingMs(ctx);
  let upstream = 0;
  if (connect !== undefined) {
    out += `upstream.connect;dur=${connect}, `;
    upstream += connect;
  }
  if (processing !== undefined) {
    const p = Math.floor(processing);
    out += `upstream.processing;dur=${p}, `;
    upstream += p;
  }
  if (upstream > 0) out += `upstream;dur=${upstream}, `;
  if (t.plugins) {
    let sum = 0;
    for (const name in t.plugins) {
      const ms = Math.floor(t.plugins[name]!);
      if (ms === 0) continue;
      out += `plugin.${name};dur=${ms}, `;
      sum += ms;
    }
    if (sum > 0) out += `plugin;dur=${sum}, `;
  }
  return `${out}total;dur=${Math.floor(ctx.elapsed())}`;
}

/** `res` with `name: value` set; a response that may not be changed is copied first (see `editable()`). */
export function withHeader(res: HttpResponse, name: string, value: string): HttpResponse {
  const out = editable(res);
  out.headers.set(name, value);
  return out;
}
