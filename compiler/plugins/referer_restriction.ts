/**
 * `referer_restriction`: allows or refuses requests by the host of their
 * `Referer`.
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import { array, field, str } from "../schema/types.ts";
import { forbiddenMessage, restrictionType } from "./_types.ts";
import { definePlugin } from "./define.ts";

/** Compiled `referer_restriction` config. */
export interface RefererRestrictionPlan {
  /** Lower-cased hosts matched exactly. */
  readonly hosts: readonly string[];
  /** Lower-cased host suffixes (from `*suffix` entries), e.g. `.example.org`. */
  readonly suffixes: readonly string[];
  /** `allow`: only listed referers pass; `deny`: listed referers are refused. */
  readonly type: "allow" | "deny";
  /** 403 body. */
  readonly message: string;
}

const HOST = /^[a-z0-9._-]*$/;

/** The `referer_restriction` plugin. */
export const refererRestriction = definePlugin({
  category: "referer_restriction",
  doc: "Checks the host of the request's `Referer` URL against a list. In `allow` mode only listed referers pass; in " +
    "`deny` mode listed referers are refused with `403`.",
  steps: { allowed: ["request"], default: "request" },
  runtime: true,
  fields: {
    referer_list: field(array(str({ nonEmpty: true })), {
      doc:
        "Hosts to match: an exact host (`example.com`), or `*` followed by a suffix (`*.example.org` matches every subdomain).",
      default: [],
    }),
    type: restrictionType,
    message: forbiddenMessage,
  },
  compile(config, ctx): RefererRestrictionPlan {
    const hosts: string[] = [];
    const suffixes: string[] = [];
    config.referer_list.forEach((item, i) => {
      const value = item.trim().toLowerCase();
      const wildcard = value.startsWith("*");
      const host = wildcard ? value.slice(1) : value;
      if (!HOST.test(host) || (!wildcard && host === "")) {
        ctx.diags.push(
          diag("invalid-value", [...ctx.path, "referer_list", i], `Referer host ${JSON.stringify(item)} is invalid`, {
            hint: 'Write a host such as "example.com" or "*.example.org", without scheme or path',
          }),
        );
        return;
      }
      (wildcard ? suffixes : hosts).push(host);
    });
    if (config.referer_list.length === 0) {
      const all = config.type === "allow";
      ctx.diags.push(
        diag(
          "empty-list",
          [...ctx.path, "referer_list"],
          `Referer list is empty, so ${all ? "every request is refused" : "the plugin does nothing"}`,
          {
            severity: "warning",
            hint: 'Add hosts, e.g. referer_list = ["example.com"]',
          },
        ),
      );
    }
    return { hosts, suffixes, type: config.type, message: config.message };
  },
});
