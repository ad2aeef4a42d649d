/**
 * `referer_restriction`: allows or refuses a request by the host of its
 * `Referer` URL.
 *
 * @module
 */
import { PLUGIN_DEFINITIONS, type RefererRestrictionPlan } from "../../compiler/mod.ts";
import { plainAnswer } from "./forbidden.ts";
import { runtimePlugin } from "./contract.ts";

/** The host of a Referer value (lower case, as a URL parser gives it), or undefined when it is no URL with a host. */
export function refererHost(referer: string | null): string | undefined {
  if (referer === null) return undefined;
  let host: string;
  try {
    host = new URL(referer).hostname;
  } catch {
    return undefined;
  }
  return host === "" ? undefined : host;
}

/**
 * Does `plan` let a request with Referer `referer` (null: none) pass? The referer matches when its host is one of
 * `hosts` or ends with one of `suffixes`; a request without a usable Referer matches nothing.
 *
 * @example Usage
 * ```ts
 * import { refererAllows } from "./referer_restriction.ts";
 * const plan = { hosts: ["github.com"], suffixes: [".bing.cn"], type: "deny", message: "" } as const;
 * if (!refererAllows(plan, "https://google.com/") || refererAllows(plan, "https://test.bing.cn/")) throw new Error();
 * ```
 */
export function refererAllows(plan: RefererRestrictionPlan, referer: string | null): boolean {
  const host = refererHost(referer);
  const found = host !== undefined &&
    (plan.hosts.includes(host) || plan.suffixes.some((suffix) => host.endsWith(suffix)));
  return found === (plan.type === "allow");
}

/** Creates the referer_restriction plugin. */
export const refererRestriction = runtimePlugin(PLUGIN_DEFINITIONS.refererRestriction, (c) => {
  const forbidden = plainAnswer(403, c.message);
  return {
    request(ctx) {
      return refererAllows(c, ctx.header("referer")) ? undefined : forbidden;
    },
  };
});
