/**
 * `[plugins.<name>]` and the `pingap:*` built-ins → {@linkcode PluginPlan}:
 * each checked whole against its category's schema, a built-in compiled
 * the first time a location names it.
 *
 * @module
 */
import { type RefContext, resolveItem } from "./config_refs.ts";
import { diag, type Diagnostic, type KeyPath } from "./diagnostic.ts";
import { didYouMean } from "./did_you_mean.ts";
import { stableHash } from "./hash.ts";
import type { PluginPlan } from "./plan.ts";
import { type BuildContext, items } from "./plan_sections.ts";
import { BUILTIN_PLUGINS, PLUGINS, SUPPORTED_CATEGORIES } from "./plugins/mod.ts";
import type { Step } from "./plugins/define.ts";
import { PLUGIN_COMMON_FIELDS } from "./schema/common.ts";
import { decodeTable, table, type TableSchema } from "./schema/types.ts";

/** The plugins of a build: those defined, and the built-ins used so far. */
export interface PluginTable {
  readonly plugins: readonly PluginPlan[];
  /** The index of plugin `name` named at `path`, compiling a built-in on first use; undefined when invalid. */
  use(name: string, path: KeyPath): number | undefined;
}

/** Compiles `[plugins]`; built-ins come later, as locations use them. */
export function compilePlugins(ctx: BuildContext): PluginTable {
  const { diags, refs } = ctx;
  const plugins: PluginPlan[] = [];
  const index = new Map<string, number>();
  const names = new Set<string>();
  for (const [name, item] of items(ctx.raw, "plugins", diags)) {
    names.add(name);
    const p = compilePlugin(name, item, ["plugins", name], diags, refs);
    if (p) {
      index.set(name, plugins.length);
      plugins.push(p);
    }
  }
  const use = (name: string, path: KeyPath): number | undefined => {
    const known = index.get(name);
    if (known !== undefined) return known;
    if (names.has(name)) return undefined; // defined but invalid: already reported
    const builtin = BUILTIN_PLUGINS.get(name);
    if (builtin) {
      const p = compilePlugin(name, { ...builtin }, path, diags, refs);
      if (!p) return undefined;
      index.set(name, plugins.length);
      plugins.push(p);
      return plugins.length - 1;
    }
    diags.push(diag("unknown-reference", path, `Plugin "${name}" is not defined`, {
      hint: didYouMean(name, [...names, ...BUILTIN_PLUGINS.keys()]) ??
        "Define it under [plugins.<name>] or use a pingap:* built-in",
    }));
    return undefined;
  };
  return { plugins, use };
}

function compilePlugin(
  name: string,
  written: Record<string, unknown>,
  path: KeyPath,
  diags: Diagnostic[],
  refs: RefContext,
): PluginPlan | undefined {
  let raw = written;
  const category = raw.category;
  if (typeof category !== "string" || category === "") {
    diags.push(
      diag("missing-key", [...path, "category"], `Plugin "${name}" has no category`, {
        hint: `Set category to one of: ${[...PLUGINS.keys()].join(", ")}`,
      }),
    );
    return undefined;
  }
  const def = PLUGINS.get(category);
  if (!def) {
    diags.push(diag("unknown-category", [...path, "category"], `Unknown plugin category "${category}"`, {
      hint: didYouMean(category, PLUGINS.keys()) ?? `Use one of: ${[...PLUGINS.keys()].join(", ")}`,
    }));
    return undefined;
  }
  const supported = def.runtime === true;
  if (!supported) diags.push(unsupportedPlugin(name, category, path));
  const schema: TableSchema = table({
    title: `[plugins.<name>] of category "${category}"`,
    doc: def.doc,
    fields: { ...PLUGIN_COMMON_FIELDS, ...def.fields },
    ...(def.aliases ? { aliases: def.aliases } : {}),
  });
  const before = diags.length;
  raw = resolveItem(raw, schema.fields, path, refs, diags);
  const decoded = decodeTable(schema, raw, path, diags) as Record<string, unknown> | undefined;
  if (!decoded) return undefined;
  let step: Step = def.steps.default;
  if (decoded.step !== undefined) {
    const wanted = decoded.step as Step;
    if (!def.steps.allowed.includes(wanted)) {
      diags.push(
        diag("invalid-step", [...path, "step"], `Plugin category "${category}" cannot run at step "${wanted}"`, {
          hint: `Use ${def.steps.allowed.map((s) => `"${s}"`).join(" or ")}, or remove the key`,
        }),
      );
    } else step = wanted;
  }
  if (diags.slice(before).some((d) => d.severity === "error")) return undefined;
  const { category: _c, step: _s, remark: _r, ...keys } = decoded;
  const config = def.compile ? def.compile(keys as never, { path, diags }) : keys;
  // A refused plugin is still checked whole (above), so one run shows every mistake.
  if (!supported) return undefined;
  return { name, category, step, config, key: stableHash(raw) };
}

/**
 * The error for a plugin whose category has no runtime half: accepting it
 * would serve the location as if the plugin were not there (fail open). A
 * built-in (`pingap:*`) is reported at the location's `plugins` entry, a
 * `[plugins.<name>]` table at its `category`.
 */
function unsupportedPlugin(name: string, category: string, path: KeyPath): Diagnostic {
  const builtin = name.startsWith("pingap:") && BUILTIN_PLUGINS.has(name);
  const what = builtin ? `Built-in plugin "${name}" (category "${category}")` : `Plugin category "${category}"`;
  return diag(
    "not-supported",
    builtin ? path : [...path, "category"],
    `${what} is not supported by this version: it would not run, so requests would pass unchecked and unchanged`,
    {
      hint: `${builtin ? "Remove it from this location's plugins" : `Remove [plugins.${name}] and its uses`}; ` +
        `supported categories: ${SUPPORTED_CATEGORIES.join(", ")} (docs/differences.md)`,
    },
  );
}
