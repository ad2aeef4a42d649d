/**
 * A raw config written as KDL v2 (`--to-kdl`), in Pingap's flat style: one
 * node per item (`upstream "name" { addrs "a" "b" }`), a key per child
 * node, lists as arguments, tables as children blocks, arrays of tables as
 * `item` children. Read back by `kdl_source.ts`, the text gives the same raw
 * config, items in name order.
 *
 * KDL as Pingap reads it has no list of one or none outside its list keys:
 * such a value (say in a nested table) cannot be written, and this throws
 * naming it rather than write something that reads back otherwise.
 *
 * @module
 */
import { isTable, type RawTree } from "../../compiler/mod.ts";
import { kdlListKey } from "./kdl_source.ts";

const BARE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const KEYWORDS = new Set(["true", "false", "null", "inf", "-inf", "nan"]);

/** A string as a KDL quoted string. */
function quote(s: string): string {
  return `"${
    // deno-lint-ignore no-control-regex -- control characters are what is escaped
    s.replace(/[\\"\u0000-\u001f\u007f]/g, (c) => {
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
      return `\\u{${c.charCodeAt(0).toString(16)}}`;
    })}"`;
}

/** A node name: bare when KDL allows it, else quoted. */
function nodeName(k: string): string {
  return BARE.test(k) && !KEYWORDS.has(k) ? k : quote(k);
}

/** A scalar as a KDL argument. */
function scalar(v: unknown, where: string): string {
  if (typeof v === "string") return quote(v);
  if (typeof v === "boolean") return v ? "#true" : "#false";
  if (typeof v === "bigint") return String(v);
  if (typeof v === "number") {
    if (Number.isNaN(v)) return "#nan";
    if (!Number.isFinite(v)) return v > 0 ? "#inf" : "#-inf";
    return String(v);
  }
  if (v instanceof Date) return quote(v.toISOString());
  throw new TypeError(`${where}: a ${typeof v} cannot be written in KDL`);
}

/** The lines of one key as a child node. `isList`: the key reads back as a list whatever its arguments. */
function property(k: string, v: unknown, indent: string, isList: boolean, where: string): string[] {
  const name = nodeName(k);
  const at = `${where}.${k}`;
  if (isTable(v)) return [`${indent}${name} {`, ...children(v, indent + "    ", at), `${indent}}`];
  if (Array.isArray(v)) {
    if (v.length && v.every(isTable)) {
      return [
        `${indent}${name} {`,
        ...v.flatMap((t) => [`${indent}    item {`, ...children(t, indent + "        ", at), `${indent}    }`]),
        `${indent}}`,
      ];
    }
    if (v.length < 2 && !isList) {
      throw new TypeError(`${at}: KDL cannot write a list of ${v.length} here (one argument reads as a value)`);
    }
    return [`${indent}${[name, ...v.map((x) => scalar(x, at))].join(" ")}`];
  }
  return [`${indent}${name} ${scalar(v, at)}`];
}

function children(table: Record<string, unknown>, indent: string, where: string): string[] {
  return Object.entries(table).flatMap(([k, v]) => property(k, v, indent, kdlListKey("", undefined, k), where));
}

/** Writes a raw config as KDL v2. Throws `TypeError` for a value KDL (as Pingap reads it) cannot hold. */
export function toKdl(raw: RawTree): string {
  const out: string[] = [];
  const item = (node: string, name: string | undefined, section: string, table: Record<string, unknown>) => {
    const where = name === undefined ? section : `${section}.${name}`;
    const body = Object.entries(table).flatMap(([k, v]) =>
      property(k, v, "    ", kdlListKey(section, table.category, k), where)
    );
    out.push(`${node}${name === undefined ? "" : ` ${quote(name)}`} {\n${body.map((l) => l + "\n").join("")}}`);
  };
  if (isTable(raw.basic)) item("basic", undefined, "basic", raw.basic);
  for (
    const [section, node] of [
      ["upstreams", "upstream"],
      ["locations", "location"],
      ["servers", "server"],
      ["plugins", "plugin"],
      ["certificates", "certificate"],
      ["storages", "storage"],
    ] as const
  ) {
    const items = raw[section];
    if (!isTable(items)) continue;
    for (const [name, value] of Object.entries(items)) if (isTable(value)) item(node, name, section, value);
  }
  return out.join("\n\n") + "\n";
}
