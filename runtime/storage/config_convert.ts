/**
 * The assembly HCL and KDL configs share (Pingap's `config_convert.rs`
 * semantics): a format's reader turns its syntax into {@linkcode Block}s,
 * and {@linkcode assemble} makes the raw config the compiler takes, with
 * the origin of every item and key in the original file.
 *
 * Rules: top-level blocks `basic`, `server`, `location`, `upstream`,
 * `plugin`, `certificate`, `storage` (plurals accepted), each but `basic`
 * with a name. A `location` inside a `server` is added to its `locations`;
 * an `upstream` inside a `location` is hoisted and becomes the location's
 * `upstream` when it has none; a `plugin` inside a `location` is hoisted and
 * appended to its `plugins`; a `plugin` or `certificate` inside a `server`
 * is hoisted. The same name twice in a section is an error
 * (`duplicate "<name>" in <section>`). Items come out in name order, as
 * Pingap's conversion (a sorted map) gives them.
 *
 * @module
 */
import { diag, type Diagnostic, type Origin } from "../../compiler/mod.ts";

/** One block (HCL) or node with children (KDL), as its reader made it. */
export interface Block {
  /** The block type as written (`server`, `locations`…). */
  readonly kind: string;
  /** Its name (first label or argument), if any. */
  readonly name?: string | undefined;
  /** Where the block starts. */
  readonly at: Origin;
  /** Its keys, values ready for TOML, in the order written. */
  readonly attrs: ReadonlyMap<string, { readonly value: unknown; readonly at: Origin }>;
  /** Its nested blocks, in the order written (only `server` and `location` take any). */
  readonly blocks: readonly Block[];
}

/** The assembled config: the raw tree, the origin of each path (`\0`-joined) and the errors. */
export interface Assembled {
  readonly raw: Record<string, unknown>;
  readonly origins: Map<string, Origin>;
  readonly diagnostics: Diagnostic[];
}

/** The section a block type goes to (plural spellings accepted), or undefined. */
export function sectionOf(kind: string): string | undefined {
  switch (kind) {
    case "basic":
      return "basic";
    case "server":
    case "servers":
      return "servers";
    case "location":
    case "locations":
      return "locations";
    case "upstream":
    case "upstreams":
      return "upstreams";
    case "plugin":
    case "plugins":
      return "plugins";
    case "certificate":
    case "certificates":
      return "certificates";
    case "storage":
    case "storages":
      return "storages";
  }
  return undefined;
}

/** The key joining a path for {@linkcode Assembled.origins}. */
export function originKey(path: readonly (string | number)[]): string {
  return path.join("\u0000");
}

/** Which nested blocks a block of each section takes. */
const NESTED: Record<string, readonly string[]> = {
  servers: ["locations", "plugins", "certificates"],
  locations: ["upstreams", "plugins"],
};

/**
 * Assembles blocks into a raw config. `format` names the syntax in messages
 * (`HCL`, `KDL`); `file` is where a diagnostic without a better place points.
 */
