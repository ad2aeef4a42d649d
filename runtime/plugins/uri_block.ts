/**
 * `uri_block`: the method allow-list first, then the path (as sent, then normalised), then the query (as sent, then
 * decoded). A block is a fixed answer made once per instance: the status, text/plain, `no-store`.
 *
 * @module
 */
import { PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { StaticAnswer } from "../http/static_answer.ts";
import { normalizePath } from "../proxy/path_normalize.ts";
import { runtimePlugin } from "./contract.ts";

/**
 * The path as an upstream may read it: `\` as `/`, `;params` of each segment dropped, then decoded with dot segments
 * removed and slashes merged (runtime/proxy/path_normalize.ts).
 */
export function blockPathForm(path: string): string {
  let p = path.includes("\\") ? path.replaceAll("\\", "/") : path;
  if (p.includes(";")) p = p.replace(/;[^/]*/g, "");
  return normalizePath(p);
}

const HEX2 = /^[0-9a-fA-F]{2}$/;
const ENCODER = new TextEncoder();

/** The query as an application reads it: `+` a space, percent-escapes decoded (bad UTF-8 as U+FFFD). */
export function decodeQuery(query: string): string {
  const spaced = query.includes("+") ? query.replaceAll("+", " ") : query;
  if (!spaced.includes("%")) return spaced;
  const bytes: number[] = [];
  for (let i = 0; i < spaced.length; i++) {
    const c = spaced.charCodeAt(i);
    if (c === 37 && HEX2.test(spaced.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(spaced.slice(i + 1, i + 3), 16));
      i += 2;
      continue;
    }
    if (c < 128) bytes.push(c);
    else for (const b of ENCODER.encode(spaced[i])) bytes.push(b);
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

function anyMatch(patterns: readonly RegExp[], text: string): boolean {
  for (const p of patterns) if (p.test(text)) return true;
  return false;
}

/** The runtime half of `uri_block`. */
export const uriBlock = runtimePlugin(PLUGIN_DEFINITIONS.uriBlock, (c) => {
  const blocked = new StaticAnswer(c.status, [
    ["content-type", "text/plain; charset=utf-8"],
    ["cache-control", "private, no-store"],
  ], c.message);
  return {
    request(ctx) {
      if (c.methods.length > 0 && !c.methods.includes(ctx.method)) return blocked;
      if (c.paths.length > 0) {
        const uri = ctx.uri;
        const q = uri.indexOf("?");
        const path = q < 0 ? uri : uri.slice(0, q);
        if (anyMatch(c.paths, path)) return blocked;
        const normal = blockPathForm(path);
        if (normal !== path && anyMatch(c.paths, normal)) return blocked;
      }
      const query = ctx.rawQuery;
      if (c.queries.length > 0 && query !== "") {
        if (anyMatch(c.queries, query)) return blocked;
        const decoded = decodeQuery(query);
        if (decoded !== query && anyMatch(c.queries, decoded)) return blocked;
      }
      return undefined;
    },
  };
});
