/**
 * `sub_filter`: rewrites upstream response bodies with literal (`sub_filter`) and regex (`subs_filter`) rules, as
 * they stream (runtime/plugins/sub_filter_stream.ts), on requests whose path matches `path` and answers whose status
 * is in `status_codes` (each when set). Like Pingap it leaves alone HEAD, 1xx, 204 and 304 answers, answers with a
 * content coding (opaque bytes to the rules), and answers made by plugins; the pipeline drops `Content-Length`.
 *
 * @module
 */
import { PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { runtimePlugin } from "./contract.ts";
import { prepareRules, subFilterStream } from "./sub_filter_stream.ts";

/** The sub_filter plugin. */
export const subFilter = runtimePlugin(PLUGIN_DEFINITIONS.subFilter, (plan) => {
  const filters = prepareRules(plan.filters);
  const statusCodes = plan.statusCodes;
  const path = plan.path;
  if (filters.length === 0) return {};
  return {
    responseBody(ctx, headers, status) {
      if (ctx.upstreamStatus === undefined || ctx.method === "HEAD") return undefined;
      if (status < 200 || status === 204 || status === 304) return undefined;
      if (statusCodes !== undefined && !statusCodes.includes(status)) return undefined;
      const coding = headers.get("content-encoding");
      if (coding !== null && coding.toLowerCase() !== "identity") return undefined;
      if (path !== undefined && !path.test(ctx.path)) return undefined;
      return subFilterStream(filters);
    },
  };
});
