/**
 * `accept_encoding`: rewrites the client's `Accept-Encoding`, as later plugins (compression, a cache key) and the
 * upstream see it, to the configured codings the client accepts, in the configured order (Pingap's steps: a token
 * match with `q=0` counting as refused; with `only_one_encoding` the first only). None left removes the header; a
 * request without it is left alone.
 *
 * @module
 */
import { PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { acceptsEncoding } from "./content_coding.ts";
import { runtimePlugin } from "./contract.ts";

/** The header value to send for `header`, or null to remove it. */
export function adjustAcceptEncoding(
  header: string,
  encodings: readonly string[],
  onlyOne: boolean,
): string | null {
  let out: string | null = null;
  for (const coding of encodings) {
    if (!acceptsEncoding(header, coding)) continue;
    if (out === null) {
      out = coding;
      if (onlyOne) break;
    } else out += `, ${coding}`;
  }
  return out;
}

/** The accept_encoding plugin. */
export const acceptEncoding = runtimePlugin(PLUGIN_DEFINITIONS.acceptEncoding, (plan) => ({
  request(ctx) {
    const header = ctx.header("accept-encoding");
    if (header === null) return undefined;
    const value = adjustAcceptEncoding(header, plan.encodings, plan.onlyOneEncoding);
    if (value !== header) ctx.replaceRequestHeader("accept-encoding", value);
    return undefined;
  },
}));
