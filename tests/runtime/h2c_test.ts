/**
 * h2c downstream on `Deno.serve` (issue 3): an `enabled_h2` server that
 * routes to HTTP/1.1 upstreams answers HTTP/2 with prior knowledge (curl
 * `--http2-prior-knowledge`) and HTTP/1.1 on the same port.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startEchoOrigin } from "../_support/origin.ts";
import { startTestProxy } from "../_support/proxy.ts";

async function curl(args: string[]): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command("curl", { args: ["-sS", ...args], stdout: "piped", stderr: "piped" }).output();
  return { code: r.code, out: new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr) };
}

let hasCurl = true;
try {
  await new Deno.Command("curl", { args: ["--version"], stdout: "null", stderr: "null" }).output();
} catch {
  hasCurl = false;
  console.warn("\n!!! curl is missing: the h2c downstream test is SKIPPED !!!\n");
}

Deno.test({
  name: "h2c: an enabled_h2 server answers HTTP/2 with prior knowledge and HTTP/1.1 on one port",
  ignore: !hasCurl && Deno.env.get("CI") !== "true",
  async fn() {
    const origin = await startEchoOrigin("main");
    const proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
enabled_h2 = true
locations = ["a"]

[locations.a]
upstream = "main"

[upstreams.main]
addrs = ["${origin.addr}"]
`);
    try {
      const h2 = await curl([
        "--http2-prior-knowledge",
        "-o",
        "/dev/null",
        "-w",
        "%{http_version} %{http_code}",
        `${proxy.url}/x`,
      ]);
      assert.equal(h2.code, 0, h2.out);
      assert.equal(h2.out.trim(), "2 200");
      const h1 = await curl(["--http1.1", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", `${proxy.url}/x`]);
      assert.equal(h1.out.trim(), "1.1 200");
      assert.equal(origin.count(), 2);
    } finally {
      await proxy.close();
      await origin.close();
    }
  },
});
