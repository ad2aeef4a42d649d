/**
 * The compiler has one door. Every `.ts` file of `runtime/`, `tests/`,
 * `bench/` and the root `mod.ts` reaches the compiler only through
 * `compiler/mod.ts`, and the compiler's own files (tests aside) import
 * nothing outside `compiler/` but packages: not the runtime, not the tests.
 *
 * Import statements are read from the text (static `import`/`export … from`,
 * side-effect imports and dynamic `import("…")`, JSDoc examples included,
 * since `deno test --doc` runs them).
 *
 * @module
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const DOOR = "compiler/mod.ts";

/** Every specifier a module's text imports or re-exports from, in order. */
export function importSpecifiers(text: string): string[] {
  const out: string[] = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^'"`;]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) out.push(m[1]!);
  return out;
}

/** A relative specifier of `file` (a path from the root) as a path from the root; undefined for a package. */
export function resolveFrom(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) return undefined;
  const url = new URL(specifier, new URL(file, "file:///root/"));
  return url.pathname.startsWith("/root/") ? url.pathname.slice("/root/".length) : url.pathname;
}

async function tsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(new URL(dir, ROOT))) {
    const path = `${dir}${e.name}`;
    if (e.isDirectory) out.push(...await tsFiles(`${path}/`));
    else if (e.isFile && e.name.endsWith(".ts")) out.push(path);
  }
  return out.sort();
}

async function imports(file: string): Promise<{ specifier: string; path: string | undefined }[]> {
  const text = await Deno.readTextFile(new URL(file, ROOT));
  return importSpecifiers(text).map((specifier) => ({ specifier, path: resolveFrom(file, specifier) }));
}

/** `file: specifier` for every import of a compiler file other than its door. */
export function deepCompilerImports(file: string, specs: readonly { specifier: string; path?: string | undefined }[]) {
  return specs.filter((s) => s.path?.startsWith("compiler/") && s.path !== DOOR).map((s) => `${file}: ${s.specifier}`);
}

Deno.test("importSpecifiers() finds static, type, re-export, multi-line, side-effect and dynamic imports", () => {
  const text = `import a from "./a.ts";
import type { B } from "../b.ts";
import {
  c,
  type D,
} from "./c.ts";
export * from "./e.ts";
export { f } from './f.ts';
import "./g.ts";
const h = await import("./h.ts");
 * import { i } from "../i.ts";
const s = "not an import";`;
  assert.deepEqual(importSpecifiers(text).sort(), [
    "../b.ts",
    "../i.ts",
    "./a.ts",
    "./c.ts",
    "./e.ts",
    "./f.ts",
    "./g.ts",
    "./h.ts",
  ]);
  assert.equal(resolveFrom("runtime/tls/mod.ts", "../../compiler/plan.ts"), "compiler/plan.ts");
  assert.equal(resolveFrom("mod.ts", "./compiler/mod.ts"), DOOR);
  assert.equal(resolveFrom("runtime/a.ts", "smol-toml"), undefined);
  assert.deepEqual(
    deepCompilerImports("runtime/x.ts", [
      { specifier: "../compiler/mod.ts", path: "compiler/mod.ts" },
      { specifier: "../compiler/plan.ts", path: "compiler/plan.ts" },
    ]),
    ["runtime/x.ts: ../compiler/plan.ts"],
  );
});

Deno.test("runtime/, tests/, bench/ and mod.ts import the compiler only through compiler/mod.ts", async () => {
  const files = ["mod.ts", ...await tsFiles("runtime/"), ...await tsFiles("tests/"), ...await tsFiles("bench/")];
  assert.ok(files.length > 100, "the walk found the files");
  const deep: string[] = [];
  let viaDoor = 0;
  for (const file of files) {
    const specs = await imports(file);
    viaDoor += specs.filter((s) => s.path === DOOR).length;
    deep.push(...deepCompilerImports(file, specs));
  }
  assert.ok(viaDoor > 50, "the door is in use (the scan sees imports)");
  assert.deepEqual(deep, [], "deep imports of the compiler: import these names from compiler/mod.ts");
});

Deno.test("compiler/ (tests aside) imports nothing outside compiler/ but packages", async () => {
  const files = (await tsFiles("compiler/")).filter((f) => !f.endsWith("_test.ts"));
  const outside: string[] = [];
  for (const file of files) {
    for (const s of await imports(file)) {
      if (s.path !== undefined && !s.path.startsWith("compiler/")) outside.push(`${file}: ${s.specifier}`);
    }
  }
  assert.deepEqual(outside, [], "the compiler is pure: sources in, diagnostics and a Plan out");
});

Deno.test("the root mod.ts reaches the runtime only through runtime/mod.ts", async () => {
  const runtime = (await imports("mod.ts")).filter((s) => s.path?.startsWith("runtime/"));
  assert.ok(runtime.length > 0, "mod.ts exports the runtime");
  assert.deepEqual(runtime.filter((s) => s.path !== "runtime/mod.ts").map((s) => s.specifier), []);
});

Deno.test("runtime/ has no implementation file at its root besides mod.ts", async () => {
  const root: string[] = [];
  for await (const e of Deno.readDir(new URL("runtime/", ROOT))) if (e.isFile) root.push(e.name);
  assert.deepEqual(root.sort(), ["mod.ts"], "put each file in the folder of its role (docs/runtime.md)");
});
