/** `request_headers` config errors: Pingap's messages, at the key path of the entry, with a hint. */
import assert from "node:assert/strict";
import { assertOneErrorEach, pluginErrors } from "./_check_cases_test_utils.ts";

const errorsOf = (table: string) => pluginErrors("request_headers", "rh", table);

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
    assertOneErrorEach("request_headers", "rh", [[conf, `.${path}`, message]]);
  }
  const step = errorsOf('step = "response"');
  assert.equal(step.length, 1);
  assert.match(`${step[0]!.message} ${step[0]!.hint}`, /"response".*request.*proxy_upstream/);
  assert.deepEqual(errorsOf(""), [], "nothing to do is not an error");
});
