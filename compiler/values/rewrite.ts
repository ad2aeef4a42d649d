/**
 * `rewrite = "<regex> <replacement>"`, compiled once: the regex translated
 * from Rust syntax, the replacement split into literal text and group
 * references (`$1`, `$name`, `${name}`), so the runtime never parses it.
 *
 * @module
 */
import type { Parsed } from "../schema/types.ts";
import { rustRegex } from "./rust_regex.ts";

/** Part of a replacement: literal text, or a group by number or name. */
export type ReplacementPart = string | { readonly group: number | string };

/** A compiled rewrite. */
export interface Rewrite {
  readonly regex: RegExp;
  /** The pattern is `.*`: the whole path is replaced. */
  readonly whole: boolean;
  readonly replacement: readonly ReplacementPart[];
}

/**
 * Splits a Rust-style replacement into parts. `$$` is a literal `$`; a name
 * is the longest run of `[A-Za-z0-9_]`, as in the regex crate.
 */
export function parseReplacement(text: string): ReplacementPart[] {
  const out: ReplacementPart[] = [];
  let lit = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== "$") {
      lit += c;
      continue;
    }
    if (text[i + 1] === "$") {
      lit += "$";
      i++;
      continue;
    }
    let name: string | undefined;
    let end = i + 1;
    if (text[i + 1] === "{") {
      const close = text.indexOf("}", i + 2);
      if (close > 0) {
        name = text.slice(i + 2, close);
        end = close + 1;
      }
    } else {
      const m = /^[A-Za-z0-9_]+/.exec(text.slice(i + 1));
      if (m) {
        name = m[0];
        end = i + 1 + m[0].length;
      }
    }
    if (name === undefined || name === "") {
      lit += c;
      continue;
    }
    if (lit) out.push(lit);
    lit = "";
    out.push({ group: /^\d+$/.test(name) ? Number(name) : name });
    i = end - 1;
  }
  if (lit) out.push(lit);
  return out;
}

/**
 * Parses a rewrite rule the way Pingap does: split on one space; one part
 * containing `$` means "replace the whole path".
 *
 * @example Usage
 * ```ts
 * import { rewrite } from "./rewrite.ts";
 * const r = rewrite("^/old/(.*)$ /new/$1");
 * if (!r.ok || r.value.replacement.length !== 2) throw new Error();
 * ```
 */
export function rewrite(text: string): Parsed<Rewrite> {
  const parts = text.split(" ");
  let pattern: string;
  let replacement = "";
  if (parts.length === 2) {
    pattern = parts[0]!;
    replacement = parts[1]!;
  } else if (parts.length === 1 && parts[0]!.includes("$")) {
    pattern = ".*";
    replacement = parts[0]!;
  } else {
    pattern = parts[0]!;
  }
  if (parts.length > 2) {
    return {
      ok: false,
      message: `Rewrite ${JSON.stringify(text)} has more than two parts`,
      hint: 'Write "<regex> <replacement>" separated by one space',
    };
  }
  const re = rustRegex(pattern);
  if (!re.ok) return re;
  return { ok: true, value: { regex: re.value, whole: pattern === ".*", replacement: parseReplacement(replacement) } };
}

/** Result of {@linkcode applyRewrite}. */
export interface Rewritten {
  /** New path, with the original query re-appended (`/new?x=1`). */
  readonly path: string;
  /** Named groups of the rewrite regex that matched, or undefined if none. */
  readonly captures?: Record<string, string>;
}

/**
 * Applies a compiled rewrite to a request path, as Pingap does (inventory
 * §2.5): the first match is replaced; `$1`, `$name` and `${name}` refer to
 * the regex's groups, and a name that is not a group of the regex is looked
 * up in `vars` (host and path captures), else it is empty. A `.*` pattern
 * replaces the whole path. The query (without `?`; empty or undefined for
 * none) is re-appended. Returns undefined when the path is not rewritten
 * (no match, or the same path).
 *
 * @example Usage
 * ```ts
 * import { applyRewrite, rewrite } from "./rewrite.ts";
 * const r = rewrite("^/users/(?<upstream>.*?)/(.*)$ /$2");
 * if (!r.ok) throw new Error();
 * const out = applyRewrite(r.value, "/users/rest/me", "abc=1");
 * if (out?.path !== "/me?abc=1" || out.captures?.upstream !== "rest") throw new Error();
 * ```
 */
export function applyRewrite(
  rule: Rewrite,
  path: string,
  query?: string,
  vars?: Readonly<Record<string, string>>,
): Rewritten | undefined {
  const re = rule.regex;
  re.lastIndex = 0;
  const m = re.exec(path);
  if (m === null) return undefined;
  let replacement = "";
  for (const part of rule.replacement) {
    if (typeof part === "string") replacement += part;
    else if (typeof part.group === "number") replacement += m[part.group] ?? "";
    else if (m.groups !== undefined && part.group in m.groups) replacement += m.groups[part.group] ?? "";
    else if (vars !== undefined && Object.hasOwn(vars, part.group)) replacement += vars[part.group];
  }
  const next = rule.whole ? replacement : path.slice(0, m.index) + replacement + path.slice(m.index + m[0].length);
  if (next === path) return undefined;
  let captures: Record<string, string> | undefined;
  if (m.groups !== undefined) {
    for (const [k, v] of Object.entries(m.groups)) if (v !== undefined) (captures ??= {})[k] = v;
  }
  const full = query ? `${next}?${query}` : next;
  return captures ? { path: full, captures } : { path: full };
}
