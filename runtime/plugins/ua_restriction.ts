/**
 * `ua_restriction`: allows or refuses a request by its `User-Agent`.
 *
 * @module
 */
import { PLUGIN_DEFINITIONS, type UaRestrictionPlan } from "../../compiler/mod.ts";
import { plainAnswer } from "./forbidden.ts";
import { runtimePlugin } from "./contract.ts";

/** Bytes outside visible ASCII, space and tab: a value Pingap cannot read as text (it counts as no User-Agent). */
const NOT_TEXT = /[^\t\x20-\x7e]/;

/**
 * Does `plan` let a request with User-Agent `ua` (null: none) pass? A request matches when any pattern is found in
 * its User-Agent; `allow` passes only matching ones, `deny` refuses them.
 *
 * @example Usage
 * ```ts
 * import { uaAllows } from "./ua_restriction.ts";
 * const plan = { uaList: [/go-http-client\/1\.1/], type: "deny", message: "" } as const;
 * if (!uaAllows(plan, "pingap/1.0") || uaAllows(plan, "go-http-client/1.1")) throw new Error();
 * ```
 */
export function uaAllows(plan: UaRestrictionPlan, ua: string | null): boolean {
  let found = false;
  if (ua !== null && !NOT_TEXT.test(ua)) {
    for (const re of plan.uaList) {
      re.lastIndex = 0;
      if (re.test(ua)) {
        found = true;
        break;
      }
    }
  }
  return found === (plan.type === "allow");
}

/** Creates the ua_restriction plugin. */
export const uaRestriction = runtimePlugin(PLUGIN_DEFINITIONS.uaRestriction, (c) => {
  const forbidden = plainAnswer(403, c.message);
  return {
    request(ctx) {
      return uaAllows(c, ctx.header("user-agent")) ? undefined : forbidden;
    },
  };
});
