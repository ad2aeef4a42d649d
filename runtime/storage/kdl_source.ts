/**
 * Reading a KDL (v2) config: the KDL organisation's parser (`kdljs`) gives
 * the nodes, {@linkcode scanKdl} where each is and whether it has a
 * children block. Nodes become {@linkcode Block}s by Pingap's rules, then go
 * through {@linkcode assemble}, as HCL's do.
 *
 * Values: `node "name" key=value { child args }`. A child with one argument
 * is a scalar, with several an array; repeated children of a list append;
 * `addrs`, `locations`, `plugins`, `includes`, `modules`,
 * `proxy_set_headers`, `proxy_add_headers` and `webhook_notifications` are
 * always arrays (here also every key of an item the schema types as a
 * list: {@linkcode kdlListKey}); a child whose children are all `item` is an array of
 * tables; other children blocks are tables; `#null` is `""`.
 *
 * @module
 */
import { parse } from "kdljs";
import {
  diag,
  type Diagnostic,
  type Fields,
  type Origin,
  PLUGIN_COMMON_FIELDS,
  PLUGINS,
  SECTIONS,
} from "../../compiler/mod.ts";
import { type Block, sectionOf } from "./config_convert.ts";
import { scanKdl, type ScannedNode } from "./kdl_scan.ts";

/** A node as kdljs gives it. */
interface KdlNode {
  readonly name: string;
  readonly values: readonly unknown[];
  readonly properties: Readonly<Record<string, unknown>>;
  readonly children: readonly KdlNode[];
}

/** Keys that are arrays even with one value (Pingap's list). */
const ALWAYS_LIST = new Set([
  "addrs",
  "locations",
  "plugins",
  "includes",
  "modules",
  "proxy_set_headers",
  "proxy_add_headers",
  "webhook_notifications",
]);

/**
 * Whether `key` of an item of `section` (a plugin's with `category`) reads as a list even with one argument or none:
 * Pingap's eight, and (here only) every key the schema types as a list, so `set_headers "X-A:1"` is a list of one.
 */
export function kdlListKey(section: string, category: unknown, key: string): boolean {
  if (ALWAYS_LIST.has(key)) return true;
  let fields: Fields | undefined;
  if (section === "plugins") {
    const def = typeof category === "string" ? PLUGINS.get(category) : undefined;
    fields = { ...PLUGIN_COMMON_FIELDS, ...def?.fields };
  } else fields = SECTIONS.find((s) => s.key === section)?.schema.fields;
  return (fields?.[key]?.type.json as { type?: unknown } | undefined)?.type === "array";
}

/** A KDL value as TOML takes it: `#null` becomes `""`, as Pingap converts it. */
function tomlValue(v: unknown): unknown {
  return v === null || v === undefined ? "" : v;
}

/** kdljs's error as one line: chevrotain lists every expected token sequence; keep what was found. */
function syntaxMessage(message: string): string {
  const found = /but found: '([\s\S]*)'$/.exec(message);
  if (found) return `unexpected ${JSON.stringify(found[1])}`;
  const char = /^unexpected character: ->([\s\S]*)<- at offset/.exec(message);
  if (char) {
    return char[1] === "\n" ? "unexpected line end (a string left open?)" : `unexpected ${JSON.stringify(char[1])}`;
  }
  return message.split("\n")[0]!;
}

