/**
 * `response_headers`: add, set, remove, rename, set-if-absent.
 *
 * @module
 */
import { PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import type { RequestContext } from "../proxy/context.ts";
import { render } from "../proxy/variables.ts";
import { runtimePlugin } from "./contract.ts";

/** The runtime half of `response_headers`. */
export const responseHeaders = runtimePlugin(PLUGIN_DEFINITIONS.responseHeaders, (c) => {
  function apply(ctx: RequestContext, headers: Headers): void {
    for (const h of c.add) headers.append(h.name, render(h.value, ctx));
    for (const h of c.set) headers.set(h.name, render(h.value, ctx));
    for (const name of c.remove) headers.delete(name);
    for (const [from, to] of c.rename) {
      const v = headers.get(from);
      if (v === null) continue;
      headers.delete(from);
      headers.append(to, v);
    }
    for (const h of c.setIfAbsent) if (!headers.has(h.name)) headers.set(h.name, render(h.value, ctx));
  }
  return c.mode === "upstream" ? { upstreamResponse: apply } : { response: apply };
});
