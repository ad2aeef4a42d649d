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
import { refererRestriction } from "./referer_restriction.ts";
import { uaRestriction } from "./ua_restriction.ts";
import { basicAuth } from "./basic_auth.ts";
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
import { forwardAuth } from "./forward_auth.ts";
import { mock } from "./mock.ts";
import { ping } from "./ping.ts";
import { redirect } from "./redirect.ts";
import { requestId } from "./request_id.ts";
import { responseHeaders } from "./response_headers.ts";
import { stats } from "./stats.ts";
import { subFilter } from "./sub_filter.ts";
import { cache } from "./cache.ts";
import { trafficSplitting } from "./traffic_splitting.ts";

const HALVES: readonly RuntimePlugin[] = [
  ping,
  mock,
  redirect,
  requestId,
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
  ipRestriction,
  uaRestriction,
  refererRestriction,
  limit,
  geoRestriction,
  compression,
  acceptEncoding,
  subFilter,
  cache,
  admin,
];

/** A registry: runtime halves by category. */
export type PluginRegistry = ReadonlyMap<string, RuntimePlugin>;

/** The runtime halves by category. */
export const RUNTIME_PLUGINS: PluginRegistry = new Map(HALVES.map((half) => [half.category, half]));
