/**
 * `geo_restriction`: allows or refuses requests by the client's country.
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import { field, list, oneOf, str } from "../schema/types.ts";
import { definePlugin } from "./define.ts";

/** Compiled `geo_restriction` config. */
export interface GeoRestrictionPlan {
  /** `reporting` logs the country and never refuses. */
  readonly type: "allow" | "deny" | "reporting";
  /** Upper-case ISO 3166-1 alpha-2 codes. */
  readonly countryCodes: readonly string[];
  /** 403 body. */
  readonly message: string;
}

/** The `geo_restriction` plugin. */
export const geoRestriction = definePlugin({
  category: "geo_restriction",
  doc: "Looks up the client IP's country in a GeoIP database and checks it against `country_codes`. In `allow` mode " +
    "only listed countries pass, in `deny` mode listed countries are refused with `403`, and in `reporting` mode " +
    "nothing is refused but the IP and country are logged.",
  steps: { allowed: ["request"], default: "request" },
  fields: {
    type: field(oneOf(["allow", "deny", "reporting"]), {
      doc: "`allow` (whitelist), `deny` (blacklist) or `reporting` (log only).",
      required: true,
    }),
    country_codes: field(list("country codes"), {
      doc:
        'ISO 3166-1 alpha-2 country codes, e.g. `["CN", "RU"]`; an item may hold several codes separated by spaces or commas.',
      default: [],
    }),
    message: field(str(), { doc: "Body of the `403` response.", default: "Access from your country is not allowed" }),
  },
  compile(config, ctx): GeoRestrictionPlan {
    const countryCodes: string[] = [];
    for (const code of config.country_codes.flatMap((s) => s.split(/\s+/)).filter((s) => s !== "")) {
      if (!/^[A-Za-z]{2}$/.test(code)) {
        ctx.diags.push(
          diag(
            "invalid-value",
            [...ctx.path, "country_codes"],
            `Country code ${JSON.stringify(code)} is not two ASCII letters`,
            {
              hint: 'Use ISO 3166-1 alpha-2 codes, e.g. "US" or "DE"',
            },
          ),
        );
        continue;
      }
      const upper = code.toUpperCase();
      if (!countryCodes.includes(upper)) countryCodes.push(upper);
    }
    if (countryCodes.length === 0 && config.type !== "reporting") {
      const all = config.type === "allow";
      ctx.diags.push(
        diag(
          "empty-list",
          [...ctx.path, "country_codes"],
          `Country list is empty, so ${all ? "every request is refused" : "the plugin does nothing"}`,
          {
            severity: "warning",
            hint: 'Add codes, e.g. country_codes = ["US"]',
          },
        ),
      );
    }
    return { type: config.type, countryCodes, message: config.message };
  },
});
