/**
 * The "shadowed" warning: a location that an earlier one in the same
 * server (by weight) always matches first.
 *
 * @module
 */
import { diag, type Diagnostic } from "./diagnostic.ts";
import type { LocationPlan } from "./plan.ts";

/**
 * Warns about a location that can never match because an earlier one (by
 * weight) with no conditions matches everything it would.
 */
export function warnShadowed(server: string, ranked: readonly LocationPlan[], diags: Diagnostic[]): void {
  // Earlier unconditional locations that match any host, by path kind.
  let catchAll: LocationPlan | undefined;
  const prefixes = new Map<string, LocationPlan>();
  const prefixLengths = new Set<number>();
  const exacts = new Map<string, LocationPlan>();
  for (const loc of ranked) {
    const literal = loc.path.kind === "exact"
      ? loc.path.path
      : loc.path.kind === "prefix"
      ? loc.path.prefix
      : undefined;
    let by: LocationPlan | undefined = catchAll;
    if (!by && literal !== undefined) {
      if (loc.path.kind === "exact") by = exacts.get(literal);
      for (const n of prefixLengths) {
        if (by) break;
        if (n <= literal.length) by = prefixes.get(literal.slice(0, n));
      }
    }
    if (by) {
      diags.push(
        diag(
          "shadowed",
          ["locations", loc.name],
          `Location "${loc.name}" can never match in server "${server}": "${by.name}" comes first and matches all its requests`,
          {
            severity: "warning",
            hint: `Give "${loc.name}" a higher weight, or narrow "${by.name}"`,
          },
        ),
      );
    }
    const unconditional = loc.hosts.length === 0 && !loc.matchHeaders.length && !loc.matchQuery.length &&
      !loc.matchCookies.length;
    if (!unconditional) continue;
    if (loc.path.kind === "any") catchAll ??= loc;
    else if (loc.path.kind === "prefix") {
      if (loc.path.prefix === "") catchAll ??= loc;
      if (!prefixes.has(loc.path.prefix)) prefixes.set(loc.path.prefix, loc);
      prefixLengths.add(loc.path.prefix.length);
    } else if (loc.path.kind === "exact" && !exacts.has(loc.path.path)) exacts.set(loc.path.path, loc);
  }
}
