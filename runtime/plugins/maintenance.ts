/**
 * `maintenance`: the notice for everyone but the listed client addresses (the verified client IP, never a forwarded
 * header taken as it came) and the requests carrying the allow header with its value (compared in constant time, every
 * value of the header looked at). The notice is made once per instance and carries `no-store`, so no cache keeps it
 * past the maintenance.
 *
 * @module
 */
import { ipInList, PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { StaticAnswer } from "../http/static_answer.ts";
import type { RequestContext } from "../proxy/context.ts";
import { constantTimeEqual } from "./constant_time.ts";
import { runtimePlugin } from "./contract.ts";

/** The runtime half of `maintenance`. */
export const maintenance = runtimePlugin(PLUGIN_DEFINITIONS.maintenance, (c) => {
  if (!c.enabled) return {};
  const fields: [string, string][] = [["content-type", c.contentType], ["cache-control", "private, no-store"]];
  if (c.retryAfter !== undefined) fields.push(["retry-after", String(c.retryAfter)]);
  const notice = new StaticAnswer(c.status, fields, c.body);
  const allowHeader = c.allowHeader;
  const hasAllowHeader = (ctx: RequestContext): boolean => {
    if (allowHeader === undefined) return false;
    const got = ctx.header(allowHeader[0]);
    if (got === null) return false;
    // Several fields of one name arrive joined by ", ": each value is compared.
    if (constantTimeEqual(got, allowHeader[1])) return true;
    return got.includes(",") && got.split(",").some((v) => constantTimeEqual(v.trim(), allowHeader[1]));
  };
  return {
    request(ctx) {
      if (hasAllowHeader(ctx)) return undefined;
      if (c.allowIps.length > 0 && ipInList(c.allowIps, ctx.clientIp())) return undefined;
      return notice;
    },
  };
});
