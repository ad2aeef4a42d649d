/**
 * `compression`: compresses response bodies as they stream, with the best coding the client accepts (zstd, then
 * brotli, then gzip, among those whose level is above 0), never holding a whole body.
 *
 * - Default mode (`downstream`, Pingap's `""`/`response`): every answer of the location (the upstream's or a
 *   plugin's) whose type Pingora would compress (text, `application/*` without `zip`, fonts, SVG, icons), not
 *   already encoded, longer than 20 bytes and not shorter than `min_length` when its length is known.
 * - `upstream` mode: the coding is settled when the request comes in and the upstream is asked for that one only
 *   (`Accept-Encoding` replaced, as Pingap does for its cache key); only upstream answers of Pingap's types
 *   (`text/*`, `application/json`, `application/xml`) are compressed, and one the upstream encoded itself gets
 *   `Vary: Accept-Encoding`.
 *
 * `types` (content-type prefixes) replaces upstream mode's list and narrows the default rule; `skip` (a regex on the
 * path and query as the client sent them) leaves requests uncompressed.
 *
 * Both: no HEAD, 1xx, 204, 206 or 304 answer, no event stream and nothing marked `no-transform`; a compressed
 * answer gets `Content-Encoding`, `Vary: Accept-Encoding`, a weak `ETag` and no `Accept-Ranges` (the pipeline drops
 * `Content-Length`). With `decompression = true` (default mode) an answer encoded in a coding the client does not
 * accept is decoded. The encoder runs after every other body transform (`encodesBody`), so `sub_filter` sees the
 * body as the upstream sent it.
 *
 * @module
 */
