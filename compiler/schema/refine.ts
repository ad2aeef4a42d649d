/**
 * Value rules on top of a type: a decoded value that breaks one is an
 * `invalid-value` error at the key, with Pingap's wording.
 *
 * @module
 */
import { diag } from "../diagnostic.ts";
import type { Type } from "./types.ts";

/**
 * `type` whose decoded value must also pass `rule`, which returns the
 * message (and hint) of an error, or `undefined` when the value is fine.
 *
 * @example Usage
 * ```ts
 * import { refine } from "./refine.ts";
 * import { int } from "./types.ts";
 * const even = refine(int(), (n) => n % 2 ? { message: "should be even" } : undefined);
 * const diags: never[] = [];
 * if (even.decode(4, ["k"], diags) !== 4) throw new Error();
 * ```
 */
export function refine<T>(
  type: Type<T>,
  rule: (value: T) => { message: string; hint?: string } | undefined,
): Type<T> {
  return {
    ...type,
    decode(value, path, diags) {
      const v = type.decode(value, path, diags);
      if (v === undefined) return undefined;
      const bad = rule(v);
      if (bad === undefined) return v;
      diags.push(diag("invalid-value", path, bad.message, bad.hint ? { hint: bad.hint } : {}));
      return undefined;
    },
  };
}

/** A number type that must be at least `min` (`message` is Pingap's text for a smaller one). */
export function atLeast(type: Type<number>, min: number, message: string, hint?: string): Type<number> {
  return refine(type, (n) => n < min ? { message, ...(hint ? { hint } : {}) } : undefined);
}

/** A number type that must be within `[min, max]`. */
export function within(type: Type<number>, min: number, max: number, message: string, hint?: string): Type<number> {
  return refine(type, (n) => n < min || n > max ? { message, ...(hint ? { hint } : {}) } : undefined);
}
