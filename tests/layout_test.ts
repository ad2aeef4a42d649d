/**
 * The runtime stays readable: at most 4 of its product files (tests and `_` helpers aside) are over 400 lines, and
 * each of those says at its top why it is one file (a sentence starting "Over 400 lines because").
 *
 * @module
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const LIMIT = 400;
const MAX_LONG = 4;

async function productFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(new URL(dir, ROOT))) {
    const path = `${dir}${e.name}`;
    if (e.isDirectory) out.push(...await productFiles(`${path}/`));
    else if (e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts") && !e.name.startsWith("_")) {
      out.push(path);
    }
  }
  return out.sort();
}

/** Files of `files` longer than {@linkcode LIMIT} lines, with whether their top says why. */
export function longFiles(files: ReadonlyMap<string, string>): { path: string; lines: number; why: boolean }[] {
  const out = [];
  for (const [path, text] of files) {
    const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    if (lines <= LIMIT) continue;
    const head = text.slice(0, text.indexOf("*/") + 2);
    out.push({ path, lines, why: /Over 400 lines because \S/.test(head.replace(/\n\s*\*\s*/g, " ")) });
  }
  return out;
}

Deno.test("longFiles() counts lines and finds the reason in the module comment only", () => {
  const long = "x\n".repeat(LIMIT + 1);
  const files = new Map([
    ["a.ts", `/**\n * Over 400 lines because\n * it is one state machine.\n */\n${long}`],
    ["b.ts", `/** A file. */\n${long}// Over 400 lines because of this comment\n`],
    ["c.ts", "x\n".repeat(LIMIT)],
  ]);
  assert.deepEqual(longFiles(files).map((f) => [f.path, f.why]), [["a.ts", true], ["b.ts", false]]);
});

Deno.test(`runtime/ has at most ${MAX_LONG} product files over ${LIMIT} lines, each saying why`, async () => {
  const files = new Map<string, string>();
  for (const path of await productFiles("runtime/")) files.set(path, await Deno.readTextFile(new URL(path, ROOT)));
  assert.ok(files.size > 100, "the walk found the files");
  const long = longFiles(files);
  assert.deepEqual(long.filter((f) => !f.why).map((f) => `${f.path} (${f.lines} lines)`), [], "split it, or say why");
  assert.ok(long.length <= MAX_LONG, `${long.length} long files: ${long.map((f) => f.path).join(", ")}`);
});