import { type PlanOf, PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import type { RequestContext } from "../proxy/context.ts";
import {
  acceptsEncoding,
  addVary,
  type Coding,
  type CompressionStat,
  decoder,
  encoder,
  isCompressibleDownstream,
  isCompressibleUpstream,
  matchesTypes,
  mediaType,
  mustNotTransform,
  weakenEtag,
} from "./content_coding.ts";
import { type PluginHooks, runtimePlugin } from "./contract.ts";

type CompressionPlan = PlanOf<typeof PLUGIN_DEFINITIONS.compression>;

/** Pingora compresses nothing this short (or shorter). */
const PINGORA_MIN_LENGTH = 20;

/**
 * The levels `plan` uses for a request with this `Accept-Encoding`, as `[zstd, br, gzip]`: a coding's level when it
 * is on and the client accepts it, else 0 (Pingap's `get_compress_level`).
 */
export function compressLevels(plan: CompressionPlan, acceptEncoding: string | null): [number, number, number] {
  if (acceptEncoding === null || acceptEncoding === "") return [0, 0, 0];
  return [
    plan.zstdLevel > 0 && acceptsEncoding(acceptEncoding, "zstd") ? plan.zstdLevel : 0,
    plan.brLevel > 0 && acceptsEncoding(acceptEncoding, "br") ? plan.brLevel : 0,
    plan.gzipLevel > 0 && acceptsEncoding(acceptEncoding, "gzip") ? plan.gzipLevel : 0,
  ];
}

/** The coding and level for this `Accept-Encoding` (zstd, then br, then gzip), or undefined. */
export function chooseCoding(
  plan: CompressionPlan,
  acceptEncoding: string | null,
): { coding: Coding; level: number } | undefined {
  const [zstd, br, gzip] = compressLevels(plan, acceptEncoding);
  if (zstd > 0) return { coding: "zstd", level: zstd };
  if (br > 0) return { coding: "br", level: br };
  if (gzip > 0) return { coding: "gzip", level: gzip };
  return undefined;
}

/** Answers that carry no body to compress, or whose bytes must stay as they are (a range of the upstream's). */
function noBody(ctx: RequestContext, status: number): boolean {
  return ctx.method === "HEAD" || status < 200 || status === 204 || status === 206 || status === 304;
}

/** Whether a response that says its length is too short to compress. */
function tooShort(headers: Headers, min: number): boolean {
  const value = headers.get("content-length");
  if (value === null) return false;
  const n = Number(value);
  return Number.isFinite(n) && n < min;
}

/** The compression plugin. */
export const compression = runtimePlugin(PLUGIN_DEFINITIONS.compression, (plan) => {
  const upstreamMode = plan.mode === "upstream";
  const compresses = plan.gzipLevel + plan.brLevel + plan.zstdLevel > 0;
  const decodes = !upstreamMode && plan.decompression === true;
  // Pingora's floor of 20 bytes (a length of 20 is not compressed) and the configured one.
  const minLength = upstreamMode ? plan.minLength : Math.max(plan.minLength, PINGORA_MIN_LENGTH + 1);
  const types = plan.types;
  const rule = upstreamMode ? isCompressibleUpstream : isCompressibleDownstream;
  // `types` replaces upstream mode's list and narrows the default mode's rule (Pingap 0.16).
  const compressible = types === undefined
    ? rule
    : upstreamMode
    ? (type: string) => matchesTypes(types, type)
    : (type: string) => rule(type) && matchesTypes(types, type);
  const skip = plan.skip;
  // Requests `skip` took out, judged at early_request on the target as the client sent it (before any rewrite).
  const skipped = skip === undefined ? undefined : new WeakSet<RequestContext>();
  const hooks: PluginHooks = { encodesBody: true };
  if (!compresses && !decodes) return hooks;

  if (skip !== undefined && !upstreamMode) {
    hooks.request = (ctx) => {
      if (skip.test(ctx.uri)) skipped!.add(ctx);
      return undefined;
    };
  }
  if (upstreamMode) {
    // Settled once, at early_request: the upstream is asked for this coding and no other.
    hooks.request = (ctx) => {
      if (skip !== undefined && skip.test(ctx.uri)) {
        skipped!.add(ctx);
        return undefined;
      }
      const ae = ctx.header("accept-encoding");
      const chosen = chooseCoding(plan, ae);
      if (chosen !== undefined && ae !== chosen.coding) ctx.replaceRequestHeader("accept-encoding", chosen.coding);
      return undefined;
    };
    // An answer the upstream encoded itself depends on what was asked for.
    hooks.response = (ctx, headers) => {
      if (ctx.upstreamStatus !== undefined && headers.has("content-encoding")) addVary(headers);
    };
  }

  hooks.responseBody = (ctx, headers, status) => {
    if (noBody(ctx, status)) return undefined;
    const encoded = headers.get("content-encoding");
    if (encoded !== null && encoded.toLowerCase() !== "identity") {
      // Never encoded twice; decoded only when asked to and the client cannot read it.
      if (!decodes || mustNotTransform(headers)) return undefined;
      const coding = encoded.trim().toLowerCase();
      const ae = ctx.header("accept-encoding");
      if (ae !== null && acceptsEncoding(ae, coding)) return undefined;
      const t = decoder(coding);
      if (t === undefined) return undefined;
      headers.delete("content-encoding");
      headers.delete("accept-ranges");
      weakenEtag(headers);
      addVary(headers);
      return t;
    }
    if (!compresses || skipped?.has(ctx)) return undefined;
    if (upstreamMode && ctx.upstreamStatus === undefined) return undefined;
    if (mustNotTransform(headers) || !compressible(mediaType(headers.get("content-type")))) return undefined;
    if (tooShort(headers, minLength)) return undefined;
    const chosen = chooseCoding(plan, ctx.header("accept-encoding"));
    if (chosen === undefined) return undefined;
    headers.set("content-encoding", chosen.coding);
    headers.delete("accept-ranges");
    weakenEtag(headers);
    addVary(headers);
    // Counted for `{:compression_ratio}`, `{:compression_time}` and `pingap_compression_ratio`.
    const stat: CompressionStat = { in: 0, out: 0, ms: 0 };
    ctx.compression = stat;
    return encoder(chosen.coding, chosen.level, stat);
  };
  return hooks;
});
