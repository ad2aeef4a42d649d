/**
 * `cors`: Cross-Origin Resource Sharing as Pingap does it. On a request whose path matches `path` (all when unset),
 * an `OPTIONS` request is answered `204` with every CORS header; any other answer to a request that carries `Origin`
 * gets the same headers, set over the upstream's. `Access-Control-Allow-Origin` is rendered per request (so
 * `$http_origin` echoes the caller); when it renders empty (`$http_origin` on a request without `Origin`) a preflight
 * is refused with 400, as Pingap.
 *
 * @module
 */
import { type PlanOf, PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import type { RequestContext } from "../proxy/context.ts";
import { render } from "../proxy/variables.ts";
import { responseWith } from "../http/response_build.ts";
import { runtimePlugin } from "./contract.ts";

type CorsPlan = PlanOf<typeof PLUGIN_DEFINITIONS.cors>;

/** Whether the plugin handles a request on `path`. */
function applies(c: CorsPlan, path: string): boolean {
  return c.path === undefined || c.path.test(path);
}

/** The CORS fields for this request, allow-origin last (Pingap's order); undefined when the origin renders empty. */
export function corsFields(c: CorsPlan, ctx: RequestContext): (readonly [string, string])[] | undefined {
  const origin = render(c.allowOrigin, ctx).trim();
  if (origin === "") return undefined;
  return [...c.headers, ["access-control-allow-origin", origin]];
}

/** The cors plugin. */
export const cors = runtimePlugin(PLUGIN_DEFINITIONS.cors, (c) => {
  return {
    request(ctx) {
      if (ctx.method !== "OPTIONS" || !applies(c, ctx.path)) return undefined;
      const fields = corsFields(c, ctx);
      if (fields === undefined) {
        return responseWith("Allow origin is invalid", { status: 400 }, {
          "content-type": "text/plain; charset=utf-8",
          "cache-control": "private, no-store",
        });
      }
      return responseWith(null, { status: 204 }, [...fields, ["cache-control", "private, no-store"]]);
    },
    response(ctx, headers) {
      if (!applies(c, ctx.path) || ctx.header("origin") === null) return;
      const fields = corsFields(c, ctx);
      if (fields === undefined) return;
      for (const [name, value] of fields) headers.set(name, value);
    },
  };
});
