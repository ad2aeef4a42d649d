/**
 * Bad `cache` tables, as an operator meets them through the real CLI: `check` exits 1 with an error at each bad key's
 * path and a hint (a bad `directory` parameter, a bad `status_ttl` entry); a file `directory` passes.
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
plugins = ["c"]
`;

Deno.test("check: bad cache keys are errors at their path, with a hint", async () => {
  const { code, out } = await check(`${LOCATION}
[plugins.c]
category = "cache"
lock = "soon"
max_file_size = "big"
purge_ip_list = ["10.0.0.300"]
skip = "("
`);
  assert.equal(code, 1, out);
  const errors = out.split("\n").filter((l) => l.includes(" error: "));
  for (const key of ["lock", "max_file_size", "purge_ip_list[0]", "skip"]) {
    const line = errors.find((l) => l.includes(`  plugins.c.${key}  `));
    assert.ok(line, `an error at plugins.c.${key}\n${out}`);
    assert.match(line, / {2}\(.+\)/, `a hint at plugins.c.${key}`);
  }
  assert.equal(errors.length, 4, out);
});

Deno.test("check: a bad directory parameter is an error at directory, with a hint", async () => {
  for (const directory of ["memory://?max_size=lots", "memory://?mode=tiny", "/tmp/c?levels=4"]) {
    const { code, out } = await check(`${LOCATION}\n[plugins.c]\ncategory = "cache"\ndirectory = "${directory}"\n`);
    assert.equal(code, 1, out);
    assert.match(out, /plugins\.c\.directory {2}error: Cache parameter .* is invalid {2}\(Use /, directory);
  }
});

Deno.test("check: a file cache directory with cache_max and cache_file_max_weight passes without a warning", async () => {
  const { code, out } = await check(`${LOCATION}
[plugins.c]
category = "cache"
directory = "/tmp/pingap-cache?levels=1:2&inactive=1d&max_size=1gb&cache_max=100&cache_file_max_weight=64"
`);
  assert.equal(code, 0, out);
  assert.ok(!out.includes("not applied"), out);
});

Deno.test("check: a status_ttl entry that is no status:duration, or 304, is an error at its index, with a hint", async () => {
  const cases: [string, string][] = [["304:10s", "cannot set 304"], ["4o4:1s", "has no status"], [
    "404:soon",
    "404:soon",
  ]];
  for (const [entry, message] of cases) {
    const { code, out } = await check(`${LOCATION}\n[plugins.c]\ncategory = "cache"\nstatus_ttl = ["${entry}"]\n`);
    assert.equal(code, 1, out);
    assert.match(out, /plugins\.c\.status_ttl\[0\] {2}error: /, entry);
    assert.ok(out.includes(message), out);
  }
});
