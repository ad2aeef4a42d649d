/**
 * One TOML document per item: the MultiByItem layout that etcd always uses
 * (`basic.toml`, `<section>/<name>.toml`), made from a merged raw config or
 * from any set of TOML sources. Each document keeps its section wrapper
 * (`[upstreams.x]`), so the documents concatenated, or read one by one,
 * load back to the same raw config.
 *
 * @module
 */
import { stringify } from "smol-toml";
import {
  ConfigReadError,
  isTable,
  ITEM_SECTIONS,
  parseSources,
  type RawTree,
  type Source,
} from "../../compiler/mod.ts";

/** One document of the MultiByItem layout: `basic.toml` or `<section>/<name>.toml`. */
export interface ItemDocument {
  /** Relative key, e.g. `basic.toml`, `upstreams/x.toml`. */
  readonly key: string;
  /** The TOML text, section wrapper included. */
  readonly text: string;
}

/** Why a name cannot be a key of its own, or undefined when it can. */
export function invalidItemName(name: string): string | undefined {
  if (name === "" || name.includes("/") || name.includes("\\") || name.includes("\0")) {
    return `invalid config name: ${JSON.stringify(name)}`;
  }
  return undefined;
}

/**
 * Splits a raw config into one document per item, `basic.toml` first, then
 * each section's items in name order. Top-level keys that are neither
 * `basic` nor an item section go into `basic.toml` so nothing is lost (the
 * compiler reports them there). Throws {@linkcode ConfigReadError} for an
 * item name that cannot be a key (`/`, `\`, NUL or empty).
 *
 * @example Usage
 * ```ts
 * import { splitRaw } from "./split.ts";
 * const docs = splitRaw({ basic: { name: "p" }, upstreams: { u: { addrs: ["127.0.0.1:80"] } } });
 * if (docs[1]?.key !== "upstreams/u.toml" || !docs[1].text.startsWith("[upstreams.u]")) throw new Error();
 * ```
 */
export function splitRaw(raw: RawTree): ItemDocument[] {
  const basic: Record<string, unknown> = {};
  const out: ItemDocument[] = [];
  for (const [section, value] of Object.entries(raw)) {
    if ((ITEM_SECTIONS as readonly string[]).includes(section) && isTable(value)) continue;
    basic[section] = value;
  }
  if (Object.keys(basic).length) out.push({ key: "basic.toml", text: stringify(basic).trimEnd() + "\n" });
  for (const section of ITEM_SECTIONS) {
    const items = raw[section];
    if (!isTable(items)) continue;
    for (const name of Object.keys(items).sort()) {
      const why = invalidItemName(name);
      if (why) throw new ConfigReadError(`${why} (in [${section}])`);
      out.push({
        key: `${section}/${name}.toml`,
        text: stringify({ [section]: { [name]: items[name] } }).trimEnd() + "\n",
      });
    }
  }
  return out;
}

/**
 * Parses TOML sources (any layout) and splits them with
 * {@linkcode splitRaw}. Throws {@linkcode ConfigReadError} when a source
 * does not parse or an item is defined twice: such a config is not copied.
 */
export function splitSources(sources: readonly Source[]): ItemDocument[] {
  const loaded = parseSources(sources);
  if (loaded.diagnostics.length) {
    const lines = loaded.diagnostics.slice(0, 5).map((d) => `${d.file ?? "?"}:${d.line ?? 0}: ${d.message}`);
    throw new ConfigReadError(`The config cannot be split into items:\n${lines.join("\n")}`);
  }
  return splitRaw(loaded.raw);
}
