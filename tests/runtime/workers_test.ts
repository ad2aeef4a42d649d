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

Deno.test("workers: a worker started again while a reload is under way serves the new plan", async () => {
  const origin = await startOrigin("o", (req) => new Response(req.headers.get("x-tag")));
  const port = freePort();
  const first = compileToml(config(port, origin.addr, 2, "one"));
  // Renamed, so each worker opens a new listener and retires the old one; while requests keep coming to the old one,
  // it retires for up to 2 s (Listener.retire), so the swap is still under way when worker 1 has started again.
  const next = compileToml(config(port, origin.addr, 2, "two").replace("[servers.s]", "[servers.t]"));
  // Test only (runtime/process/contain.ts): SIGUSR2 makes worker 1 throw an error that containment lets through.
  Deno.env.set("PINGAP_TEST_FAULT", "worker-exit");
  const group = await startWorkers(first, 2);
  let stop = false;
  // Requests on new connections, so the kernel spreads them over every listener on the port; errors are expected
  // while worker 1 is dead (a connection queued on its socket is reset) and are not what this test is about.
  const loop = async () => {
    while (!stop) {
      await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: "close" } }).then((r) => r.text(), () => {});
    }
  };
  const loops = [loop(), loop()];
  try {
    Deno.kill(Deno.pid, "SIGUSR2");
    await group.swap(next);
    for (let i = 0; i < 200 && group.restarts === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(group.restarts, 1, "worker 1 was started again");
    stop = true;
    await Promise.all(loops);
    const tags = new Set<string>();
    for (let i = 0; i < 40; i++) {
      tags.add(await (await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: "close" } })).text());
    }
    assert.deepEqual([...tags], ["two"], "every worker serves the new plan");
  } finally {
    stop = true;
    await Promise.all(loops);
    Deno.env.delete("PINGAP_TEST_FAULT");
    await group.shutdown();
    await origin.close();
  }
});
