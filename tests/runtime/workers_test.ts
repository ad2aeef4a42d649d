/**
 * `threads` (issue 3): several worker isolates share the listen port with
 * SO_REUSEPORT, each serving the same plan, and a swap reaches them all.
 *
 * @module
 */
import assert from "node:assert/strict";
import { freePort, startOrigin } from "../_support/origin.ts";
import { compileToml } from "../_support/proxy.ts";
import { startWorkers, workerCount } from "../../runtime/workers.ts";

function config(port: number, origin: string, threads: number, tag: string): string {
  return `
[servers.s]
addr = "127.0.0.1:${port}"
threads = ${threads}
locations = ["a"]

[locations.a]
upstream = "o"
proxy_set_headers = ["X-Tag:${tag}"]

[upstreams.o]
addrs = ["${origin}"]
`;
}

Deno.test("workers: two isolates serve one port, and a swap reaches them", async () => {
  const origin = await startOrigin(
    "o",
    (req, info) => new Response(`${req.headers.get("x-tag")} ${info.remoteAddr.port}`),
  );
  const port = freePort();
  const plan = compileToml(config(port, origin.addr, 2, "one"));
  assert.equal(workerCount(plan), 2);
  const group = await startWorkers(plan, workerCount(plan));
  try {
    for (let i = 0; i < 20; i++) {
      const body = await (await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: "close" } })).text();
      assert.match(body, /^one /);
    }
    await group.swap(compileToml(config(port, origin.addr, 2, "two")));
    for (let i = 0; i < 20; i++) {
      const body = await (await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: "close" } })).text();
      assert.match(body, /^two /);
    }
  } finally {
    await group.shutdown();
    await origin.close();
  }
});
