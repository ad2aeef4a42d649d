/** The config's JSON Schema (`api/schema`, the one schema definition) read for forms: sections and their keys. */

/** The sections a form edits, in the order of the menu. */
export const SECTIONS = ["servers", "locations", "upstreams", "plugins", "certificates", "storages", "basic"];

/** The schema of one item of `section` (basic: the table itself). */
export function itemSchema(schema, section) {
  const s = schema.properties[section];
  return section === "basic" ? s : s.additionalProperties;
}

/** The plugin categories the schema knows. */
export function pluginCategories(schema) {
  return itemSchema(schema, "plugins").properties.category.enum;
}

/** The keys of an item and their schemas: a plugin's are those of its `category`. */
export function itemProperties(schema, section, item) {
  const s = itemSchema(schema, section);
  if (section !== "plugins") return s.properties;
  const branch = (s.allOf ?? []).find((b) => b.if?.properties?.category?.const === item?.category);
  return branch?.then?.properties ?? s.properties;
}

/** The kind of field a key's schema calls for. */
export function fieldKind(prop) {
  if (prop.enum) return "enum";
  if (prop.type === "boolean") return "boolean";
  if (prop.type === "integer" || prop.type === "number") return "number";
  if (prop.anyOf?.some((p) => p.type === "integer" || p.type === "number")) return "number";
  const listOfText = (p) => p.type === "array" && p.items?.type === "string";
  // A list of strings, or one string (`"a, b"`) where the schema takes either: a line each.
  if (listOfText(prop) || prop.anyOf?.some(listOfText)) return "lines";
  if (prop.type === "array" || prop.type === "object") return "json";
  return "text";
}

/** A field text that cannot be read as its kind (e.g. bad JSON). */
export class Unreadable {
  /** @param {string} message Why. */
  constructor(message) {
    this.message = message;
  }
}

/** A field's text for a value. */
export function toText(kind, value) {
  if (value === undefined || value === null) return "";
  if (kind === "lines" && Array.isArray(value) && value.every((v) => typeof v === "string")) return value.join("\n");
  if (kind === "json" || typeof value === "object") return JSON.stringify(value, null, 2);
  return String(value);
}

/**
 * A field's value from its text: undefined when empty (the key is left out, its default applies), or an Unreadable when
 * it cannot be read ({@link Unreadable}). Any other text is passed on for the compiler to judge (a number field may hold `"10s"`).
 */
export function fromText(kind, text) {
  const s = text.trim();
  if (s === "") return undefined;
  if (kind === "boolean") return s === "true";
  if (kind === "number") return /^-?\d+(\.\d+)?$/.test(s) ? Number(s) : s;
  if (kind === "lines") return s.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  if (kind === "json") {
    try {
      return JSON.parse(s);
    } catch (e) {
      return new Unreadable(`JSON: ${e.message}`);
    }
  }
  return text;
}
