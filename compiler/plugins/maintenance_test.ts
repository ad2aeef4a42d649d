/** `maintenance` config errors: Pingap's messages (vector 137), at the key path, with a hint. */
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
plugins = ["m"]
[plugins.m]
category = "maintenance"
${plugin}
`;
  return compileSources([{ file: "t.toml", text }]).diagnostics.filter((d) => d.severity === "error");
}

Deno.test("maintenance: bad config is a check error naming the key", () => {
  const cases: [string, string, string | RegExp][] = [
    ["status = 200", "status", "status must be between 400 and 599"],
    ["status = 302", "status", "status must be between 400 and 599"],
    ["status = 600", "status", "status must be between 400 and 599"],
    ['message = "a"\nhtml = "<p>a</p>"', "html", "message and html are two forms of one body, set one of them"],
    ['allow_header = "X-Pass"', "allow_header", 'allow_header: "X-Pass" should be name:value'],
    ['allow_header = "X-Pass:"', "allow_header", 'allow_header: "X-Pass:" should be name:value'],
    ['retry_after = "soon"', "retry_after", /./],
    ['allow_ip_list = ["not-an-ip"]', "allow_ip_list.0", /./],
  ];
  for (const [conf, path, message] of cases) {
    const errors = errorsOf(conf);
    assert.equal(errors.length, 1, `${conf}: ${JSON.stringify(errors)}`);
    const e = errors[0]!;
    if (typeof message === "string") assert.equal(e.message, message, conf);
    else assert.match(e.message, message, conf);
    assert.equal(e.path.join("."), `plugins.m.${path}`, conf);
    assert.ok(e.hint, `${conf} has a hint`);
  }
  assert.match(errorsOf('step = "response"')[0]?.message ?? "", /"response"/);
  assert.deepEqual(errorsOf(""), []);
});
