/**
 * The runtime plugin registry, keyed by Pingap category. Each entry is the
 * runtime half of `compiler/plugins/<category>.ts`, whose definition says
 * `runtime: true`; the compiler refuses every other category, and
 * `pairing_test.ts` fails when the two sides disagree.
 *
 * @module
 */
import { geoRestriction } from "./geo_restriction.ts";
import { ipRestriction } from "./ip_restriction.ts";
import { limit } from "./limit.ts";
import { mock } from "./mock.ts";
import { ping } from "./ping.ts";
import { redirect } from "./redirect.ts";
import { refererRestriction } from "./referer_restriction.ts";
import { requestId } from "./request_id.ts";
import { responseHeaders } from "./response_headers.ts";
import { stats } from "./stats.ts";
import { uaRestriction } from "./ua_restriction.ts";
import type { PluginFactory } from "./types.ts";

export type { PluginEnv, PluginFactory, PluginInstance } from "./types.ts";

/** Runtime plugins by category. */
export const RUNTIME_PLUGINS: ReadonlyMap<string, PluginFactory> = new Map([
  ["ping", ping],
  ["mock", mock],
  ["redirect", redirect],
  ["request_id", requestId],
  ["response_headers", responseHeaders],
  ["stats", stats],
  ["ip_restriction", ipRestriction],
  ["ua_restriction", uaRestriction],
  ["referer_restriction", refererRestriction],
  ["limit", limit],
  ["geo_restriction", geoRestriction],
]);
