/**
 * The runtime plugin registry, keyed by Pingap category. Each entry is the
 * runtime half of `compiler/plugins/<category>.ts`, whose definition says
 * `runtime: true`; the compiler refuses every other category, and
 * `pairing_test.ts` fails when the two sides disagree.
 *
 * @module
 */
import { basicAuth } from "./basic_auth.ts";
import { combinedAuth } from "./combined_auth.ts";
import { hmacAuth } from "./hmac_auth.ts";
import { jwt } from "./jwt.ts";
import { keyAuth } from "./key_auth.ts";
import { mock } from "./mock.ts";
import { ping } from "./ping.ts";
import { redirect } from "./redirect.ts";
import { requestId } from "./request_id.ts";
import { responseHeaders } from "./response_headers.ts";
import { stats } from "./stats.ts";
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
  ["basic_auth", basicAuth],
  ["key_auth", keyAuth],
  ["jwt", jwt],
  ["combined_auth", combinedAuth],
  ["hmac_auth", hmacAuth],
]);
