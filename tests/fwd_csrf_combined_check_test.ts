/**
 * Bad `forward_auth`, `csrf` and `combined_auth` config through the real CLI: each mistake is a `check` error at its
 * key path, with its line and a hint, and the process exits 1 (Pingap's own rejections, vectors 75, 76 and 105 among
 * them, and stricter ones: an `auth_url` that is not http(s), a token path without `/`, an app id given twice).
 *
 * @module
 */
import assert from "node:assert/strict";
import { spawnDeno } from "./_support/process.ts";

const BAD = `[plugins.noKey]
category = "csrf"
token_path = "/csrf-token"

[plugins.noPath]
category = "csrf"
key = "WjrXUG47wu-0123456789"

[plugins.badTtl]
category = "csrf"
token_path = "/csrf-token"
key = "WjrXUG47wu-0123456789"
ttl = "1a"

[plugins.relative]
category = "csrf"
token_path = "csrf-token"
key = "WjrXUG47wu-0123456789"

[plugins.noUrl]
category = "forward_auth"

[plugins.notUrl]
category = "forward_auth"
auth_url = "not a url"

[plugins.ftp]
category = "forward_auth"
auth_url = "ftp://auth/verify"

[plugins.badHeader]
category = "forward_auth"
auth_url = "http://auth/verify"
request_headers = ["bad header"]
timeout = "soon"

[plugins.noDev]
category = "combined_auth"
authorizations = [{ app_id = "pingap", secret = "123123" }]

[plugins.badIp]
category = "combined_auth"
authorizations = [{ app_id = "a", secret = "s", deviation = 60, ip_list = ["10.0.0.0/33"] }]

[plugins.dup]
category = "combined_auth"
authorizations = [{ app_id = "a", secret = "s", deviation = 60 }, { app_id = "a", secret = "t", deviation = 60 }]

[plugins.noSecret]
category = "combined_auth"
authorizations = [{ app_id = "a", deviation = 60 }]

[plugins.none]
category = "combined_auth"
authorizations = []
`;

/** `[key path, line, message pattern]` of each expected error. */
const EXPECTED: [string, number, RegExp][] = [
  ["plugins.noKey.key", 1, /Missing required key "key"/],
  ["plugins.noPath.token_path", 5, /Missing required key "token_path"/],
  ["plugins.badTtl.ttl", 13, /Unknown time unit "a"/],
  ["plugins.relative.token_path", 17, /does not start with "\/"/],
  ["plugins.noUrl.auth_url", 20, /Missing required key "auth_url"/],
  ["plugins.notUrl.auth_url", 25, /URL "not a url" is invalid/],
  ["plugins.ftp.auth_url", 29, /unsupported scheme "ftp"/],
  ["plugins.badHeader.request_headers[0]", 34, /Header name "bad header" is invalid/],
  ["plugins.badHeader.timeout", 35, /Cannot parse duration "soon"/],
  ["plugins.noDev.authorizations[0].deviation", 39, /Deviation of app "pingap" must be greater than 0 seconds/],
  ["plugins.badIp.authorizations[0].ip_list[0]", 43, /Prefix length of "10.0.0.0\/33" is invalid/],
  ["plugins.dup.authorizations[1].app_id", 47, /App "a" is defined twice/],
  ["plugins.noSecret.authorizations[0].secret", 51, /Missing required key "secret"/],
  ["plugins.none.authorizations", 55, /List is empty/],
];

Deno.test("check: bad forward_auth, csrf and combined_auth keys are errors with key path, line and hint", async () => {
  const file = await Deno.makeTempFile({ suffix: ".toml" });
  await Deno.writeTextFile(file, BAD);
  try {
    const child = spawnDeno(["run", "--allow-read", "--allow-env", "mod.ts", "check", "-c", file]);
    const code = await child.exited();
    const out = child.output();
    assert.equal(code, 1, out);
    const errors = out.split("\n").filter((l) => l.includes(" error: "));
    assert.equal(errors.length, EXPECTED.length, out);
    for (const [path, line, message] of EXPECTED) {
      const at = errors.find((e) => e.includes(`  ${path}  error: `));
      assert.ok(at, `${path}:\n${out}`);
      assert.ok(at.startsWith(`${file}:${line}:`), at);
      assert.match(at, message);
      assert.match(at, /\(.{8,}\)$/, `${path} has a hint`);
    }
    assert.doesNotMatch(out, /not supported/, "these kinds run in this version");
  } finally {
    await Deno.remove(file);
  }
});
