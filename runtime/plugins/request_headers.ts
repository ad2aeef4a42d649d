/**
 * `request_headers`: add, remove, set, set-if-absent, rename on the headers sent upstream. Values are rendered first,
 * from the request as it came, so a `$http_x` in one rule reads the client's header whatever another rule does to it.
 * Later plugins read the edited headers. Names the plugin writes survive the client's `Connection` nomination: the nominated names are dropped when the
 * upstream copy is made, before the plugin writes.
 *
 * @module
 */
import { PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { render } from "../proxy/variables.ts";
import { runtimePlugin } from "./contract.ts";

/** The runtime half of `request_headers`. */
export const requestHeaders = runtimePlugin(PLUGIN_DEFINITIONS.requestHeaders, (c) => {
  // Every name the rules touch: later plugins read them as edited (`ctx.header`).
  const touched = [
    ...new Set([
      ...c.add.map((h) => h.name),
      ...c.remove,
      ...c.set.map((h) => h.name),
      ...c.setIfAbsent.map((h) => h.name),
      ...c.rename.flat(),
    ]),
  ];
  return {
    request(ctx) {
      const add = c.add.map((h) => render(h.value, ctx));
      const set = c.set.map((h) => render(h.value, ctx));
      const absent = c.setIfAbsent.map((h) => render(h.value, ctx));
      const headers = ctx.upstreamHeaders;
      c.add.forEach((h, i) => headers.append(h.name, add[i]!));
      for (const name of c.remove) headers.delete(name);
      c.set.forEach((h, i) => headers.set(h.name, set[i]!));
      c.setIfAbsent.forEach((h, i) => {
        if (!headers.has(h.name)) headers.set(h.name, absent[i]!);
      });
      for (const [from, to] of c.rename) {
        const value = headers.get(from);
        if (value === null) continue;
        headers.delete(from);
        headers.append(to, value);
      }
      for (const name of touched) ctx.replaceRequestHeader(name, headers.get(name));
      return undefined;
    },
  };
});
