import assert from "node:assert/strict";
import { normalizePath } from "./path_normalize.ts";

Deno.test("normalizePath: dot segments, escaped dots, duplicate slashes", () => {
  const cases: [string, string][] = [
    ["/", "/"],
    ["/a/b", "/a/b"],
    ["/dead/../x", "/x"],
    ["/dead/%2e%2e/x", "/x"],
    ["/dead/%2E%2e/x", "/x"],
    ["/dead/.%2e/x", "/x"],
    ["/x/..%2fdead", "/dead"],
    ["/a/./b", "/a/b"],
    ["/a//b", "/a/b"],
    ["//a///b//", "/a/b/"],
    ["/a/..", "/"],
    ["/a/b/.", "/a/b/"],
    ["/../../x", "/x"],
    ["/a/.b/..c", "/a/.b/..c"],
    ["/%64ead", "/dead"],
    ["/a%20b%3F%23%25", "/a%20b%3F%23%25"],
    ["/caf%C3%A9", "/caf%C3%A9"],
    ["/caf\u00e9/../x", "/x"],
    ["/bad%zz/./x", "/bad%zz/x"],
    ["/a.b/c.d", "/a.b/c.d"],
  ];
  for (const [input, want] of cases) assert.equal(normalizePath(input), want, input);
});

Deno.test("normalizePath: a path with nothing to change is returned as it is", () => {
  const path = "/api/v1/items.json";
  assert.equal(normalizePath(path), path);
});
