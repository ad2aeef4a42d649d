/**
 * The runtime plugin registry: every runtime half, keyed by the category of
 * the compiler definition it was made from (so a category is never spelled
 * twice). The compiler's `runtime: true` flag must name exactly these
 * categories: `pairing_test.ts` fails when one side has a category the other
 * lacks, or a half runs another definition than the compiler's.
 *
 * To add a plugin: write `runtime/plugins/<category>.ts` with
 * `runtimePlugin(PLUGIN_DEFINITIONS.<name>, …)`, list it in `HALVES`, and set
 * `runtime: true` in its compiler definition.
 *
 * @module
 */
import type { RuntimePlugin } from "./contract.ts";
import { geoRestriction } from "./geo_restriction.ts";
import { ipRestriction } from "./ip_restriction.ts";
import { limit } from "./limit.ts";
import { maintenance } from "./maintenance.ts";
import { refererRestriction } from "./referer_restriction.ts";
import { uaRestriction } from "./ua_restriction.ts";
import { uriBlock } from "./uri_block.ts";
import { basicAuth } from "./basic_auth.ts";
import { bandwidthLimit } from "./bandwidth_limit.ts";
import { health } from "./health.ts";
import { hmacAuth } from "./hmac_auth.ts";
import { jwt } from "./jwt.ts";
import { keyAuth } from "./key_auth.ts";
import { acceptEncoding } from "./accept_encoding.ts";
import { admin } from "../admin/plugin.ts";
import { combinedAuth } from "./combined_auth.ts";
import { compression } from "./compression.ts";
import { cors } from "./cors.ts";
import { csrf } from "./csrf.ts";
import { directory } from "./directory.ts";
import { errorPage } from "./error_page.ts";
import { forwardAuth } from "./forward_auth.ts";
import { mirror } from "./mirror.ts";
import { mock } from "./mock.ts";
import { oidc } from "./oidc.ts";
import { ping } from "./ping.ts";
import { redirect } from "./redirect.ts";
import { requestId } from "./request_id.ts";
import { requestHeaders } from "./request_headers.ts";
import { responseHeaders } from "./response_headers.ts";
import { stats } from "./stats.ts";
import { subFilter } from "./sub_filter.ts";
import { cache } from "./cache.ts";
import { trafficSplitting } from "./traffic_splitting.ts";
import { imageOptim } from "./image_optim.ts";

const HALVES: readonly RuntimePlugin[] = [
  ping,
  mock,
  redirect,
  requestId,
  requestHeaders,
  maintenance,
  uriBlock,
  errorPage,
  responseHeaders,
  stats,
  directory,
  cors,
  trafficSplitting,
  forwardAuth,
  csrf,
  combinedAuth,
  basicAuth,
  keyAuth,
  jwt,
  hmacAuth,
  oidc,
  ipRestriction,
  uaRestriction,
  refererRestriction,
  limit,
  geoRestriction,
  compression,
  acceptEncoding,
  subFilter,
  cache,
  imageOptim,
  admin,
  health,
  bandwidthLimit,
  mirror,
];

/** A registry: runtime halves by category. */
export type PluginRegistry = ReadonlyMap<string, RuntimePlugin>;

/** The runtime halves by category. */
export const RUNTIME_PLUGINS: PluginRegistry = new Map(HALVES.map((half) => [half.category, half]));
