/**
 * `check --live`'s GeoIP step: every `geo_restriction` database file must
 * read as a MaxMind-format database, as `start` will read it.
 *
 * @module
 */
import { diag, type Diagnostic, type GeoRestrictionPlan, type Plan } from "../../compiler/mod.ts";
import { GeoDatabase } from "../plugins/geo_database.ts";

/** An error at `plugins.<name>.database` for each geo_restriction database that cannot be read. */
export function checkGeoDatabases(plan: Plan): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const p of plan.plugins) {
    if (p.category !== "geo_restriction") continue;
    const { database } = p.config as GeoRestrictionPlan;
    try {
      new GeoDatabase(database);
    } catch (e) {
      out.push(diag("geo-database", ["plugins", p.name, "database"], (e as Error).message, {
        hint: "Point database at a MaxMind-format .mmdb file the proxy can read",
      }));
    }
  }
  return out;
}
