/** `uri_block` config errors: Pingap's messages (vector 134), at the key path, with a hint. */
import assert from "node:assert/strict";
import { assertOneErrorEach, pluginErrors } from "./_check_cases_test_utils.ts";

const errorsOf = (table: string) => pluginErrors("uri_block", "b", table);

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
  assertOneErrorEach("uri_block", "b", cases);
  assert.match(errorsOf("paths = ['x']\nstep = \"response\"")[0]?.message ?? "", /"response"/);
});
