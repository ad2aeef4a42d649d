/**
 * The pairing test: a plugin category runs only when both halves exist. The
 * compiler's registry says which categories have a runtime half
 * (`runtime: true`); the runtime registry holds those halves. A category on
 * one side only fails here: a compiler flag without a runtime half would
 * make `activate` throw, a runtime half without the flag is never reachable.
 */
import assert from "node:assert/strict";
import { BUILTIN_PLUGINS, PLUGINS, SUPPORTED_CATEGORIES } from "../../compiler/mod.ts";
import { RUNTIME_PLUGINS } from "./mod.ts";

Deno.test("pairing: the compiler accepts exactly the categories the runtime implements", () => {
  const runtime = [...RUNTIME_PLUGINS.keys()].sort();
  for (const category of runtime) {
    assert.ok(PLUGINS.has(category), `runtime/plugins has "${category}" but the compiler has no definition of it`);
  }
  const flagged = [...PLUGINS.values()].filter((d) => d.runtime === true).map((d) => d.category).sort();
  assert.deepEqual(flagged, runtime, "compiler definitions with runtime: true ≠ RUNTIME_PLUGINS");
  assert.deepEqual([...SUPPORTED_CATEGORIES], runtime);
});

Deno.test("pairing: every built-in plugin is either runnable or refused by name", () => {
  for (const [name, raw] of BUILTIN_PLUGINS) {
    const def = PLUGINS.get(raw.category);
    assert.ok(def, `${name}: unknown category ${raw.category}`);
    assert.equal(def.runtime === true, RUNTIME_PLUGINS.has(raw.category), name);
  }
});
