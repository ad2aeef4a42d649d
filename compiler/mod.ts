/**
 * The config compiler: Pingap-style TOML (one file, a directory, or any
 * other source of texts) in; diagnostics and a typed, deeply readonly Plan
 * out. Pure: no sockets, timers or global state.
 *
 * Pipeline: {@linkcode parseSources} (TOML + positions) →
 * strict decode per schema → resolve names → build routing tables and
 * plugin chains → warnings → positions attached to every diagnostic.
 *
 * @example Usage
 * ```ts
 * import { compileSources } from "./mod.ts";
 * const { plan, diagnostics } = compileSources([{ file: "inline.toml", text: "[basic]\nname = 'x'\n" }]);
 * if (!plan || diagnostics.length) throw new Error();
 * ```
 *
 * @module
 */
export { attachOrigins, type CompileOptions, type CompileResult, compileSources } from "./compile.ts";
export { isReference, parseReference, type Reference, type RefLookup, type RefResolver } from "./config_refs.ts";
export { checkConfig, type CheckOptions, type CheckResult } from "./check.ts";
export { type Diagnostic, formatPath, hasErrors, type KeyPath, type Origin } from "./diagnostic.ts";
export { type Format, formatGithub, formatJson, formatText } from "./format.ts";
export { ConfigReadError, parseSources, readSources, type Source, sourceFromBytes } from "./load.ts";
export type * from "./plan.ts";
export { captures, lookupLinear, lookupRoute, type RouteRequest } from "./routes/mod.ts";
