/**
 * The naive matcher: try every location in weight order. It is the oracle
 * the compiled table is tested against.
 *
 * @module
 */
import { locationMatches, type Matchable, type RouteRequest } from "./match.ts";

/** Rank of the first matching location, or -1. */
export function lookupLinear(ranked: readonly Matchable[], req: RouteRequest): number {
  const lower = req.host.toLowerCase();
  for (let r = 0; r < ranked.length; r++) if (locationMatches(ranked[r]!, req, lower)) return r;
  return -1;
}