export function assemble(blocks: readonly Block[], format: string): Assembled {
  const diagnostics: Diagnostic[] = [];
  const origins = new Map<string, Origin>();
  const sections = new Map<string, Map<string, Record<string, unknown>>>();
  let basic: Record<string, unknown> | undefined;
  const error = (at: Origin, code: string, message: string, hint: string, related?: Origin) =>
    diagnostics.push({ ...diag(code, [], message, { hint, ...(related ? { related: [related] } : {}) }), ...at });

  const table = (block: Block, path: readonly string[]): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    origins.set(originKey(path), block.at);
    for (const [key, { value, at }] of block.attrs) {
      out[key] = value;
      origins.set(originKey([...path, key]), at);
    }
    return out;
  };
  /** Adds the item `section.name` made from `block`; false (and an error) when the name is taken. */
  const add = (section: string, name: string, block: Block): Record<string, unknown> | undefined => {
    let items = sections.get(section);
    if (!items) sections.set(section, items = new Map());
    if (items.has(name)) {
      error(
        block.at,
        "duplicate-item",
        `duplicate "${name}" in ${section}`,
        "Give each item its own name, or remove one",
        origins.get(originKey([section, name])),
      );
      return undefined;
    }
    const value = table(block, [section, name]);
    items.set(name, value);
    return value;
  };
  /** Appends `names` (from nested blocks at `ats`) to the list `key` of `item`, skipping those it has. */
  const appendNames = (item: Record<string, unknown>, path: string[], key: string, names: [string, Origin][]) => {
    if (!names.length) return;
    const existing = item[key];
    if (existing !== undefined && !Array.isArray(existing)) {
      error(
        origins.get(originKey([...path, key])) ?? names[0]![1],
        "invalid-type",
        `"${key}" must be a list to take the nested ${key.slice(0, -1)} "${names[0]![0]}"`,
        `Write ${key} = [...] or leave it out`,
      );
      return;
    }
    const list: unknown[] = existing ? [...existing] : [];
    if (existing === undefined) origins.set(originKey([...path, key]), names[0]![1]);
    for (const [name, at] of names) {
      if (list.includes(name)) continue;
      origins.set(originKey([...path, key, list.length]), at);
      list.push(name);
    }
    item[key] = list;
  };
  const nameOf = (block: Block): string | undefined => {
    if (block.name !== undefined) return block.name;
    error(
      block.at,
      "missing-name",
      format === "KDL"
        ? `'${block.kind}' node requires a name as first argument`
        : `${block.kind} block requires a name label`,
      `Name it: ${block.kind} "<name>" { ... }`,
    );
    return undefined;
  };
  /** Adds a block of `section` and its nested blocks. */
  const item = (block: Block, section: string): void => {
    const name = nameOf(block);
    if (name === undefined) return;
    const path = [section, name];
    const upstreams: [string, Origin][] = [];
    const plugins: [string, Origin][] = [];
    const locations: [string, Origin][] = [];
    const allowed = NESTED[section] ?? [];
    // The item first, so its duplicate is reported before those of its nested blocks.
    const value = add(section, name, block);
    if (!value) return;
    for (const inner of block.blocks) {
      const innerSection = sectionOf(inner.kind);
      if (innerSection === undefined || !allowed.includes(innerSection)) {
        error(
          inner.at,
          "unknown-block",
          `A ${inner.kind} block cannot be inside ${section.slice(0, -1)} "${name}"`,
          allowed.length
            ? `Inside a ${section.slice(0, -1)} only ${allowed.map((s) => s.slice(0, -1)).join(", ")} blocks go`
            : `Move it to the top level, or write it as a key: ${inner.kind} = ...`,
        );
        continue;
      }
      const innerName = nameOf(inner);
      if (innerName === undefined) continue;
      if (innerSection === "locations") {
        item(inner, "locations");
        locations.push([innerName, inner.at]);
      } else {
        if (!add(innerSection, innerName, inner)) continue;
        if (section === "locations" && innerSection === "upstreams") upstreams.push([innerName, inner.at]);
        if (section === "locations" && innerSection === "plugins") plugins.push([innerName, inner.at]);
      }
    }
    if (upstreams.length && value.upstream === undefined) {
      value.upstream = upstreams[0]![0];
      origins.set(originKey([...path, "upstream"]), upstreams[0]![1]);
    }
    appendNames(value, path, "plugins", plugins);
    appendNames(value, path, "locations", locations);
  };

  for (const block of blocks) {
    const section = sectionOf(block.kind);
    if (section === undefined) {
      error(
        block.at,
        "unknown-block",
        `unknown ${format} ${format === "KDL" ? "node" : "block"} type: ${block.kind}`,
        "Top-level blocks: basic, server, location, upstream, plugin, certificate, storage",
      );
      continue;
    }
    if (section !== "basic") {
      item(block, section);
      continue;
    }
    if (basic !== undefined) {
      error(block.at, "duplicate-item", `duplicate "basic" in basic`, "Keep one basic block", origins.get("basic"));
      continue;
    }
    basic = table(block, ["basic"]);
    for (const inner of block.blocks) {
      error(inner.at, "unknown-block", `A ${inner.kind} block cannot be inside basic`, "Move it to the top level");
    }
  }

  const raw: Record<string, unknown> = {};
  if (basic !== undefined) raw.basic = basic;
  for (const section of ["servers", "locations", "upstreams", "plugins", "certificates", "storages"]) {
    const items = sections.get(section);
    if (!items) continue;
    const sorted: Record<string, unknown> = {};
    for (const name of [...items.keys()].sort((a, b) => a < b ? -1 : a > b ? 1 : 0)) sorted[name] = items.get(name);
    raw[section] = sorted;
  }
  return { raw, origins, diagnostics };
}
