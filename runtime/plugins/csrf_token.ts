/**
 * `csrf` tokens, as Pingap makes and checks them (pingap-plugin/src/csrf.rs): `<id>.<issued>.<signature>`, where `id`
 * is 12 random URL-safe characters, `issued` the issue time in Unix seconds as lower-case hex, and `signature` the
 * standard base64 (padded) of SHA-256 over `<id>.<issued>` followed by the key: 66 characters while the time has 8
 * hex digits. No I/O: the clock and the id are arguments.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";

/** A new token for `key`, issued at `nowSec` with the random `id`. */
export function makeToken(key: string, nowSec: number, id: string): string {
  const prefix = `${id}.${Math.floor(nowSec).toString(16)}`;
  return `${prefix}.${signature(prefix, key)}`;
}

/**
 * Is `value` a token signed with `key` and, when `ttlSec` > 0, issued at most `ttlSec` seconds before `nowSec`?
 * Exactly three dot-separated parts; with a ttl the middle one must be hex; a time in the future is not expired (as
 * Pingap's saturating subtraction). The signature is compared in constant time.
 */
export function tokenValid(key: string, ttlSec: number, value: string, nowSec: number): boolean {
  const first = value.indexOf(".");
  if (first < 0) return false;
  const second = value.indexOf(".", first + 1);
  if (second < 0) return false;
  const sig = value.slice(second + 1);
  if (sig.includes(".")) return false;
  if (ttlSec > 0) {
    const issued = parseHex(value.slice(first + 1, second));
    if (issued === undefined) return false;
    if (nowSec - issued > ttlSec) return false;
  }
  const expected = Buffer.from(signature(value.slice(0, second), key));
  const given = Buffer.from(sig);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Base64 of SHA-256 over `prefix` then `key`. */
function signature(prefix: string, key: string): string {
  return createHash("sha256").update(prefix).update(key).digest("base64");
}

/** A u64 in hex as Rust's `from_str_radix(s, 16)` reads it (an optional `+`, then hex digits), else undefined. */
function parseHex(text: string): number | undefined {
  const digits = text.startsWith("+") ? text.slice(1) : text;
  if (!/^[0-9a-fA-F]{1,16}$/.test(digits)) return undefined;
  return Number.parseInt(digits, 16);
}
