/**
 * CORS as a browser enforces it: a page served from one origin fetches from the proxy on another port. Where the `cors`
 * plugin applies, Chromium sends its preflight (a `PUT` with a custom header needs one), the proxy answers it, and the
 * page reads the answer; where it does not apply, Chromium refuses the page the answer.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startOrigin } from "../_support/origin.ts";
import { startTestProxy } from "../_support/proxy.ts";
import { chromiumPath, launchBrowser } from "../_support/browser.ts";

const chromium = await chromiumPath();

Deno.test({
  name: "cors: Chromium reads a cross-origin answer where the plugin allows it, and is refused one where not",
  ignore: chromium === undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const seen: string[] = [];
    const api = await startOrigin("api", (req) => {
      seen.push(`${req.method} ${new URL(req.url).pathname}`);
      return Response.json({ ok: true, method: req.method });
    });
    const page = await startOrigin(
      "page",
      () => new Response("<!doctype html><title>page</title>", { headers: { "content-type": "text/html" } }),
    );
    const pageOrigin = `http://127.0.0.1:${page.addr.split(":")[1]}`;
    const proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["api"]

[upstreams.api]
addrs = ["${api.addr}"]

[locations.api]
path = "/"
upstream = "api"
plugins = ["cors"]

[plugins.cors]
category = "cors"
path = "^/allowed"
allow_origin = "${pageOrigin}"
allow_methods = "GET, PUT"
allow_headers = "Content-Type, X-Token"
`);
    const browser = await launchBrowser(chromium!);
    try {
      const tab = await browser.newPage();
      await tab.goto(`${pageOrigin}/`);
      const results = await tab.evaluate(async (base: string) => {
        const attempt = async (path: string) => {
          try {
            const res = await fetch(base + path, {
              method: "PUT",
              headers: { "content-type": "application/json", "x-token": "t" },
              body: "{}",
            });
            return `read ${res.status} ${(await res.json()).method}`;
          } catch (error) {
            return `refused ${(error as Error).name}`;
          }
        };
        return [await attempt("/allowed/items"), await attempt("/private/items")];
      }, proxy.url);
      assert.deepEqual(results, ["read 200 PUT", "refused TypeError"]);
      assert.ok(seen.includes("PUT /allowed/items"), `the allowed PUT reached the upstream: ${seen}`);
      assert.ok(!seen.includes("OPTIONS /allowed/items"), "the proxy answered the preflight itself");
      assert.ok(!seen.includes("PUT /private/items"), "no preflight answer, so Chromium never sent the PUT");
    } finally {
      await browser.close();
      await proxy.close();
      await api.close();
      await page.close();
    }
  },
});
