/**
 * Bad `forward_auth` and `csrf` config through the real CLI: each mistake is a `check` error at its key path, with
 * its line and a hint, and the process exits 1 (Pingap's own rejections, vectors 75 and 76 among them, and stricter
 * ones: an `auth_url` that is not http(s), a token path without `/`).
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
];

Deno.test("check: bad forward_auth and csrf keys are errors with key path, line and hint", async () => {
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
    assert.doesNotMatch(out, /not supported/, "both kinds run in this version");
  } finally {
    await Deno.remove(file);
  }
});
