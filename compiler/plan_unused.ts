/**
 * Cross-item checks once every item is compiled: upstreams that plugins
 * name, and "unused" warnings for upstreams, plugins and locations nothing
 * refers to.
 *
 * @module
 */
import { diag, type Diagnostic } from "./diagnostic.ts";
import { didYouMean } from "./did_you_mean.ts";
import type { LocationPlan, PluginPlan, UpstreamPlan } from "./plan.ts";
import { type BuildContext, rawNames } from "./plan_sections.ts";
import type { CompiledUpstreams } from "./plan_upstream.ts";

/** Checks the upstreams plugins name (`traffic_splitting`, `health`); returns the indices they use. */
export function pluginUpstreams(
  ctx: BuildContext,
  plugins: readonly PluginPlan[],
  upstreams: CompiledUpstreams,
): Set<number> {
  const used = new Set<number>();
  for (const p of plugins) {
    // traffic_splitting names one upstream; health judges a list of them.
    const named = p.category === "traffic_splitting"
      ? [[(p.config as { upstream?: string }).upstream, ["plugins", p.name, "upstream"]] as const]
      : p.category === "health"
      ? (p.config as { upstreams: readonly string[] }).upstreams.map((u, i) =>
        [u, ["plugins", p.name, "upstreams", i]] as const
      )
      : [];
    for (const [target, at] of named) {
      if (target === undefined || target.startsWith("$")) continue;
      const index = upstreams.index.get(target);
      if (index !== undefined) used.add(index);
      else if (!rawNames(ctx.raw, "upstreams").has(target)) {
        ctx.diags.push(
          diag("unknown-reference", [...at], `Upstream "${target}" is not defined`, {
            hint: didYouMean(target, upstreams.names) ?? "Define it under [upstreams.<name>]",
          }),
        );
      }
    }
  }
  return used;
}

/** What nothing refers to. */
export interface Unused {
  readonly upstreams: readonly UpstreamPlan[];
  readonly usedUpstreams: ReadonlySet<number>;
  readonly plugins: readonly PluginPlan[];
  readonly locations: readonly LocationPlan[];
  readonly usedLocations: ReadonlySet<number>;
  /** Any server at all (without one, locations are not reported). */
  readonly hasServers: boolean;
}

/** Warns about upstreams, plugins and locations nothing uses. */
export function warnUnused(u: Unused, diags: Diagnostic[]): void {
  const anyVariable = u.locations.some((l) => l.upstream.kind === "variable");
  u.upstreams.forEach((up, i) => {
    if (!u.usedUpstreams.has(i) && !anyVariable) {
      diags.push(
        diag("unused", ["upstreams", up.name], `Upstream "${up.name}" is not used by any location`, {
          severity: "warning",
          hint: 'Reference it with upstream = "' + up.name + '" or remove it',
        }),
      );
    }
  });
  const usedPlugins = new Set(u.locations.flatMap((l) => l.plugins));
  u.plugins.forEach((p, i) => {
    if (!usedPlugins.has(i) && !p.name.startsWith("pingap:") && p.category !== "admin") {
      diags.push(
        diag("unused", ["plugins", p.name], `Plugin "${p.name}" is not used by any location`, {
          severity: "warning",
          hint: "Add it to a location's plugins or remove it",
        }),
      );
    }
  });
  if (!u.hasServers) return;
  u.locations.forEach((l, i) => {
    if (!u.usedLocations.has(i)) {
      diags.push(
        diag("unused", ["locations", l.name], `Location "${l.name}" is not used by any server`, {
          severity: "warning",
          hint: "Add it to a server's locations or remove it",
        }),
      );
    }
  });
}
