/**
 * Webhooks from the runtime (issue 4): a backend that a health check marks
 * down sends `backend_status` to a real local receiver; what the proxy and
 * the reload loop report for one plan goes through one notifier (one batch).
 *
 * @module
 */
import assert from "node:assert/strict";
import { freePort } from "../_support/origin.ts";
import { startTestProxy } from "../_support/proxy.ts";
import { spawnDeno, START_ARGS } from "../_support/process.ts";

Deno.test("webhook: a backend marked unhealthy sends backend_status", async () => {
  const got = Promise.withResolvers<Record<string, string>>();
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    got.resolve(await req.json());
    return new Response(null, { status: 204 });
  });
  const dead = freePort();
  const proxy = await startTestProxy(`
[basic]
webhook = "http://127.0.0.1:${receiver.addr.port}/hook"
webhook_notifications = ["backend_status"]
webhook_batch_window = "0s"

[servers.s]
addr = "127.0.0.1:0"
locations = ["a"]

[locations.a]
upstream = "down"

[upstreams.down]
addrs = ["127.0.0.1:${dead}"]
health_check = "tcp://down?check_frequency=100ms&failure=1&connection_timeout=500ms"
`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const body = await Promise.race([
      got.promise,
      new Promise<never>((_, reject) => timer = setTimeout(() => reject(new Error("no webhook within 5 s")), 5000)),
    ]);
    assert.equal(body.category, "backend_status");
    assert.match(body.message!, new RegExp(`upstream down\\(127\\.0\\.0\\.1:${dead}\\) becomes unhealthy`));
  } finally {
    clearTimeout(timer);
    await proxy.close();
    await receiver.shutdown();
  }
});

Deno.test("webhook: the proxy's events and the reload loop's share the serving plan's notifier, so one batch", async () => {
  const posts: Record<string, string>[] = [];
  const posted = Promise.withResolvers<void>();
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    posts.push(await req.json());
    posted.resolve();
    return new Response(null, { status: 204 });
  });
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  await Deno.writeTextFile(
    file,
    `
[basic]
webhook = "http://127.0.0.1:${receiver.addr.port}/hook"
webhook_notifications = ["backend_status", "reload_config_fail"]
webhook_batch_window = "60s"
webhook_batch_max_events = 2

[servers.s]
addr = "127.0.0.1:${freePort()}"
locations = ["a"]

[locations.a]
upstream = "down"

[upstreams.down]
addrs = ["127.0.0.1:${freePort()}"]
health_check = "tcp://down?check_frequency=100ms&failure=1&connection_timeout=500ms"
`,
  );
  const child = spawnDeno([...START_ARGS, file]);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    // The proxy reports the backend (batch of one, the window is a minute) ...
    await child.waitFor(/becomes unhealthy/);
    // ... and the reload loop a broken config: the second event of the same batch, which is then full and posted.
    await Deno.writeTextFile(file, "[servers.s]\naddr = 1\n");
    Deno.kill(child.pid, "SIGHUP");
    await child.waitFor(/the current config keeps serving/);
    await Promise.race([
      posted.promise,
      new Promise<never>((_, reject) => timer = setTimeout(() => reject(new Error("no post within 10 s")), 10_000)),
    ]);
    assert.equal(posts.length, 1);
    assert.equal(posts[0]!.category, "backend_status,reload_config_fail");
  } finally {
    clearTimeout(timer);
    await child.stop();
    await receiver.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
