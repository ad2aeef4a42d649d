import assert from "node:assert/strict";
import { renderJsonSchema } from "../compiler/mod.ts";
import { fieldKind, fromText, itemProperties, pluginCategories, SECTIONS, toText, Unreadable } from "./schema.js";

const schema = renderJsonSchema() as never;

Deno.test("schema: every key of every section and plugin category gets a field whose text reads back", () => {
  const seen: string[] = [];
  const sections = SECTIONS.flatMap((s) =>
    s === "plugins"
      ? pluginCategories(schema).map((category: string) => [s, { category }] as const)
      : [[s, {}] as const]
  );
  for (const [section, item] of sections) {
    const props = itemProperties(schema, section, item) as Record<string, { default?: unknown }>;
    assert.ok(Object.keys(props).length > 0, section);
    for (const [key, prop] of Object.entries(props)) {
      const kind = fieldKind(prop);
      assert.ok(["enum", "boolean", "number", "lines", "json", "text"].includes(kind), `${section}.${key}`);
      // The default, shown as the placeholder, reads back as itself when typed in (an empty list is no text).
      const shown = prop.default === undefined ? "" : toText(kind, prop.default);
      if (shown !== "") assert.deepEqual(fromText(kind, shown), prop.default, `${section}.${key}`);
      seen.push(`${section}.${key}`);
    }
  }
  assert.ok(seen.includes("locations.upstream") && seen.includes("plugins.ip_fail_limit"));
});

Deno.test("schema: field texts: empty is unset, numbers stay numbers, lines drop blanks, bad JSON is refused", () => {
  assert.equal(fromText("text", "  "), undefined);
  assert.equal(fromText("number", "12"), 12);
  assert.equal(fromText("number", "10mb"), "10mb");
  assert.equal(fromText("boolean", "false"), false);
  assert.deepEqual(fromText("lines", "a\n\n b \n"), ["a", "b"]);
  assert.ok(fromText("json", "{") instanceof Unreadable);
  assert.deepEqual(fromText("json", '{"a":1}'), { a: 1 });
});
