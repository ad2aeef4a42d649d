/**
 * `error_page` through a compiled Plan without sockets (runtime/proxy/harness.ts): Pingap's vectors 145 and 146 on
 * the proxy's own errors (502 with no upstream, 413 from `client_max_body_size`) and on intercepted upstream answers.
 */
import assert from "node:assert/strict";
import { planHarness } from "../proxy/harness.ts";
import { planOf } from "./_test_utils.ts";
import { asksForJson, escapeFor } from "./error_page.ts";

const dir = Deno.makeTempDirSync();
const file = `${dir}/down.html`;
Deno.writeTextFileSync(file, "<h1>{{status}}</h1><p>{{message}}</p>");

function plan(plugin: string, location = "") {
  return planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.l]
upstream = "u"
plugins = ["pages"]
${location}
[plugins.pages]
category = "error_page"
${plugin}
`);
}

const PAGES = String
  .raw`pages = ["5xx: ${file}", "404:{\"error\":\"{{message}}\",\"code\":{{status}}}", " 429 : slow down"]`;

Deno.test("error_page: a file page for 5xx on the proxy's own 502, the server template where no page is (vector 145)", async () => {
  const h = planHarness(plan(PAGES, "client_max_body_size = 4"));
  try {
    const bad = await h.request("http://a.test/x");
    assert.equal(bad.status, 502);
    assert.equal(bad.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(await bad.text(), "<h1>502</h1><p>Bad Gateway</p>");
    const big = await h.request("http://a.test/x", {
      method: "POST",
      body: "0123456789",
      headers: { "content-length": "10" },
    });
    assert.equal(big.status, 413);
    assert.match(await big.text(), /Request Entity Too Large/, "no page for 413: the server's template");
  } finally {
    await h.dispose();
  }
});

Deno.test("error_page: intercept takes over upstream answers whose status has a page (vector 145)", async () => {
  const upstream = (req: Request) => {
    const status = Number(new URL(req.url).pathname.slice(1));
    return new Response("the upstream's own body", { status, headers: { "x-origin": "1" } });
  };
  const h = planHarness(plan(`${PAGES}\nintercept = true`), { upstream });
  try {
    const notFound = await h.request("http://a.test/404");
    assert.equal(notFound.status, 404);
    assert.equal(notFound.headers.get("content-type"), "application/json; charset=utf-8");
    assert.equal(await notFound.text(), '{"error":"Not Found","code":404}');
    const slow = await h.request("http://a.test/429");
    assert.equal(slow.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(await slow.text(), "slow down");
    const down = await h.request("http://a.test/503");
    assert.equal(await down.text(), "<h1>503</h1><p>Service Unavailable</p>");
    const forbidden = await h.request("http://a.test/403");
    assert.equal(forbidden.status, 403);
    assert.equal(await forbidden.text(), "the upstream's own body", "403 has no page: passed on");
  } finally {
    await h.dispose();
  }
  const off = planHarness(plan(PAGES), { upstream });
  try {
    assert.equal(await (await off.request("http://a.test/404")).text(), "the upstream's own body", "no intercept");
  } finally {
    await off.dispose();
  }
});

Deno.test("error_page: the message is escaped for the page's kind (vector 145)", () => {
  assert.equal(escapeFor("html", `<script>&"'`), "&lt;script&gt;&amp;&quot;&#39;");
  assert.equal(escapeFor("json", 'a "b"\nc'), String.raw`a \"b\"\nc`);
  assert.equal(escapeFor("text", "<b>"), "<b>");
});

Deno.test("error_page: json for clients that ask for it and not for HTML (vector 146)", async () => {
  assert.equal(asksForJson("application/problem+json;q=0.9"), true);
  assert.equal(asksForJson("Application/JSON"), true);
  assert.equal(asksForJson("text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8"), false);
  assert.equal(asksForJson("*/*"), false);
  const h = planHarness(plan(`json = true\npages = ["5xx:<h1>down</h1>"]`));
  try {
    for (
      const [accept, body] of [
        ["application/problem+json;q=0.9", '{"status":502,"message":"Bad Gateway"}'],
        ["text/html,application/json", "<h1>down</h1>"],
        ["*/*", "<h1>down</h1>"],
      ] as const
    ) {
      const res = await h.request("http://a.test/x", { headers: { accept } });
      assert.equal(res.status, 502);
      assert.equal(await res.text(), body, accept);
    }
  } finally {
    await h.dispose();
  }
});
