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
import { makeTestPki } from "../_support/certs.ts";

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

Deno.test("webhook: upstream_status when an upstream's last healthy backend goes down, and when one comes back", async () => {
  const posts: Record<string, string>[] = [];
  let arrived: (() => void) | undefined;
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    posts.push(await req.json());
    arrived?.();
    return new Response(null, { status: 204 });
  });
  const next = async (what: string) => {
    for (let i = 0; i < 100 && !posts.some((p) => p.category === "upstream_status" && !seen.has(p)); i++) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, 100);
        arrived = () => (clearTimeout(t), r());
      });
    }
    const p = posts.find((p) => p.category === "upstream_status" && !seen.has(p));
    assert.ok(p, `no upstream_status (${what}) within 10 s; posts: ${JSON.stringify(posts)}`);
    seen.add(p);
    return p;
  };
  const seen = new Set<Record<string, string>>();
  const livePort = freePort();
  const dead = freePort();
  const listen = () => Deno.listen({ hostname: "127.0.0.1", port: livePort });
  let live: Deno.Listener | undefined = listen();
  const proxy = await startTestProxy(`
[basic]
webhook = "http://127.0.0.1:${receiver.addr.port}/hook"
webhook_notifications = ["upstream_status"]
webhook_batch_window = "0s"
webhook_template = '{"category":"{{category}}","title":"{{title}}","level":"{{level}}","message":"{{message}}"}'

[servers.s]
addr = "127.0.0.1:0"
locations = ["a"]

[locations.a]
upstream = "pair"

[upstreams.pair]
addrs = ["127.0.0.1:${livePort}", "127.0.0.1:${dead}"]
health_check = "tcp://pair?check_frequency=100ms&failure=1&success=1&connection_timeout=500ms"
`);
  try {
    // One of two down: the upstream still has a healthy backend, so nothing yet.
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(posts, [], "one healthy backend left: no upstream_status");
    live.close();
    live = undefined;
    const down = await next("down");
    assert.deepEqual([down.title, down.level, down.message], ["Upstream unhealthy", "error", "pair"]);
    live = listen();
    const up = await next("up");
    assert.deepEqual([up.title, up.level, up.message], ["Upstream healthy", "info", "pair"]);
    assert.equal(posts.length, 2, JSON.stringify(posts));
  } finally {
    live?.close();
    await proxy.close();
    await receiver.shutdown();
  }
});

Deno.test("webhook: a certificate file that no longer parses at a reload sends parse_certificate_fail", async () => {
  const posts: Record<string, string>[] = [];
  let arrived: (() => void) | undefined;
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    posts.push(await req.json());
    arrived?.();
    return new Response(null, { status: 204 });
  });
  const pki = await makeTestPki([{ name: "site.test" }]);
  const leaf = pki.leaves["site.test"]!;
  const file = `${pki.dir}/pingap.toml`;
  await Deno.writeTextFile(
    file,
    `
[basic]
webhook = "http://127.0.0.1:${receiver.addr.port}/hook"
webhook_notifications = ["parse_certificate_fail"]
webhook_batch_window = "0s"
webhook_template = '{"category":"{{category}}","level":"{{level}}","message":"{{message}}"}'

[servers.s]
addr = "127.0.0.1:${freePort()}"
locations = ["a"]
global_certificates = true

[locations.a]
upstream = "o"

[upstreams.o]
addrs = ["127.0.0.1:${freePort()}"]

[certificates.site]
domains = ["site.test"]
tls_cert = "${leaf.certFile}"
tls_key = "${leaf.keyFile}"
`,
  );
  const child = spawnDeno([...START_ARGS, file]);
  try {
    await child.waitFor(/listening on https:\/\/127\.0\.0\.1:\d+/);
    assert.equal(posts.length, 0);
    // Renewed in place by something that wrote garbage: the reload keeps the served certificate and says why.
    await Deno.writeTextFile(
      leaf.certFile,
      "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n",
    );
    Deno.kill(child.pid, "SIGHUP");
    await child.waitFor(/reload \(SIGHUP\) failed/);
    for (let i = 0; i < 100 && posts.length === 0; i++) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, 100);
        arrived = () => (clearTimeout(t), r());
      });
    }
    assert.equal(posts.length, 1, JSON.stringify(posts));
    assert.equal(posts[0]!.category, "parse_certificate_fail");
    assert.equal(posts[0]!.level, "error");
    assert.match(posts[0]!.message!, /certificates\.site\.tls_cert/);
    assert.match(posts[0]!.message!, /Certificate "site" cannot be parsed/);
  } finally {
    await child.stop();
    await receiver.shutdown();
    await pki.remove();
  }
});
