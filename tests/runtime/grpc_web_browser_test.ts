/**
 * gRPC-Web from a real browser: headless Chromium loads a page (a test origin serves it), whose script
 * (tests/_support/grpc_web_page.ts, bundled with `deno bundle`) calls a real `@grpc/grpc-js` server through the proxy's
 * `grpc_web` location with Google's `grpc-web` client, in text and binary mode, and shows the replies; the test reads
 * them off the page. Once with the page through the proxy (same origin), once from the test origin itself
 * (cross-origin: the `cors` plugin answers the preflight, and the status, in the body, needs no exposed header).
 *
 * @module
 */
import assert from "node:assert/strict";
import { startOrigin } from "../_support/origin.ts";
import { startTestProxy } from "../_support/proxy.ts";
import { chromiumPath, launchBrowser } from "../_support/browser.ts";
import { startGrpcOrigin } from "../_support/grpc_echo.ts";

const chromium = await chromiumPath();

/** The page script bundled for the browser. */
async function bundlePage(): Promise<string> {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/page.js`;
    const entry = new URL("../_support/grpc_web_page.ts", import.meta.url).pathname;
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--quiet", "--platform", "browser", "-o", out, entry],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(r.success, `deno bundle failed: ${new TextDecoder().decode(r.stderr)}`);
    return await Deno.readTextFile(out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "grpc-web: Chromium's grpc-web client calls a grpc-js server through the proxy (text and binary mode)",
  ignore: chromium === undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const script = await bundlePage();
    const grpc = await startGrpcOrigin();
    const page = await startOrigin("page", (req) => {
      if (new URL(req.url).pathname === "/page.js") {
        return new Response(script, { headers: { "content-type": "text/javascript" } });
      }
      return new Response(
        '<!doctype html><title>grpc-web</title><pre id="out"></pre><script type="module" src="/page.js"></script>',
        { headers: { "content-type": "text/html" } },
      );
    });
    const pageOrigin = `http://127.0.0.1:${page.addr.split(":")[1]}`;
    const proxy = await startTestProxy(`
[servers.web]
addr = "127.0.0.1:0"
modules = ["grpc-web"]
locations = ["grpc", "page"]

[upstreams.grpc]
addrs = ["127.0.0.1:${grpc.port}"]
alpn = "H2"
max_h2_streams = 100

[upstreams.page]
addrs = ["${page.addr}"]

[locations.grpc]
path = "/test.Echo/"
upstream = "grpc"
grpc_web = true
plugins = ["cors"]

[plugins.cors]
category = "cors"
allow_origin = "${pageOrigin}"
allow_methods = "POST"
allow_headers = "Content-Type, X-Grpc-Web, X-User-Agent, X-Client-Meta"

[locations.page]
path = "/"
upstream = "page"
`);
    const browser = await launchBrowser(chromium!);
    try {
      for (const url of [`${proxy.url}/`, `${pageOrigin}/?api=${proxy.url}`]) {
        const tab = await browser.newPage();
        const errors: string[] = [];
        tab.on("pageerror", (e) => errors.push(String(e)));
        await tab.goto(url);
        const out = await tab.waitForSelector("#out[data-done]", { timeout: 30_000 });
        const results = JSON.parse((await out!.evaluate((el) => el.textContent)) ?? "null");
        assert.deepEqual(errors, [], url);
        assert.deepEqual(results, {
          textUnary: { message: "hello from chromium", meta: ["text"] },
          binaryUnary: { message: "binary hello", meta: ["binary"] },
          textStream: { indexes: [0, 1, 2, 3, 4], status: 0 },
          textError: { code: 5, message: "no such thing: nope" },
        }, url);
        await tab.close();
      }
    } finally {
      await browser.close();
      await proxy.close();
      await page.close();
      await grpc.close();
    }
  },
});
