/**
 * What a location matches on: `path` (`=exact`, `~regex`, prefix), `host`
 * (exact, `*.suffix`, `~regex`, comma list), extra conditions
 * (`match_headers`, `match_query`, `match_cookies`), and Pingap's weight.
 *
 * @module
 */
import type { Parsed } from "../schema/types.ts";
import { rustRegex } from "./rust_regex.ts";

/** A compiled path selector. */
export type PathMatch =
  | { readonly kind: "any" }
  | { readonly kind: "exact"; readonly path: string }
  | { readonly kind: "prefix"; readonly prefix: string }
  | { readonly kind: "regex"; readonly regex: RegExp };

/** A compiled host selector (one comma item). */
export type HostMatch =
  | { readonly kind: "exact"; readonly host: string }
  | { readonly kind: "suffix"; readonly suffix: string }
  | { readonly kind: "regex"; readonly regex: RegExp };

/**
 * Parses `path`.
 *
 * @example Usage
 * ```ts
 * import { pathMatch } from "./location_match.ts";
 * const r = pathMatch("= /api");
 * if (!r.ok || r.value.kind !== "exact" || r.value.path !== "/api") throw new Error();
 * ```
 */
export function pathMatch(text: string): Parsed<PathMatch> {
  const p = text.trim();
  if (p === "") return { ok: true, value: { kind: "any" } };
  if (p.startsWith("=")) return { ok: true, value: { kind: "exact", path: p.slice(1).trim() } };
  if (p.startsWith("~")) {
    const src = p.slice(1).trim();
    if (src === "") {
      return {
        ok: false,
        message: `Path ${JSON.stringify(text)} has an empty regex`,
        hint: 'Write a regex after "~", e.g. "~^/api"',
      };
    }
    const r = rustRegex(src);
    return r.ok ? { ok: true, value: { kind: "regex", regex: r.value } } : r;
  }
  return { ok: true, value: { kind: "prefix", prefix: p } };
}

/**
 * Parses `host` (comma list; empty items dropped).
 *
 * @example Usage
 * ```ts
 * import { hostMatches } from "./location_match.ts";
 * const r = hostMatches("Example.com, *.example.com");
 * if (!r.ok || r.value.length !== 2 || r.value[0]!.kind !== "exact") throw new Error();
 * ```
 */
export function hostMatches(text: string): Parsed<readonly HostMatch[]> {
  const out: HostMatch[] = [];
  for (const raw of text.split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    if (item.startsWith("~")) {
      const r = rustRegex(item.slice(1).trim());
      if (!r.ok) return r;
      out.push({ kind: "regex", regex: r.value });
    } else if (item.startsWith("*.")) {
      const domain = item.slice(2).toLowerCase();
      if (domain === "" || domain.includes("*")) {
        return {
          ok: false,
          message: `Host wildcard ${JSON.stringify(item)} is invalid`,
          hint: 'Write "*.example.com" (one leading "*." only)',
        };
      }
      out.push({ kind: "suffix", suffix: "." + domain });
    } else {
      if (item.includes("*")) {
        return {
          ok: false,
          message: `Host ${JSON.stringify(item)} has a "*" that is not a leading "*."`,
          hint: 'Use "*.example.com", or a regex with "~"',
        };
      }
      out.push({ kind: "exact", host: item.toLowerCase() });
    }
  }
  return { ok: true, value: out };
}

/** A `name:value` condition (value absent = presence check). */
export interface Condition {
  readonly name: string;
  readonly value?: string;
}

/** Parses a `match_headers` / `match_query` / `match_cookies` item. */
export function condition(text: string): Parsed<Condition> {
  const colon = text.indexOf(":");
  const name = (colon < 0 ? text : text.slice(0, colon)).trim();
  if (name === "") {
    return {
      ok: false,
      message: `Condition ${JSON.stringify(text)} has no name`,
      hint: 'Write "name" or "name:value"',
    };
  }
  return { ok: true, value: colon < 0 ? { name } : { name, value: text.slice(colon + 1).trim() } };
}

/**
 * Pingap's priority of a location when `weight` is not set (inventory
 * §2.3): exact paths first, then prefixes, then regexes, longer first; a
 * plain host adds 128.
 *
 * @example Usage
 * ```ts
 * import { computeWeight } from "./location_match.ts";
 * if (computeWeight("=/api", undefined) !== 1029) throw new Error();
 * if (computeWeight(undefined, "~github.com") !== 11) throw new Error();
 * ```
 */
export function computeWeight(path: string | undefined, host: string | undefined): number {
  let w = 0;
  const p = path ?? "";
  if (p.length > 1) {
    w += p.startsWith("=") ? 1024 : p.startsWith("~") ? 256 : 512;
    w += Math.min(p.length, 64);
  }
  if (host !== undefined) {
    const items = host.split(",");
    if (host !== "" && !items.some((h) => h.trim().startsWith("~"))) w += 128;
    else w += host.length;
  }
  return w;
}
