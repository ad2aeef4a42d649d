/**
 * An import whose TOML holds secret placeholders (the TOML view shows every secret as `<secret: unchanged>`): each
 * placeholder is replaced by the stored value of the same item and key, as a JSON write's are (secrets.ts), so the
 * masked text can be edited and imported back. A text without a placeholder is imported as it is (comments kept).
 *
 * @module
 */
import { parse, stringify } from "smol-toml";
import { isTable, type RawTree } from "../../compiler/mod.ts";
import { SECRET_PLACEHOLDER, unmaskItem } from "./secrets.ts";

/** The text to import, or the key path of a placeholder with no stored value to keep. */
export function unmaskImport(
  text: string,
  stored: RawTree,
): { readonly text: string } | { readonly missing: string } {
  if (!text.includes(SECRET_PLACEHOLDER)) return { text };
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch {
    return { text }; // The compiler reports where it does not parse.
  }
  const raw = stored as Record<string, unknown>;
  for (const [section, value] of Object.entries(doc)) {
    if (!isTable(value)) continue;
    const old = raw[section];
    if (section === "basic") {
      const item = unmaskItem("basic", value, isTable(old) ? old : undefined);
      if ("missing" in item) return { missing: `basic.${item.missing}` };
      doc.basic = item;
      continue;
    }
    for (const [name, written] of Object.entries(value)) {
      if (!isTable(written)) continue;
      const before = isTable(old) && isTable(old[name]) ? old[name] as Record<string, unknown> : undefined;
      const item = unmaskItem(section, written, before);
      if ("missing" in item) return { missing: `${section}.${name}.${item.missing}` };
      value[name] = item;
    }
  }
  return { text: stringify(doc) };
}
