/**
 * Secrets compared in constant time: the time a comparison takes says nothing of how much of a guess was right
 * (Pingap's `constant_time_eq`). Only the length may show, as there.
 *
 * @module
 */

/**
 * True when `a` and `b` hold the same UTF-16 code units. Every unit is looked at whatever the first difference;
 * strings of different lengths are unequal at once.
 *
 * @example Usage
 * ```ts
 * import { constantTimeEqual } from "./constant_time.ts";
 * if (!constantTimeEqual("s3cret", "s3cret") || constantTimeEqual("s3cret", "s3creT")) throw new Error();
 * ```
 */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * True when `value` equals one of `accepted` ({@linkcode constantTimeEqual}); every entry is compared, so the time does
 * not tell which one matched.
 *
 * @example Usage
 * ```ts
 * import { matchesAny } from "./constant_time.ts";
 * if (!matchesAny("456", ["123", "456"]) || matchesAny("12", ["123", "456"])) throw new Error();
 * ```
 */
export function matchesAny(value: string, accepted: readonly string[]): boolean {
  let found = false;
  for (const item of accepted) found = constantTimeEqual(value, item) || found;
  return found;
}

/** Waits `ms` milliseconds (the `delay` of the auth plugins before a refusal); no wait for undefined or 0. */
export function pause(ms: number | undefined): Promise<void> | undefined {
  if (!ms) return undefined;
  return new Promise((resolve) => setTimeout(resolve, ms));
}
