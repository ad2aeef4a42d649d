/**
 * Prometheus metrics through a real proxy (issue 5): the pull path answers
 * the exposition format, the request counter of a location equals the
 * requests sent, histograms and upstream metrics are present, and values
 * survive a plan swap (hot reload).
 *
 * @module
 */
import assert from "node:assert/strict";
import { compileToml, get, startTestProxy } from "../_support/proxy.ts";
import { startEchoOrigin } from "../_support/origin.ts";

function config(origin: string, header: string): string {
  return `
[servers.s]
addr = "127.0.0.1:0"
prometheus_metrics = "/metrics"
locations = ["api"]

[locations.api]
path = "/api"
upstream = "main"
proxy_set_headers = ["X-Version:${header}"]

[upstreams.main]
addrs = ["${origin}"]
`;
}

function sample(text: string, name: string, labels: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name}{`) && line.includes(labels)) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

Deno.test("metrics: /metrics counts the location's requests, has histograms and upstream series, and survives a swap", async () => {
  const origin = await startEchoOrigin("main");
  const proxy = await startTestProxy(config(origin.addr, "1"));
  try {
    for (let i = 0; i < 7; i++) assert.equal((await get(`${proxy.url}/api/${i}`)).status, 200);
    const scrape = await get(`${proxy.url}/metrics`);
    assert.equal(scrape.status, 200);
    assert.match(scrape.headers.get("content-type") ?? "", /text\/plain/);
    assert.equal(sample(scrape.text, "pingap_http_requests_total", 'location="api"'), 7);
    assert.ok(scrape.text.includes("pingap_http_response_time_bucket{"), "response-time histogram");
    assert.ok(
      /pingap_upstream_response_time_(bucket|count)\{[^}]*upstream="main"/.test(scrape.text),
      "upstream metrics",
    );

    await proxy.proxy.swap(compileToml(config(origin.addr, "2")));
    for (let i = 0; i < 3; i++) assert.equal((await get(`${proxy.url}/api/x`)).status, 200);
    const after = await get(`${proxy.url}/metrics`);
    assert.equal(sample(after.text, "pingap_http_requests_total", 'location="api"'), 10);
  } finally {
    await proxy.close();
    await origin.close();
  }
});
