/**
 * `ua_restriction`: allows or refuses requests by `User-Agent`.
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import { array, field } from "../schema/types.ts";
import { forbiddenMessage, regex, restrictionType } from "./_types.ts";
import { definePlugin } from "./define.ts";

/** Compiled `ua_restriction` config. */
export interface UaRestrictionPlan {
  /** A request matches when any regex finds a match in its User-Agent. */
  readonly uaList: readonly RegExp[];
  /** `allow`: only matching agents pass; `deny`: matching agents are refused. */
  readonly type: "allow" | "deny";
  /** 403 body. */
  readonly message: string;
}

/** The `ua_restriction` plugin. */
export const uaRestriction = definePlugin({
  category: "ua_restriction",
  doc: "Matches the request's `User-Agent` against a list of regexes. In `allow` mode only matching agents pass; in " +
    "`deny` mode matching agents are refused with `403`.",
  steps: { allowed: ["request"], default: "request" },
  runtime: true,
  fields: {
    ua_list: field(array(regex()), {
      doc:
        'Regexes searched for in the User-Agent (not anchored), e.g. `["go-http-client/1.1", "(Twitterspider)/(\\\\d+)"]`.',
      default: [],
    }),
    type: restrictionType,
    message: forbiddenMessage,
  },
  compile(config, ctx): UaRestrictionPlan {
    if (config.ua_list.length === 0) {
      const all = config.type === "allow";
      ctx.diags.push(
        diag(
          "empty-list",
          [...ctx.path, "ua_list"],
          `User-Agent list is empty, so ${all ? "every request is refused" : "the plugin does nothing"}`,
          {
            severity: "warning",
            hint: 'Add patterns, e.g. ua_list = ["curl/"]',
          },
        ),
      );
    }
    return { uaList: config.ua_list, type: config.type, message: config.message };
  },
});
