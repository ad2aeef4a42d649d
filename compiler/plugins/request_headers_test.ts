/** `request_headers` config errors: Pingap's messages, at the key path of the entry, with a hint. */
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
plugins = ["rh"]
[plugins.rh]
category = "request_headers"
${plugin}
`;
  return compileSources([{ file: "t.toml", text }]).diagnostics.filter((d) => d.severity === "error");
}

Deno.test("request_headers: bad entries are check errors naming the key and entry", () => {
  for (
    const [conf, path, message] of [
      ['set_headers = ["X-Client"]', "set_headers.0", 'set_headers: "X-Client" should be name:value'],
      ['remove_headers = ["X Bad"]', "remove_headers.0", 'remove_headers: "X Bad" is not a header name'],
      ['rename_headers = ["X-Old"]', "rename_headers.0", 'rename_headers: "X-Old" should be old-name:new-name'],
      ['rename_headers = ["X-Old: X New"]', "rename_headers.0", 'rename_headers: " X New" is not a header name'],
      [
        'remove_headers = ["Content-Length"]',
        "remove_headers.0",
        "remove_headers: content-length is not for this plugin to change",
      ],
      [
        'set_headers = ["Transfer-Encoding: chunked"]',
        "set_headers.0",
        "set_headers: transfer-encoding is not for this plugin to change",
      ],
      [
        'set_headers = ["Host: internal.example.com"]',
        "set_headers.0",
        "set_headers: host is set with proxy_set_headers of the location",
      ],
      [
        'rename_headers = ["X-Host: Host"]',
        "rename_headers.0",
        "rename_headers: host is set with proxy_set_headers of the location",
      ],
    ] as const
  ) {
    const errors = errorsOf(conf);
    assert.equal(errors.length, 1, `${conf}: ${JSON.stringify(errors)}`);
    const [e] = errors;
    assert.equal(e!.message, message, conf);
    assert.equal(e!.path.join("."), `plugins.rh.${path}`, conf);
    assert.ok(e!.hint, `${conf} has a hint`);
  }
  const step = errorsOf('step = "response"');
  assert.equal(step.length, 1);
  assert.match(`${step[0]!.message} ${step[0]!.hint}`, /"response".*request.*proxy_upstream/);
  assert.deepEqual(errorsOf(""), [], "nothing to do is not an error");
});
