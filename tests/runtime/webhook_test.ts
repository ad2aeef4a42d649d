/**
 * Webhooks from the runtime (issue 4): a backend that a health check marks
 * down sends `backend_status` to a real local receiver.
 *
 * @module
 */
import assert from "node:assert/strict";
import { freePort } from "../_support/origin.ts";
import { startTestProxy } from "../_support/proxy.ts";

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
