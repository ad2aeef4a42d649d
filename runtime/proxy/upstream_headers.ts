/**
 * The copy of a client's request headers that goes to the upstream once something writes to them (a plugin, a header
 * operation): without the hop-by-hop fields and those `Connection` names, or as the upstream's header options say.
 *
 * @module
 */
import type { HeaderPolicy } from "../../compiler/mod.ts";
import { copyHeaders, isConnectionOwn, isHopByHop } from "../http/headers_copy.ts";
import { removableNominations } from "../upstream/nominations.ts";

/**
 * Copies request headers without hop-by-hop ones (and those named by Connection), or as the upstream's `policy` says
 * when one of its options is off. Never throws: refused nominations are left for the pipeline to answer (see
 * `RequestContext.nominationRefusal`).
 *
 * @example Usage
 * ```ts
 * import { upstreamHeadersOf } from "./upstream_headers.ts";
 * const h = upstreamHeadersOf(new Headers({ connection: "x-a", "x-a": "1", "x-b": "2", te: "trailers" }));
 * if (h.has("x-a") || h.has("te") || h.get("x-b") !== "2") throw new Error();
 * ```
 *
 * @param source The client's headers.
 * @param connection Their `Connection` value, when already read.
 * @param policy The upstream's header options when one is off.
 * @returns The copy.
 */
export function upstreamHeadersOf(
  source: Headers,
  connection: string | null = source.get("connection"),
  policy?: HeaderPolicy,
): Headers {
  const h = copyHeaders(source, policy === undefined || policy.stripHopByHop ? isHopByHop : isConnectionOwn);
  if (connection && (policy === undefined || policy.stripNominated)) {
    const names = removableNominations(connection, policy !== undefined);
    if (names !== null) { for (const name of names) h.delete(name); }
  }
  return h;
}
