/** `uri_block` config errors: Pingap's messages (vector 134), at the key path, with a hint. */
import assert from "node:assert/strict";
import { compileSources } from "../mod.ts";

function errorsOf(plugin: string) {
  const text = `[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.l]
upstream = "u"
plugins = ["b"]
[plugins.b]
category = "uri_block"
${plugin}
`;
  return compileSources([{ file: "t.toml", text }]).diagnostics.filter((d) => d.severity === "error");
}

Deno.test("uri_block: bad config is a check error naming the key", () => {
  const cases: [string, string, string | RegExp][] = [
    ["", "", "one of paths, queries or methods is required"],
    ['methods = ["GE T"]', ".methods.0", 'methods: "GE T" is not a method'],
    ['methods = [""]', ".methods.0", 'methods: "" is not a method'],
    ["paths = ['x']\nstatus = 200", ".status", "status must be between 400 and 599"],
    ["paths = ['x']\nstatus = 302", ".status", "status must be between 400 and 599"],
    ["paths = ['x']\nstatus = 600", ".status", "status must be between 400 and 599"],
    ["paths = ['(unclosed']", ".paths.0", /./],
    ["queries = ['[a-']", ".queries.0", /./],
  ];
  for (const [conf, path, message] of cases) {
    const errors = errorsOf(conf);
    assert.equal(errors.length, 1, `${conf}: ${JSON.stringify(errors)}`);
    const e = errors[0]!;
    if (typeof message === "string") assert.equal(e.message, message, conf);
    else assert.match(e.message, message, conf);
    assert.equal(e.path.join("."), `plugins.b${path}`, conf);
    assert.ok(e.hint, `${conf} has a hint`);
  }
  assert.match(errorsOf("paths = ['x']\nstep = \"response\"")[0]?.message ?? "", /"response"/);
});
