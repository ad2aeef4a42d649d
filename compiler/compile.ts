/**
 * The compiler pipeline: load → decode (strict, per schema) → resolve
 * names → build (routing tables, plugin chains) → warn → attach positions.
 * Pure: sources in, diagnostics and a Plan out. Each kind of item is built
 * in its own file (`plan_<kind>.ts`); {@linkcode build} runs them in order.
 *
 * @module
 */
import { maskDiagnostics, type RefContext, refContext, type RefResolver } from "./config_refs.ts";
import { type Diagnostic, hasErrors } from "./diagnostic.ts";
import { stableHash } from "./hash.ts";
import { type OriginMap, parseSources, type RawTree, type Source } from "./load.ts";
import { pathKey } from "./_toml_positions.ts";
import type { Plan, StoragePlan } from "./plan.ts";
import { compileBasic } from "./plan_basic.ts";
import { compileCertificates } from "./plan_certificate.ts";
import { compileLocations } from "./plan_location.ts";
import { compilePlugins } from "./plan_plugin.ts";
import { type BuildContext, items, unknownSections } from "./plan_sections.ts";
import { compileServers } from "./plan_server.ts";
import { pluginUpstreams, warnUnused } from "./plan_unused.ts";
import { compileUpstreams } from "./plan_upstream.ts";
import { storageSchema } from "./schema/storage.ts";
import { decodeTable } from "./schema/types.ts";

/** Result of compiling: the Plan when there is no error, and every diagnostic. */
export interface CompileResult {
  readonly plan?: Plan;
  readonly diagnostics: readonly Diagnostic[];
  /** Where each key came from, for diagnostics found later (e.g. `check --live`). */
  readonly origins: OriginMap;
}

/** Options of {@linkcode compileSources}. */
export interface CompileOptions {
  /**
   * Looks up `$ENV:NAME` / `$FILE:/path` references (runtime/config_refs.ts). Without it they stay as written
   * (a tool that stores a config other machines run); `check` and the runtime always pass one.
   */
  readonly resolveRefs?: RefResolver;
  /**
   * Adds the items the command line makes (`--admin`: runtime/admin/flag.ts) to the merged raw config before it is
   * built. Keys it adds have no file or line; it must not change what the files said.
   */
  readonly amend?: (raw: RawTree) => RawTree;
}

/**
 * Compiles TOML sources into a Plan.
 *
 * @example Usage
 * ```ts
 * import { compileSources } from "./compile.ts";
 * const r = compileSources([{ file: "a.toml", text: '[upstreams.u]\naddrs = ["127.0.0.1:8080"]\n' }]);
 * if (r.plan?.upstreams[0]?.name !== "u") throw new Error();
 * ```
 */
export function compileSources(sources: readonly Source[], options: CompileOptions = {}): CompileResult {
  const loaded = parseSources(sources);
  const diags: Diagnostic[] = [...loaded.diagnostics];
  const origins = loaded.origins;
  if (hasErrors(diags)) return { diagnostics: attachOrigins(diags, origins, sources), origins };
  const refs = refContext(options.resolveRefs);
  const raw = options.amend ? options.amend(loaded.raw) : loaded.raw; // --admin (runtime/admin/flag.ts)
  const plan = build(raw, diags, sources, refs);
  const diagnostics = sortDiagnostics(attachOrigins(maskDiagnostics(diags, refs), loaded.origins, sources));
  return hasErrors(diagnostics) ? { diagnostics, origins } : { plan: plan!, diagnostics, origins };
}

/** Builds the Plan from the raw tree, in the order items refer to each other; undefined on any error. */
function build(raw: RawTree, diags: Diagnostic[], sources: readonly Source[], refs: RefContext): Plan | undefined {
  unknownSections(raw, diags);
  // Storages first: other items include them.
  const storageRaw = new Map(items(raw, "storages", diags));
  const storages: StoragePlan[] = [];
  for (const [name, item] of storageRaw) {
    const config = decodeTable(storageSchema, item, ["storages", name], diags);
    if (config) storages.push({ name, config });
  }
  const ctx: BuildContext = { raw, diags, refs, storages: storageRaw };
  const basic = compileBasic(ctx);
  const upstreams = compileUpstreams(ctx);
  const plugins = compilePlugins(ctx);
  const located = compileLocations(ctx, upstreams, plugins);
  const { servers, usedLocations } = compileServers(ctx, basic, located);
  const certificates = compileCertificates(ctx);
  const usedUpstreams = new Set([...located.usedUpstreams, ...pluginUpstreams(ctx, plugins.plugins, upstreams)]);
  warnUnused({
    upstreams: upstreams.upstreams,
    usedUpstreams,
    plugins: plugins.plugins,
    locations: located.locations,
    usedLocations,
    hasServers: servers.length > 0,
  }, diags);
  if (hasErrors(diags)) return undefined;
  return {
    // With references, what they named is a part of the config: a rotated secret is a change a reload applies.
    hash: refs.resolved.size === 0 ? stableHash(raw) : stableHash([raw, [...refs.resolved.keys()].sort()]),
    sources: sources.map((s) => s.file),
    basic,
    servers,
    locations: located.locations,
    upstreams: upstreams.upstreams,
    plugins: plugins.plugins,
    certificates,
    storages,
  };
}

/** Sorts by file, line and column (stable; diagnostics without a place last). */
export function sortDiagnostics(diags: Diagnostic[]): Diagnostic[] {
  return diags.map((d, i) => ({ d, i })).sort((a, b) =>
    (a.d.file ?? "\uffff").localeCompare(b.d.file ?? "\uffff") || (a.d.line ?? 0) - (b.d.line ?? 0) ||
    (a.d.column ?? 0) - (b.d.column ?? 0) || a.i - b.i
  ).map((x) => x.d);
}

/** Attaches file, line and column to each diagnostic from the origin map. */
export function attachOrigins(
  diags: readonly Diagnostic[],
  origins: OriginMap,
  sources: readonly Source[],
): Diagnostic[] {
  return diags.map((d) => {
    if (d.file !== undefined) return d;
    for (let n = d.path.length; n > 0; n--) {
      const o = origins.get(pathKey(d.path.slice(0, n)));
      if (o) return { ...d, file: o.file, line: o.line, column: o.column };
    }
    return sources.length === 1 ? { ...d, file: sources[0]!.file, line: 1, column: 1 } : d;
  });
}
