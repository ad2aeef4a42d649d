/**
 * `geo_restriction`: allows or refuses requests by the client's country.
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import { duration, field, list, oneOf, str } from "../schema/types.ts";
import { headerNameType } from "./_types.ts";
import { definePlugin } from "./define.ts";

/** Compiled `geo_restriction` config. */
export interface GeoRestrictionPlan {
  /** `reporting` logs the country and never refuses. */
  readonly type: "allow" | "deny" | "reporting";
  /** Upper-case ISO 3166-1 alpha-2 codes. */
  readonly countryCodes: readonly string[];
  /** 403 body. */
  readonly message: string;
  /** Path of the MaxMind-format database (`.mmdb`), as written. */
  readonly database: string;
  /** How often the database file is looked at for a change (ms, at least 1000). */
  readonly databaseRefresh: number;
  /** Request header (lower case) that tells the upstream the country; undefined: none. */
  readonly header?: string;
}

/** The `geo_restriction` plugin. */
export const geoRestriction = definePlugin({
  category: "geo_restriction",
  doc: "Looks up the client IP's country in a MaxMind-format database (`.mmdb`: `country.iso_code`, `country_code` " +
    "or `country` of the record) and checks it against `country_codes`. In `allow` mode only listed countries pass, in " +
    "`deny` mode listed countries are refused with `403`, and in `reporting` mode nothing is refused but the IP and " +
    "country are logged. An address without a country fails an allow list and passes a deny list. The client IP is the " +
    "verified one (`basic.trusted_proxies`).",
  steps: { allowed: ["request"], default: "request" },
  runtime: true,
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
    database: field(str(), {
      doc: "Path of the `.mmdb` file (GeoLite2/GeoIP2 Country or City, DB-IP, ip-location-db…). Required here: this " +
        "version has no built-in database. Read when the config is applied (a missing or unreadable file stops " +
        "`start` and refuses a reload) and read again when it changes.",
    }),
    database_refresh: field(duration(), {
      doc: "How often the database file is looked at for a change, at least 1s.",
      default: "60s",
    }),
    header: field(headerNameType(), {
      doc: "Request header that tells the upstream the country code (the client's own copy is removed, also when no " +
        "country is known).",
    }),
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
    const database = (config.database ?? "").trim();
    if (database === "") {
      ctx.diags.push(
        diag(
          "not-supported",
          [...ctx.path, "database"],
          "A geo_restriction without database is not supported by this version: it has no built-in GeoIP data",
          {
            hint: 'Set database to a MaxMind-format file, e.g. database = "/var/lib/GeoIP/GeoLite2-Country.mmdb"',
          },
        ),
      );
    }
    if (config.database_refresh < 1000) {
      ctx.diags.push(
        diag("out-of-range", [...ctx.path, "database_refresh"], "database_refresh should be at least 1s", {
          hint: 'Use e.g. database_refresh = "60s"',
        }),
      );
    }
    return {
      type: config.type,
      countryCodes,
      message: config.message,
      database,
      databaseRefresh: Math.max(config.database_refresh, 1000),
      ...(config.header !== undefined ? { header: config.header } : {}),
    };
  },
});