/** The blocks of a KDL text, or its syntax errors (all of them). */
export function readKdlBlocks(file: string, text: string): { blocks: Block[]; diagnostics: Diagnostic[] } {
  let result: ReturnType<typeof parse>;
  try {
    result = parse(text);
  } catch (e) {
    // Not expected (kdljs reports errors as data), but a parser bug must not take the process down.
    const message = `KDL syntax error: ${(e as Error).message}`;
    return { blocks: [], diagnostics: [{ ...diag("kdl-syntax", [], message), file, line: 1, column: 1 }] };
  }
  if (result.errors.length || !result.output) {
    const diagnostics = result.errors.map((e) => {
      const message = syntaxMessage(e.message);
      const bare = /^unexpected "(true|false|null)"$/.exec(message);
      return {
        ...diag("kdl-syntax", [], `KDL syntax error: ${message}`, {
          hint: bare ? `KDL v2 writes it #${bare[1]}` : "Fix the KDL syntax at this line (KDL v2)",
        }),
        file,
        line: Number.isFinite(e.token.startLine) ? e.token.startLine! : 1,
        column: Number.isFinite(e.token.startColumn) ? e.token.startColumn! : 1,
      };
    });
    return { blocks: [], diagnostics: diagnostics.length ? diagnostics : [] };
  }
  const diagnostics: Diagnostic[] = [];
  const nodes = result.output as unknown as readonly KdlNode[];
  const fallback: Origin = { file, line: 1, column: 1 };
  // Each node's scanned twin, when the scan agrees with the parser on the names at that level.
  const twins = new Map<KdlNode, ScannedNode>();
  const pair = (parsed: readonly KdlNode[], scanned: readonly ScannedNode[]) => {
    if (parsed.length !== scanned.length) return;
    if (parsed.some((p, k) => p.name !== scanned[k]!.name)) return;
    parsed.forEach((p, k) => {
      twins.set(p, scanned[k]!);
      pair(p.children, scanned[k]!.children);
    });
  };
  pair(nodes, scanKdl(text));
  const originOf = (node: KdlNode, parent: Origin): Origin => {
    const t = twins.get(node);
    return t ? { file, line: t.line, column: t.column } : parent;
  };
  const hasBlock = (node: KdlNode) => twins.get(node)?.hasBlock ?? node.children.length > 0;
  const hasProps = (node: KdlNode) => Object.keys(node.properties).length > 0;
  const args = (node: KdlNode) => node.values.map(tomlValue);

  type Attrs = Map<string, { value: unknown; at: Origin }>;
  /** Sets `key`, appending to a list it has; a scalar given twice is an error (Pingap keeps the last). */
  const put = (attrs: Attrs, key: string, value: unknown, at: Origin, owner: string) => {
    const had = attrs.get(key);
    if (had === undefined) attrs.set(key, { value, at });
    else if (Array.isArray(had.value)) {
      attrs.set(key, { value: [...had.value, ...(Array.isArray(value) ? value : [value])], at: had.at });
    } else {
      diagnostics.push({
        ...diag("duplicate-key", [], `"${key}" is given twice in ${owner}`, {
          hint: "Keep one; a list takes several arguments or repeated nodes of a list key",
          related: [had.at],
        }),
        ...at,
      });
    }
  };
  type IsList = (key: string) => boolean;
  const nestedList: IsList = (k) => ALWAYS_LIST.has(k);
  /** The inline properties of `node` (list keys wrapped in an array). */
  const props = (node: KdlNode, attrs: Attrs, at: Origin, owner: string, isList: IsList) => {
    for (const [k, v] of Object.entries(node.properties)) {
      put(attrs, k, isList(k) ? [tomlValue(v)] : tomlValue(v), at, owner);
    }
  };
  /** A child node's value: scalar, array, table or array of `item` tables. */
  const childValue = (node: KdlNode, at: Origin): unknown => {
    if (hasBlock(node)) {
      if (node.children.length && node.children.every((c) => c.name === "item")) {
        return node.children.map((c) => toTable(c, originOf(c, at), `${node.name} item`));
      }
      return toTable(node, at, node.name);
    }
    if (node.values.length === 0) {
      return hasProps(node)
        ? Object.fromEntries(Object.entries(node.properties).map(([k, v]) => [k, tomlValue(v)]))
        : "";
    }
    return node.values.length === 1 ? tomlValue(node.values[0]) : args(node);
  };
  /** An ordinary child: a list key without a block takes its arguments as an array. */
  const child = (attrs: Attrs, node: KdlNode, at: Origin, owner: string, isList: IsList) => {
    const value = isList(node.name) && !hasBlock(node) ? args(node) : childValue(node, at);
    put(attrs, node.name, value, at, owner);
  };
  const table = (node: KdlNode, at: Origin, owner: string, isList: IsList): Attrs => {
    const attrs: Attrs = new Map();
    props(node, attrs, at, owner, isList);
    for (const c of node.children) child(attrs, c, originOf(c, at), owner, isList);
    return attrs;
  };
  const toTable = (node: KdlNode, at: Origin, owner: string): Record<string, unknown> =>
    Object.fromEntries([...table(node, at, owner, nestedList)].map(([k, v]) => [k, v.value]));
  /** The list keys of an item node of `section`. */
  const listsOf = (node: KdlNode, section: string): IsList => {
    const category = node.properties.category ?? node.children.find((c) => c.name === "category")?.values[0];
    return (k) => kdlListKey(section, category, k);
  };
  const nameOf = (node: KdlNode): string | undefined => {
    if (node.values.length === 0) return undefined;
    const v = node.values[0];
    return v === null ? "" : String(v);
  };
  const leaf = (node: KdlNode, at: Origin): Block => ({
    kind: node.name,
    name: nameOf(node),
    at,
    attrs: table(node, at, `${node.name} "${nameOf(node) ?? ""}"`, listsOf(node, sectionOf(node.name) ?? "")),
    blocks: [],
  });
  /** A server or location node: definitions of nested items become blocks, references stay keys. */
  const container = (node: KdlNode, at: Origin, section: "servers" | "locations"): Block => {
    const owner = `${node.name} "${nameOf(node) ?? ""}"`;
    const attrs: Attrs = new Map();
    const blocks: Block[] = [];
    const isList = listsOf(node, section);
    props(node, attrs, at, owner, isList);
    for (const c of node.children) {
      const cat = originOf(c, at);
      const inner = sectionOf(c.name);
      const definition = inner === "plugins" ? hasBlock(c) || hasProps(c) : hasBlock(c);
      if (section === "servers" && inner === "locations") {
        if (definition) blocks.push(container(c, cat, "locations"));
        else put(attrs, "locations", args(c), cat, owner);
      } else if (inner === "plugins" && (section === "servers" || section === "locations")) {
        if (definition) blocks.push(leaf(c, cat));
        else put(attrs, "plugins", args(c), cat, owner);
      } else if (
        (section === "servers" && inner === "certificates") || (section === "locations" && inner === "upstreams")
      ) {
        if (definition) blocks.push(leaf(c, cat));
        else put(attrs, c.name, childValue(c, cat), cat, owner);
      } else child(attrs, c, cat, owner, isList);
    }
    return { kind: node.name, name: nameOf(node), at, attrs, blocks };
  };

  const blocks: Block[] = [];
  for (const node of nodes) {
    const at = originOf(node, fallback);
    const section = sectionOf(node.name);
    if (section === "servers" || section === "locations") blocks.push(container(node, at, section));
    else if (section === "basic") {
      blocks.push({ kind: "basic", at, attrs: table(node, at, "basic", listsOf(node, "basic")), blocks: [] });
    } else if (section !== undefined) blocks.push(leaf(node, at));
    else blocks.push({ kind: node.name, at, attrs: new Map(), blocks: [] });
  }
  return { blocks, diagnostics };
}
