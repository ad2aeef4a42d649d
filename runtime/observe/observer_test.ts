/**
 * The per-server observer without sockets: a server that records nothing
 * gets none; a full file queue counts each dropped line in the server's
 * `pingap_access_log_dropped_total` and Pingap 0.16's `pingap_access_log_dropped`; a streamed body's bytes are counted.
 *
 * @module
 */
import assert from "node:assert/strict";
import { compileSources, type ServerPlan } from "../../compiler/mod.ts";
import { RequestContext } from "../proxy/context.ts";
import { createMetrics, MetricsRegistries } from "./metrics/mod.ts";
import { serverObserver } from "./observer.ts";
import { FetchRequest } from "../http/fetch_adapter.ts";
import { responseWith } from "../http/response_build.ts";

function server(keys: string): ServerPlan {
  const { plan } = compileSources([{
    file: "t.toml",
    text: `[servers.s]\naddr = "127.0.0.1:0"\nlocations = ["l"]\n${keys}\n[locations.l]\npath = "/"\n`,
  }]);
  assert.ok(plan);
  return plan.servers[0]!;
}

function context(): RequestContext {
  return new RequestContext(
    new FetchRequest(new Request("http://a.test/x")),
    "127.0.0.1",
    5000,
    "127.0.0.1",
    80,
    "http",
  );
}

Deno.test("serverObserver(): nothing configured, no observer", () => {
  assert.equal(serverObserver(server(""), undefined), undefined);
});

Deno.test("serverObserver(): lines past a full file queue are dropped and counted in the server's metrics", async () => {
  const dir = await Deno.makeTempDir();
  const metrics = createMetrics("observer-drops", new MetricsRegistries());
  const observer = serverObserver(
    server(`access_log = "${dir}/a.log?rolling=never&channel_buffer=1 {status}"`),
    metrics,
  );
  assert.ok(observer);
  try {
    // Body-less responses end at once: five lines in one task, one fits the queue.
    for (let i = 0; i < 5; i++) observer.finish(context(), responseWith(null, { status: 204 }), 1);
    const text = await metrics.text();
    assert.match(text, /^pingap_access_log_dropped_total\{server="observer-drops"\} 4$/m);
    // Pingap 0.16's name for the same count.
    assert.match(text, /^pingap_access_log_dropped\{server="observer-drops"\} 4$/m);
  } finally {
    await observer.dispose();
    metrics.dispose();
  }
  assert.equal(await Deno.readTextFile(`${dir}/a.log`), "204\n");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("serverObserver(): a streamed body is counted as it passes; the line comes when it ends", async () => {
  const lines: string[] = [];
  const observer = serverObserver(server(`access_log = "{size} {size_human} {status}"`), undefined, {
    log: (l) => lines.push(l),
  });
  assert.ok(observer);
  const chunks = [1000, 500, 124].map((n) => new Uint8Array(n));
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      const next = chunks.shift();
      if (next) c.enqueue(next);
      else c.close();
    },
  });
  const res = observer.finish(context(), responseWith(body, {}), 1, Promise.resolve());
  assert.deepEqual(lines, [], "nothing logged before the body was sent");
  assert.equal((await new Response(res.body).arrayBuffer()).byteLength, 1624);
  assert.deepEqual(lines, ["1624 1.6KB 200"]);
  await observer.dispose();
});
