/**
 * The compiler half of a plugin: its keys (schema), the steps it may run
 * at, and an optional `compile` that checks cross-key rules and returns the
 * plugin's compiled config (plain data: regexes compiled, durations in ms).
 * The runtime half lives in `runtime/plugins/<category>.ts`, is declared
 * with `runtimePlugin(definition, …)` (runtime/plugins/contract.ts) and
 * receives exactly what `compile` returned, typed as {@linkcode PlanOf}.
 *
 * @module
 */
import type { Diagnostic, KeyPath } from "../diagnostic.ts";
import type { Decoded, Fields } from "../schema/types.ts";

/** Pingap's plugin steps, in pipeline order. */
export const STEPS = ["early_request", "request", "proxy_upstream", "upstream_response", "response"] as const;

/** A plugin step. */
export type Step = typeof STEPS[number];

/** What `compile` receives besides the decoded keys. */
export interface PluginContext {
  /** Key path of the plugin, e.g. `["plugins", "myLimit"]`. */
  readonly path: KeyPath;
  /** Push problems here (use paths under `path`). */
  readonly diags: Diagnostic[];
}

/** The compiler half of one plugin category. */
export interface PluginDefinition<F extends Fields = Fields, C = unknown> {
  /** The `category` value that selects this plugin, e.g. `limit`. */
  readonly category: string;
  /** What the plugin does (Markdown, one paragraph). */
  readonly doc: string;
  /**
   * Steps the user may choose with `step`, and the default. A plugin with a
   * single fixed step lists just that one; `step` set to another value is
   * an error naming the allowed ones.
   */
  readonly steps: { readonly allowed: readonly Step[]; readonly default: Step };
  /** The plugin's own keys (without `category`, `step`, `remark`). */
  readonly fields: F;
  /**
   * True when the runtime registry (`runtime/plugins/registry.ts`) holds a
   * half for this category. A category without it is a `check` error ("not
   * supported by this version"): the compiler never accepts a plugin that
   * would not run. The compiler cannot import the runtime, so the flag is
   * checked against the registry instead: the pairing test
   * (`runtime/plugins/pairing_test.ts`) fails when one side has a category
   * the other lacks.
   */
  readonly runtime?: true;
  /** Old names of keys, as in {@linkcode TableSchema.aliases}. */
  readonly aliases?: { readonly [old: string]: string };
  /**
   * Checks rules across keys and returns the compiled config. Without it,
   * the decoded keys are the compiled config.
   */
  compile?(config: Decoded<F>, ctx: PluginContext): C;
}

/** Declares a plugin (keeps literal types; see {@linkcode PluginDefinition}). */
export function definePlugin<const F extends Fields, C = Decoded<F>>(
  definition: PluginDefinition<F, C>,
): PluginDefinition<F, C> {
  return definition;
}

/**
 * The compiled config of a plugin definition: what its `compile` returns (the
 * decoded keys when it has none). A runtime half receives exactly this.
 *
 * @example Usage
 * ```ts
 * import { definePlugin, type PlanOf } from "./define.ts";
 * import { field, str } from "../schema/types.ts";
 * const demo = definePlugin({
 *   category: "demo",
 *   doc: "",
 *   steps: { allowed: ["request"], default: "request" },
 *   fields: { path: field(str(), { doc: "", default: "" }) },
 * });
 * const plan: PlanOf<typeof demo> = { path: "/x" };
 * if (plan.path !== "/x") throw new Error();
 * ```
 */
export type PlanOf<D> = D extends PluginDefinition<infer _F, infer C> ? C : never;
