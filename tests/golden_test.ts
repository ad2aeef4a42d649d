/**
 * Golden tests: each `golden/<case>.toml` compiles to exactly the Plan in
 * `golden/<case>.plan.json`. RegExps are written as `{"regex", "flags"}` and
 * Maps as objects. Run with `UPDATE_GOLDEN=1` to rewrite the expected files
 * after an intended change, then review the diff.
 *
 * @module
 */
import assert from "node:assert/strict";
import { compileSources, formatPath } from "../compiler/mod.ts";

const DIR = new URL("./golden/", import.meta.url);
const UPDATE = Deno.env.get("UPDATE_GOLDEN") === "1";

/** JSON replacer for Plans: RegExp → `{regex, flags}`, Map → object, Set and typed arrays → arrays. */
export function planReplacer(_key: string, value: unknown): unknown {
  if (value instanceof RegExp) return { regex: value.source, flags: value.flags };
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as Uint8Array);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), v]));
  if (value instanceof Set) return [...value];
  if (typeof value === "bigint") return value.toString();
  if (value === Infinity) return "Infinity";
  return value;
}

/** A Plan as golden JSON text. */
export function planJson(plan: unknown): string {
  return JSON.stringify(plan, planReplacer, 2) + "\n";
}

const cases: string[] = [];
for (const entry of Deno.readDirSync(DIR)) {
  if (entry.isFile && entry.name.endsWith(".toml")) cases.push(entry.name.slice(0, -".toml".length));
}
cases.sort();

Deno.test("golden cases exist", () => {
  assert.ok(cases.length >= 4, `found ${cases.join(", ")}`);
});

for (const name of cases) {
  Deno.test(`compileSources() compiles golden case "${name}" to its expected plan`, async () => {
    const text = await Deno.readTextFile(new URL(`${name}.toml`, DIR));
    const { plan, diagnostics } = compileSources([{ file: `${name}.toml`, text }]);
    const errors = diagnostics.filter((d) => d.severity === "error");
    assert.ok(plan, errors.map((d) => `${d.line}: ${formatPath(d.path)}: ${d.message}`).join("\n"));
    const actual = planJson(plan);
    const expectedUrl = new URL(`${name}.plan.json`, DIR);
    if (UPDATE) {
      await Deno.writeTextFile(expectedUrl, actual);
      return;
    }
    let expected: string;
    try {
      expected = await Deno.readTextFile(expectedUrl);
    } catch {
      throw new Error(`Missing ${name}.plan.json: run with UPDATE_GOLDEN=1 to create it`);
    }
    // Compared as data, so reformatting the file does not matter.
    assert.deepEqual(
      JSON.parse(actual),
      JSON.parse(expected),
      `Plan of ${name}.toml changed; if intended, run with UPDATE_GOLDEN=1`,
    );
  });
}
