/**
 * `enable_tracer` counts an upstream's live connections, as Pingap's peer tracer does: the
 * `pingap_upstream_connections` gauge (read from a real `/metrics` scrape) rises with the keep-alive connections the
 * pool holds and falls back to 0 when the pool closes them (`idle_timeout`), and `{:upstream_connected}` prints the
 * count in the access log. An upstream without the key has neither.
 *
 * @module
 */
import assert from "node:assert/strict";
import { echoHandler, startOrigin } from "../_support/origin.ts";
import { startTestProxy } from "../_support/proxy.ts";
import { pollFor } from "../_support/poll.ts";
import { findSamples, sampleValue } from "../../runtime/observe/metrics/exposition.ts";

Deno.test({
  name: "enable_tracer: pingap_upstream_connections follows the pool's connections; {:upstream_connected} prints it",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    // Answers late, so that requests sent together each need their own backend connection.
    const echo = echoHandler("o");
    const origin = await startOrigin("o", async (req, info) => {
      await new Promise((r) => setTimeout(r, 200));
      return echo(req, info);
    });
    const proxy = await startTestProxy(`
[servers.web]
addr = "127.0.0.1:0"
access_log = "{path} {:upstream_connected}|"
locations = ["traced", "plain"]
prometheus_metrics = "/metrics"

[locations.traced]
path = "/traced"
upstream = "traced"

[locations.plain]
path = "/plain"
upstream = "plain"

[upstreams.traced]
addrs = ["${origin.addr}"]
enable_tracer = true
idle_timeout = "1s"

[upstreams.plain]
addrs = ["${origin.addr}"]
idle_timeout = "1s"
`);
    try {
      const get = async (path: string) => {
        const res = await fetch(`${proxy.url}${path}`);
        await res.arrayBuffer();
        assert.equal(res.status, 200, path);
      };
      const scrape = async () => await (await fetch(`${proxy.url}/metrics`)).text();
      const gauge = (text: string, upstream: string) =>
        sampleValue(text, "pingap_upstream_connections", { server: "web", upstream });

      await Promise.all([get("/traced/1"), get("/traced/2"), get("/traced/3"), get("/plain/1"), get("/plain/2")]);
      // Three connections were made and are kept alive in the pool.
      const up = await scrape();
      assert.equal(gauge(up, "traced"), 3);
      assert.deepEqual(findSamples(up, "pingap_upstream_connections", { upstream: "plain" }), []);

      // The access log: the count when each answer came (all three connections live then); nothing untraced.
      const lines = await pollFor("access log", () => Promise.resolve(proxy.logs.length >= 5 ? proxy.logs : undefined));
      for (const l of lines.filter((l) => l.startsWith("/traced"))) assert.match(l, /^\/traced\/\d [1-3]\|$/);
      assert.deepEqual(lines.filter((l) => l.startsWith("/plain")).sort(), ["/plain/1 |", "/plain/2 |"]);

      // The pool closes them after idle_timeout: the gauge falls back to 0.
      await pollFor("the idle connections closed", async () => gauge(await scrape(), "traced") === 0 || undefined);
    } finally {
      await proxy.close();
      await origin.close();
    }
  },
});
