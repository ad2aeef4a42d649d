/**
 * Renaming an item (ours; Pingap has no rename): the item's key changes where it is stored, and every reference by
 * name follows — a server's `locations`, a location's `upstream` and `plugins`, the `upstream` of a
 * `traffic_splitting` plugin and the `upstreams` of a `health` one, the `includes` of servers, locations and upstreams.
 * The result is compiled with the whole config like any write, so a reference this misses fails closed (400).
 *
 * @module
 */
import { isTable } from "../../compiler/mod.ts";

/** Where each section is named from: `[section of the referrer, key]` (a string or a list of names). */
const REFERENCES: Readonly<Record<string, readonly (readonly [string, string])[]>> = {
  locations: [["servers", "locations"]],
  upstreams: [["locations", "upstream"], ["plugins", "upstream"], ["plugins", "upstreams"]],
  plugins: [["locations", "plugins"]],
  storages: [["servers", "includes"], ["locations", "includes"], ["upstreams", "includes"]],
};

function renamedKey(items: Record<string, unknown>, from: string, to: string): Record<string, unknown> {
  // The item keeps its place among the others (the file reads the same but for the name).
  return Object.fromEntries(Object.entries(items).map(([k, v]) => [k === from ? to : k, v]));
}

/**
 * Renames `section.from` to `to` in one parsed TOML document, in place: the item if this document holds it, and the
 * references in it. Answers whether anything changed.
 *
 * @example Usage
 * ```ts
 * import { renameInDoc } from "./rename.ts";
 * const doc = { servers: { web: { locations: ["app"] } }, locations: { app: { path: "/" } } };
 * if (!renameInDoc(doc, "locations", "app", "api") || doc.servers.web.locations[0] !== "api") throw new Error();
 * ```
 */
export function renameInDoc(doc: Record<string, unknown>, section: string, from: string, to: string): boolean {
  let changed = false;
  const own = doc[section];
  if (isTable(own) && Object.hasOwn(own, from)) {
    doc[section] = renamedKey(own, from, to);
    changed = true;
  }
  for (const [referrer, key] of REFERENCES[section] ?? []) {
    const items = doc[referrer];
    if (!isTable(items)) continue;
    for (const item of Object.values(items)) {
      if (!isTable(item)) continue;
      const value = item[key];
      if (value === from) {
        item[key] = to;
        changed = true;
      } else if (Array.isArray(value) && value.includes(from)) {
        item[key] = value.map((v) => (v === from ? to : v));
        changed = true;
      }
    }
  }
  return changed;
}
