/**
 * Stable hashes of config values (sorted keys), for "unchanged" checks.
 *
 * @module
 */
import { createHash } from "node:crypto";

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "bigint") return value.toString();
  if (value instanceof RegExp) return `/${value.source}/${value.flags}`;
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = canonical((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

/**
 * SHA-256 (hex, first 16 chars) of a value's canonical JSON.
 *
 * @example Usage
 * ```ts
 * import { stableHash } from "./hash.ts";
 * if (stableHash({ a: 1, b: 2 }) !== stableHash({ b: 2, a: 1 })) throw new Error();
 * ```
 */
export function stableHash(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(canonical(value))).digest("hex").slice(0, 16);
}
