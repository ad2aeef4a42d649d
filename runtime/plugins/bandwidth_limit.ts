/**
 * `bandwidth_limit` (Pingap 0.16): paces the response body of each matching request (runtime/plugins/bandwidth_pace.ts)
 * in the response-body phase, so upstream answers, cached ones and `directory` files are all paced.
 *
 * @module
 */
import { PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { paceStream } from "./bandwidth_pace.ts";
import { runtimePlugin } from "./contract.ts";

/** The `bandwidth_limit` plugin's runtime half. */
export const bandwidthLimit = runtimePlugin(PLUGIN_DEFINITIONS.bandwidthLimit, (plan) => ({
  responseBody(ctx, _headers, status) {
    // An upgraded connection is not paced.
    if (status === 101) return undefined;
    if (plan.path !== undefined && !plan.path.test(ctx.path)) return undefined;
    return paceStream(plan.rate, plan.after);
  },
}));
