/**
 * Bad `compression`, `accept_encoding` and `sub_filter` tables, as an operator meets them through the real CLI:
 * `check` exits 1 with an error at each bad key's path, its line, and a hint; Pingap's spellings of the default
 * compression mode (`response`, `""`) pass.
 *
 * @module
 */
import assert from "node:assert/strict";
import { checkText as check } from "./_support/process.ts";

const LOCATION = `[servers.s]
addr = "127.0.0.1:8080"
locations = ["l"]
[upstreams.u]
addrs = ["127.0.0.1:9000"]
[locations.l]
upstream = "u"
plugins = ["c", "a", "s"]
`;

Deno.test("check: bad compression, accept_encoding and sub_filter keys are errors at their path, with a hint", async () => {
  const { code, out } = await check(`${LOCATION}
[plugins.c]
category = "compression"
gzip_level = 10
mode = "sideways"

[plugins.a]
category = "accept_encoding"
encodings = "gzip, b r"

[plugins.s]
category = "sub_filter"
filters = ["sub_filter 'a'", "subs_filter '(' 'b'", "sub_filter 'a' 'b' x"]
`);
  assert.equal(code, 1, out);
  const errors = out.split("\n").filter((l) => l.includes(" error: "));
  const expect: [string, RegExp][] = [
    [":12:1  plugins.c.gzip_level  ", /out of range {2}\(Use an integer 0–9\)/],
    [":13:1  plugins.c.mode  ", /Unknown value "sideways" {2}\(Use one of: downstream, upstream/],
    [":17:1  plugins.a.encodings  ", /"b r" is not a content coding {2}\(Use names such as zstd, br, gzip\)/],
    ["  plugins.s.filters[0]  ", /Filter "sub_filter 'a'" is invalid {2}\(Write sub_filter 'text'/],
    ["  plugins.s.filters[1]  ", /Invalid regex "\(": .* {2}\(Check brackets/],
    ["  plugins.s.filters[2]  ", /unknown flag "x" {2}\(Flags are g/],
  ];
  assert.equal(errors.length, expect.length, out);
  for (const [where, what] of expect) {
    const line = errors.find((l) => l.includes(where));
    assert.ok(line, `an error at ${where}\n${out}`);
    assert.match(line, what);
  }
});

Deno.test("check: Pingap's names of the default compression mode pass; a bad status code of sub_filter and empty types are errors", async () => {
  for (const mode of ['"response"', '""', '"upstream"']) {
    const { code, out } = await check(`${LOCATION}
[plugins.c]
category = "compression"
gzip_level = 6
mode = ${mode}
[plugins.a]
category = "accept_encoding"
encodings = "zstd, br, gzip"
[plugins.s]
category = "sub_filter"
filters = ["sub_filter 'a' 'b'"]
`);
    assert.equal(code, 0, `${mode}: ${out}`);
  }
  const { code, out } = await check(`${LOCATION}
[plugins.c]
category = "compression"
gzip_level = 6
types = []
[plugins.a]
category = "accept_encoding"
encodings = "gzip"
[plugins.s]
category = "sub_filter"
filters = ["sub_filter 'a' 'b'"]
status_codes = "200,abc"
`);
  assert.equal(code, 1, out);
  assert.match(
    out,
    /plugins\.s\.status_codes {2}error: Status code "abc" is invalid {2}\(Use statuses from 100 to 599/,
  );
  assert.match(out, /plugins\.c\.types {2}error: Types needs at least one content type {2}\(List prefixes/);
});
