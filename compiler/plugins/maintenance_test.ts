/** `maintenance` config errors: Pingap's messages (vector 137), at the key path, with a hint. */
import assert from "node:assert/strict";
import { assertOneErrorEach, pluginErrors } from "./_check_cases_test_utils.ts";

const errorsOf = (table: string) => pluginErrors("maintenance", "m", table);

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
  assertOneErrorEach("maintenance", "m", cases.map(([conf, path, message]) => [conf, `.${path}`, message] as const));
  assert.match(errorsOf('step = "response"')[0]?.message ?? "", /"response"/);
  assert.deepEqual(errorsOf(""), []);
});
