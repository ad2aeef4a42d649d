/**
 * docs/plugins.md shows working examples: every TOML block in it is a whole config that `check` passes without an
 * error, and every category the page has a section for runs in this version.
 *
 * @module
 */
import assert from "node:assert/strict";
import { compileSources, formatPath, SUPPORTED_CATEGORIES } from "../compiler/mod.ts";

const PAGE = new URL("../docs/plugins.md", import.meta.url);

Deno.test("docs/plugins.md: every TOML example compiles without errors", async () => {
  const text = await Deno.readTextFile(PAGE);
  const blocks = [...text.matchAll(/```toml\n([^]*?)```/g)].map((m) => m[1]!);
  assert.ok(blocks.length > 0, "no TOML examples");
  for (const [i, block] of blocks.entries()) {
    const { diagnostics } = compileSources([{ file: `plugins.md#${i}`, text: block }]);
    const errors = diagnostics.filter((d) => d.severity === "error");
    assert.deepEqual(
      errors.map((d) => `${formatPath(d.path)}: ${d.message}`),
      [],
      `example ${i}:\n${block}`,
    );
  }
  for (const m of text.matchAll(/^### `([a-z_]+)`$/gm)) {
    assert.ok(SUPPORTED_CATEGORIES.includes(m[1]!), `docs/plugins.md has a section for ${m[1]}, which does not run`);
  }
});

Deno.test("docs/plugins.md: every category that runs has a section with its own example", async () => {
  const text = await Deno.readTextFile(PAGE);
  const sections = text.split(/^(?=#{2,3} )/m);
  for (const category of SUPPORTED_CATEGORIES) {
    const own = sections.find((s) => new RegExp(`^#{2,3} \`${category}\``).test(s));
    assert.ok(own, `docs/plugins.md has no section headed \`${category}\``);
    assert.match(
      own,
      new RegExp(`\`\`\`toml\\n[^]*?category = "${category}"[^]*?\`\`\``),
      `the ${category} section has no example of it`,
    );
  }
});
