/**
 * `threads` (issue 3): several worker isolates share the listen port with
 * SO_REUSEPORT, each serving the same plan, and a swap reaches them all.
 *
 * @module
 */
import assert from "node:assert/strict";
import { freePort, startOrigin } from "../_support/origin.ts";
import { compileToml } from "../_support/proxy.ts";
import { startWorkers, workerCount } from "../../runtime/process/workers.ts";

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

Deno.test("workers: one that ends itself without an error is seen by the liveness check and replaced", async () => {
  const origin = await startOrigin("o", () => new Response("ok"));
  const port = freePort();
  const plan = compileToml(config(port, origin.addr, 2, "one"));
  // Test only (runtime/process/contain.ts): SIGUSR2 makes worker 1 call self.close(), which gives the main isolate no event.
  Deno.env.set("PINGAP_TEST_FAULT", "worker-close");
  const group = await startWorkers(plan, 2, { pingMs: 100, hangMs: 1000 });
  try {
    Deno.kill(Deno.pid, "SIGUSR2");
    for (let i = 0; i < 200 && group.restarts === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(group.restarts, 1, "worker 1 was replaced");
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: "close" } });
      assert.equal(await res.text(), "ok");
    }
  } finally {
    Deno.env.delete("PINGAP_TEST_FAULT");
    await group.shutdown();
    await origin.close();
  }
});
