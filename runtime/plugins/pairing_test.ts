/**
 * The pairing test: a plugin category runs only when both halves exist. The
 * compiler's definitions say which categories have a runtime half
 * (`runtime: true`); the runtime registry (registry.ts) holds those halves.
 * A category on one side only fails here: a compiler flag without a runtime
 * half would make `activate` throw, a runtime half without the flag is never
 * reachable. A half must also run the compiler's very definition (its plan
 * type is derived from it).
 */
import assert from "node:assert/strict";
import { BUILTIN_PLUGINS, PLUGIN_DEFINITIONS, PLUGINS, SUPPORTED_CATEGORIES } from "../../compiler/mod.ts";
import { RUNTIME_PLUGINS } from "./mod.ts";

Deno.test("pairing: the compiler accepts exactly the categories the runtime implements", () => {
  const runtime = [...RUNTIME_PLUGINS.keys()].sort();
  for (const category of runtime) {
    assert.ok(PLUGINS.has(category), `runtime/plugins has "${category}" but the compiler has no definition of it`);
  }
  const flagged = [...PLUGINS.values()].filter((d) => d.runtime === true).map((d) => d.category).sort();
  for (const category of flagged) {
    assert.ok(
      RUNTIME_PLUGINS.has(category),
      `the compiler flags "${category}" runtime: true but runtime/plugins/registry.ts has no half for it`,
    );
  }
  for (const category of runtime) {
    assert.ok(
      flagged.includes(category),
      `runtime/plugins/registry.ts has a half for "${category}" but its compiler definition lacks runtime: true`,
    );
  }
  assert.deepEqual([...SUPPORTED_CATEGORIES], runtime);
});

Deno.test("pairing: each runtime half runs the compiler's own definition of its category", () => {
  for (const [category, half] of RUNTIME_PLUGINS) {
    assert.equal(half.category, category);
    assert.equal(half.definition, PLUGINS.get(category), `"${category}": a definition other than the compiler's`);
  }
  // The typed definitions and the registry by category are the same objects.
  assert.deepEqual(
    new Set(Object.values(PLUGIN_DEFINITIONS)),
    new Set(PLUGINS.values()),
  );
});

Deno.test("pairing: every built-in plugin is either runnable or refused by name", () => {
  for (const [name, raw] of BUILTIN_PLUGINS) {
    const def = PLUGINS.get(raw.category);
    assert.ok(def, `${name}: unknown category ${raw.category}`);
    assert.equal(def.runtime === true, RUNTIME_PLUGINS.has(raw.category), name);
  }
});
