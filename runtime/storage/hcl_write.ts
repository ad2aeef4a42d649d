/**
 * A raw config written as HCL (`--to-hcl`), in Pingap's nested style:
 * locations inside the server that lists them, an upstream inside the first
 * location that uses it, a location's plugins inside it. Nesting is used only
 * where reading it back gives the same config: a server's locations are
 * nested all or none (so their order stays), each once; a location's
 * plugins likewise; anything else stays a top-level block with its
 * reference as a key. Read back by `hcl_source.ts`, the text gives the same
 * raw config, items in name order.
 *
 * @module
 */
import { isTable, type RawTree } from "../../compiler/mod.ts";

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** A string as an HCL quoted string: escapes, and `${` / `%{` kept as text. */
function quote(s: string): string {
  // deno-lint-ignore no-control-regex -- control characters are what is escaped
  const body = s.replace(/[\\"\u0000-\u001f\u007f]/g, (c) => {
    switch (c) {
      case "\\":
        return "\\\\";
      case '"':
        return '\\"';
      case "\n":
        return "\\n";
      case "\r":
        return "\\r";
      case "\t":
        return "\\t";
    }
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  }).replace(/([$%])\{/g, "$1$1{");
  return `"${body}"`;
}

/** A multi-line string as a heredoc, when one gives it back exactly; else undefined. */
function heredoc(s: string, indent: string): string | undefined {
  if (!s.endsWith("\n") || s.includes("\r") || /[$%]\{/.test(s)) return undefined;
  const lines = s.slice(0, -1).split("\n");
  // `<<-` strips the indentation all lines share: one line must have none of its own.
  if (lines.some((l) => l.trim() === "" || l.trim() === "EOT") || lines.every((l) => /^[ \t]/.test(l))) {
    return undefined;
  }
  const inner = indent + "  ";
  return `<<-EOT\n${lines.map((l) => inner + l).join("\n")}\n${inner}EOT`;
}

function key(k: string): string {
  return IDENT.test(k) ? k : quote(k);
}

/** A value as an HCL expression; a multi-line string of a key (`top`) as a heredoc when it can be. */
function value(v: unknown, indent: string, top = false): string {
  if (typeof v === "string") return (top && v.includes("\n") ? heredoc(v, indent) : undefined) ?? quote(v);
  if (typeof v === "number") {
    if (Number.isFinite(v)) return String(v);
    throw new TypeError(`${v} cannot be written in HCL`);
  }
  if (typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (v instanceof Date) return quote(v.toISOString());
  if (Array.isArray(v)) return `[${v.map((x) => value(x, indent)).join(", ")}]`;
  if (isTable(v)) {
    const entries = Object.entries(v);
    if (!entries.length) return "{}";
    const inner = indent + "  ";
    return `{\n${entries.map(([k, x]) => `${inner}${key(k)} = ${value(x, inner)}`).join("\n")}\n${indent}}`;
  }
  throw new TypeError(`${typeof v} cannot be written in HCL`);
}

function attrs(table: Record<string, unknown>, indent: string, skip: ReadonlySet<string> = new Set()): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(table)) {
    if (skip.has(k)) continue;
    if (!IDENT.test(k)) throw new TypeError(`The key ${JSON.stringify(k)} cannot be written in HCL`);
    out.push(`${indent}${k} = ${value(v, indent, true)}`);
  }
  return out;
}

function block(kind: string, name: string | undefined, body: string[], indent: string): string {
  return `${indent}${kind}${name === undefined ? "" : ` ${quote(name)}`} {\n${body.join("\n")}${
    body.length ? "\n" : ""
  }${indent}}`;
}

/** A list of distinct item names all of which are in `items` and not yet nested; else undefined. */
function nestable(list: unknown, items: Record<string, unknown>, used: ReadonlySet<string>): string[] | undefined {
  if (!Array.isArray(list) || list.length === 0) return undefined;
  if (!list.every((n) => typeof n === "string" && isTable(items[n]) && !used.has(n))) return undefined;
  return new Set(list).size === list.length ? list as string[] : undefined;
}

/**
 * Writes a raw config as HCL. Throws `TypeError` for a value HCL cannot
 * hold (a key that is not an identifier, NaN or infinity).
 */
export function toHcl(raw: RawTree): string {
  const section = (k: string) => (isTable(raw[k]) ? raw[k] : {}) as Record<string, Record<string, unknown>>;
  const servers = section("servers");
  const locations = section("locations");
  const upstreams = section("upstreams");
  const plugins = section("plugins");
  const nestedLocations = new Set<string>();
  const nestedUpstreams = new Set<string>();
  const nestedPlugins = new Set<string>();
  const out: string[] = [];

  const location = (name: string, indent: string): string => {
    const loc = locations[name]!;
    const inner = indent + "  ";
    const skip = new Set<string>();
    const nested: string[] = [];
    const up = loc.upstream;
    if (typeof up === "string" && isTable(upstreams[up]) && !nestedUpstreams.has(up)) {
      nestedUpstreams.add(up);
      skip.add("upstream");
      nested.push(block("upstream", up, attrs(upstreams[up]!, inner + "  "), inner));
    }
    const names = nestable(loc.plugins, plugins, nestedPlugins);
    if (names) {
      skip.add("plugins");
      for (const p of names) {
        nestedPlugins.add(p);
        nested.push(block("plugin", p, attrs(plugins[p]!, inner + "  "), inner));
      }
    }
    return block("location", name, [...attrs(loc, inner, skip), ...nested.flatMap((b) => ["", b])], indent);
  };

  if (isTable(raw.basic) && Object.keys(raw.basic).length) {
    out.push(block("basic", undefined, attrs(raw.basic, "  "), ""));
  }
  for (const [name, server] of Object.entries(servers)) {
    const names = nestable(server.locations, locations, nestedLocations);
    names?.forEach((l) => nestedLocations.add(l));
    const body = attrs(server, "  ", names ? new Set(["locations"]) : new Set());
    for (const l of names ?? []) body.push("", location(l, "  "));
    out.push(block("server", name, body, ""));
  }
  for (const name of Object.keys(locations)) if (!nestedLocations.has(name)) out.push(location(name, ""));
  const rest = (kind: string, items: Record<string, Record<string, unknown>>, skip: ReadonlySet<string>) => {
    for (const [name, item] of Object.entries(items)) {
      if (!skip.has(name)) out.push(block(kind, name, attrs(item, "  "), ""));
    }
  };
  rest("upstream", upstreams, nestedUpstreams);
  rest("plugin", plugins, nestedPlugins);
  rest("certificate", section("certificates"), new Set());
  rest("storage", section("storages"), new Set());
  return out.join("\n\n") + "\n";
}
