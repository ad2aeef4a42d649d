/**
 * `geo_restriction`: allows or refuses a request by its client IP's
 * country, from a MaxMind-format database (geo_database.ts). The client IP
 * is the verified one (runtime/proxy/client_ip.ts).
 *
 * @module
 */
import { type GeoRestrictionPlan, PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { appLog } from "../observe/log/app_log.ts";
import { plainAnswer } from "./forbidden.ts";
import { acquireGeoDatabase, releaseGeoDatabase } from "./geo_database.ts";
import { runtimePlugin } from "./contract.ts";

/**
 * Does `plan` let a client of `country` (undefined: unknown) pass? An unknown country fails an allow list and passes a
 * deny list; `reporting` lets everyone pass.
 *
 * @example Usage
 * ```ts
 * import { geoAllows } from "./geo_restriction.ts";
 * const plan = { type: "allow", countryCodes: ["AU", "DE"], message: "", database: "", databaseRefresh: 60_000 } as const;
 * if (!geoAllows(plan, "DE") || geoAllows(plan, "US") || geoAllows(plan, undefined)) throw new Error();
 * ```
 */
export function geoAllows(plan: GeoRestrictionPlan, country: string | undefined): boolean {
  if (plan.type === "reporting") return true;
  const found = country !== undefined && plan.countryCodes.includes(country);
  return found === (plan.type === "allow");
}

/** Creates the geo_restriction plugin (reads its database now: throws when it cannot). */
export const geoRestriction = runtimePlugin(PLUGIN_DEFINITIONS.geoRestriction, (c) => {
  const db = acquireGeoDatabase(c.database);
  const forbidden = plainAnswer(403, c.message);
  const every = c.databaseRefresh;
  let due = Date.now() + every;
  return {
    request(ctx) {
      const now = Date.now();
      if (now >= due) {
        due = now + every;
        db.refresh();
      }
      const ip = ctx.clientIp();
      const country = db.country(ip);
      if (c.header !== undefined) {
        // What the upstream is told is what was found here: the client's own copy goes, also when none was found.
        ctx.upstreamHeaders.delete(c.header);
        if (country !== undefined) ctx.setUpstreamHeader(c.header, country);
      }
      if (c.type === "reporting") {
        appLog("info", "geoip lookup", { ip, country: country ?? "??" });
        return undefined;
      }
      return geoAllows(c, country) ? undefined : forbidden;
    },
    dispose() {
      releaseGeoDatabase(db);
    },
  };
});
