/**
 * Bad config of the access plugins is a `check` error, through the real CLI: each with its file, line, key path,
 * message and hint (a bad CIDR, a bad address, a bad regex, a referer that is no host, a limit without its key or max,
 * an unknown limit tag), and `check` exits 1.
 *
 * @module
 */
import assert from "node:assert/strict";
import { spawnDeno } from "./_support/process.ts";

const CONFIG = `[servers.web]
addr = "127.0.0.1:1"
locations = ["all"]

[locations.all]
path = "/"
plugins = ["ips", "uas", "refs", "byHeader", "byTag"]

[plugins.ips]
category = "ip_restriction"
ip_list = ["10.0.0.0/33", "1.2.3.999"]

[plugins.uas]
category = "ua_restriction"
ua_list = ["(unclosed"]

[plugins.refs]
category = "referer_restriction"
referer_list = ["https://x.test/path"]

[plugins.byHeader]
category = "limit"
tag = "header"

[plugins.byTag]
category = "limit"
tag = "cookies"
max = 1
`;

Deno.test("check: bad access-plugin config is an error at its key, with a hint", async () => {
  const file = await Deno.makeTempFile({ suffix: ".toml" });
  await Deno.writeTextFile(file, CONFIG);
  try {
    const child = spawnDeno(["run", "--allow-read", "--allow-env", "mod.ts", "check", "-c", file]);
    const code = await child.exited();
    const out = child.output();
    assert.equal(code, 1, out);
    const errors = out.split("\n").filter((l) => l.includes(" error: "));
    const expect: [string, RegExp][] = [
      [
        ":11:12  plugins.ips.ip_list[0]  ",
        /Prefix length of "10\.0\.0\.0\/33" is invalid {2}\(Use a number from 0 to 32/,
      ],
      [
        ":11:27  plugins.ips.ip_list[1]  ",
        /IP "1\.2\.3\.999" is not an IP address or CIDR network {2}\(Write an address/,
      ],
      [":15:12  plugins.uas.ua_list[0]  ", /Invalid regex "\(unclosed": .+ {2}\(Check brackets and escapes/],
      [":19:17  plugins.refs.referer_list[0]  ", /Referer host "https:\/\/x\.test\/path" is invalid {2}\(Write a host/],
      [":27:1  plugins.byTag.tag  ", /Unknown value "cookies" {2}\(Did you mean "cookie"\?\)/],
    ];
    assert.equal(errors.length, expect.length, out);
    for (const [at, message] of expect) {
      const line = errors.find((e) => e.includes(at));
      assert.ok(line, `no error ${at}:\n${out}`);
      assert.ok(line.startsWith(file), line);
      assert.match(line, message);
    }
  } finally {
    await Deno.remove(file);
  }
});
