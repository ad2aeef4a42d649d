/**
 * The plugin registry of the compiler: one {@linkcode PluginDefinition} per
 * Pingap plugin `category` (Pingap 0.13's 26 and the nine of 0.16), and the six plugin instances that
 * Pingap always registers under `pingap:` names.
 *
 * Only the categories whose definition says `runtime: true` (see
 * {@linkcode SUPPORTED_CATEGORIES}) run in this version; the compiler
 * refuses the others with a `not-supported` error, so nothing is served
 * with a plugin silently missing.
 *
 * Each definition lives in `<category>.ts` and holds the plugin's keys (with
 * types, defaults and docs), the steps it may run at, and a `compile` that
 * checks rules across keys and precomputes what the runtime half in
 * `runtime/plugins/<category>.ts` needs. The common keys `category`, `step`
 * and `remark` are not part of any definition; the stage that compiles
 * `[plugins.<name>]` handles them.
 *
 * @example Usage
 * ```ts
 * import { BUILTIN_PLUGINS, PLUGINS } from "./mod.ts";
 * if (PLUGINS.get("limit")?.steps.default !== "request") throw new Error();
 * if (BUILTIN_PLUGINS.get("pingap:ping")?.category !== "ping") throw new Error();
 * ```
 *
 * @module
 */
import { acceptEncoding } from "./accept_encoding.ts";
import { admin } from "./admin.ts";
import { bandwidthLimit } from "./bandwidth_limit.ts";
import { basicAuth } from "./basic_auth.ts";
import { cache } from "./cache.ts";
import { combinedAuth } from "./combined_auth.ts";
import { compression } from "./compression.ts";
import { cors } from "./cors.ts";
import { csrf } from "./csrf.ts";
import type { PluginDefinition } from "./define.ts";
import { directory } from "./directory.ts";
import { errorPage } from "./error_page.ts";
import { forwardAuth } from "./forward_auth.ts";
import { geoRestriction } from "./geo_restriction.ts";
import { health } from "./health.ts";
import { hmacAuth } from "./hmac_auth.ts";
import { imageOptim } from "./image_optim.ts";
import { ipRestriction } from "./ip_restriction.ts";
import { jwt } from "./jwt.ts";
import { keyAuth } from "./key_auth.ts";
import { limit } from "./limit.ts";
import { mirror } from "./mirror.ts";
import { maintenance } from "./maintenance.ts";
import { mock } from "./mock.ts";
import { oidc } from "./oidc.ts";
import { ping } from "./ping.ts";
import { redirect } from "./redirect.ts";
import { refererRestriction } from "./referer_restriction.ts";
import { requestId } from "./request_id.ts";
import { requestHeaders } from "./request_headers.ts";
import { responseHeaders } from "./response_headers.ts";
import { stats } from "./stats.ts";
import { subFilter } from "./sub_filter.ts";
import { trafficSplitting } from "./traffic_splitting.ts";
import { uaRestriction } from "./ua_restriction.ts";
import { uriBlock } from "./uri_block.ts";

export type { PlanOf, PluginContext, PluginDefinition, Step } from "./define.ts";
export { definePlugin, STEPS } from "./define.ts";

/**
 * Every plugin definition, typed: `PLUGIN_DEFINITIONS.basicAuth` is the
 * `basic_auth` definition with its exact compiled-config type, which a
 * runtime half is typed against (`runtimePlugin` in
 * runtime/plugins/contract.ts). The order is the registry's order (docs,
 * hints).
 */
export const PLUGIN_DEFINITIONS = {
  stats,
  limit,
  compression,
  admin,
  directory,
  mock,
  requestId,
  ipRestriction,
  keyAuth,
  basicAuth,
  combinedAuth,
  jwt,
  cache,
  redirect,
  ping,
  responseHeaders,
  subFilter,
  refererRestriction,
  uaRestriction,
  csrf,
  cors,
  acceptEncoding,
  trafficSplitting,
  forwardAuth,
  geoRestriction,
  imageOptim,
  hmacAuth,
  oidc,
  health,
  bandwidthLimit,
  mirror,
  requestHeaders,
  maintenance,
  uriBlock,
  errorPage,
} as const;

const ALL = Object.values(PLUGIN_DEFINITIONS);

/** Every plugin definition, keyed by its `category` value. */
export const PLUGINS: ReadonlyMap<string, PluginDefinition> = new Map(
  ALL.map((definition) => [definition.category, definition as unknown as PluginDefinition]),
);

/**
 * The categories this version runs (their definition has `runtime: true`),
 * sorted. Naming any other category is a `check` error.
 */
export const SUPPORTED_CATEGORIES: readonly string[] = [...PLUGINS.values()]
  .filter((d) => d.runtime === true).map((d) => d.category).sort();

/** A plugin table as written in TOML: `category` plus the plugin's keys. */
export interface RawPlugin {
  /** The plugin category. */
  readonly category: string;
  /** The plugin's own keys (and `remark`). */
  readonly [key: string]: unknown;
}

/**
 * The plugin instances Pingap always registers, by name. They are compiled
 * exactly like `[plugins.<name>]` tables and can be listed in a location's
 * `plugins`. (`pingap:admin` exists only when the admin address is given on
 * the command line, so it is not here.)
 */
export const BUILTIN_PLUGINS: ReadonlyMap<string, RawPlugin> = new Map<string, RawPlugin>([
  ["pingap:compression", {
    category: "compression",
    gzip_level: 6,
    br_level: 6,
    zstd_level: 6,
    remark: "Compression for http, support zstd:6, br:6, gzip:6",
  }],
  ["pingap:compressionUpstream", {
    category: "compression",
    gzip_level: 6,
    br_level: 6,
    zstd_level: 6,
    mode: "upstream",
    remark: "Compression for upstream response, support zstd:6, br:6, gzip:6",
  }],
  ["pingap:ping", { category: "ping", path: "/ping", remark: "Ping pong" }],
  ["pingap:stats", { category: "stats", path: "/stats", remark: "Get stats of server" }],
  ["pingap:requestId", { category: "request_id", remark: "Generate a request id for service" }],
  ["pingap:acceptEncodingAdjustment", {
    category: "accept_encoding",
    encodings: "zstd, br, gzip",
    only_one_encoding: true,
    remark: "Adjust the accept encoding order and choose one encoding",
  }],
]);
