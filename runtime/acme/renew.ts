/**
 * A stored ACME certificate and the decision whether to order a new one.
 *
 * @module
 */

/** What is stored per certificate (`certificates/<name>.json`). */
export interface StoredCertificate {
  /** The configured domains it was ordered for, in config order. */
  readonly domains: readonly string[];
  /** The directory URL it came from. */
  readonly directory: string;
  /** Leaf + chain, PEM. */
  readonly cert: string;
  /** Private key, PEM. */
  readonly key: string;
  /** Validity of the leaf, ms since the epoch. */
  readonly notBefore: number;
  readonly notAfter: number;
  /** When it was issued (stored), ms since the epoch. */
  readonly issuedAt: number;
}

/** What the config asks for. */
export interface Wanted {
  readonly domains: readonly string[];
  readonly directory: string;
  /** `buffer_days`: renew this many days before expiry; 0 = when a third of the lifetime is left. */
  readonly bufferDays: number;
}

const DAY = 86_400_000;

/** When `stored` should be renewed, ms since the epoch. */
export function renewAt(stored: Pick<StoredCertificate, "notBefore" | "notAfter">, bufferDays: number): number {
  if (bufferDays > 0) return stored.notAfter - bufferDays * DAY;
  return stored.notAfter - (stored.notAfter - stored.notBefore) / 3;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const x = [...new Set(a.map((d) => d.toLowerCase()))].sort();
  const y = [...new Set(b.map((d) => d.toLowerCase()))].sort();
  return x.length === y.length && x.every((d, i) => d === y[i]);
}

/**
 * Why a new certificate must be ordered now, or undefined when `stored` is
 * good: nothing stored, other domains or another CA configured, or the
 * renewal time reached (see {@linkcode renewAt}).
 *
 * @example Usage
 * ```ts
 * import { renewalReason } from "./renew.ts";
 * const stored = { domains: ["a.test"], directory: "d", cert: "", key: "", notBefore: 0, notAfter: 90, issuedAt: 0 };
 * if (renewalReason(stored, { domains: ["a.test"], directory: "d", bufferDays: 0 }, 59) !== undefined) throw new Error();
 * if (renewalReason(stored, { domains: ["a.test"], directory: "d", bufferDays: 0 }, 60) === undefined) throw new Error();
 * ```
 */
export function renewalReason(stored: StoredCertificate | undefined, wanted: Wanted, now: number): string | undefined {
  if (!stored) return "no certificate stored";
  if (!sameSet(stored.domains, wanted.domains)) {
    return `domains changed (stored ${stored.domains.join(",")}, configured ${wanted.domains.join(",")})`;
  }
  if (stored.directory !== wanted.directory) return `ACME directory changed (stored ${stored.directory})`;
  const at = renewAt(stored, wanted.bufferDays);
  if (now >= at) {
    return `expires ${new Date(stored.notAfter).toISOString()}, renewal due since ${new Date(at).toISOString()}`;
  }
  return undefined;
}

/** Parses a stored JSON record; undefined when it is not one. */
export function parseStored(text: string | undefined): StoredCertificate | undefined {
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as Partial<StoredCertificate>;
    if (
      Array.isArray(v.domains) && typeof v.cert === "string" && typeof v.key === "string" &&
      typeof v.notAfter === "number" && typeof v.notBefore === "number" && typeof v.directory === "string"
    ) return v as StoredCertificate;
  } catch { /* not JSON */ }
  return undefined;
}
