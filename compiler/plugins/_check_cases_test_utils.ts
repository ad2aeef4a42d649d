/**
 * For the plugin config tests: a plugin table compiled inside the smallest whole config, and a table of bad configs
 * each of which must be exactly one error, with its message, at its key path, with a hint.
 *
 * @module
 */
import assert from "node:assert/strict";
import { compileSources, type Diagnostic } from "../mod.ts";

/** The errors of `[plugins.<name>]` of `category` with the lines `table`, used by one location. */
export function pluginErrors(category: string, name: string, table: string): Diagnostic[] {
  const text = `[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.l]
upstream = "u"
plugins = ["${name}"]
[plugins.${name}]
category = "${category}"
${table}
`;
  return compileSources([{ file: "t.toml", text }]).diagnostics.filter((d) => d.severity === "error");
}

/**
 * Asserts, for each `[table, path, message]`, that the table gives exactly one error, whose message equals `message`
 * (or matches it), at `plugins.<name><path>`, with a hint.
 */
export function assertOneErrorEach(
  category: string,
  name: string,
  cases: readonly (readonly [string, string, string | RegExp])[],
): void {
  for (const [conf, path, message] of cases) {
    const errors = pluginErrors(category, name, conf);
    assert.equal(errors.length, 1, `${conf}: ${JSON.stringify(errors)}`);
    const e = errors[0]!;
    if (typeof message === "string") assert.equal(e.message, message, conf);
    else assert.match(e.message, message, conf);
    assert.equal(e.path.join("."), `plugins.${name}${path}`, conf);
    assert.ok(e.hint, `${conf} has a hint`);
  }
}
