/**
 * `referer_restriction` through a compiled Plan without sockets (runtime/proxy/harness.ts): Pingap's vector 96 (a
 * deny list with a host and a `*.` wildcard) and an allow list that refuses a request without a usable `Referer`.
 */
import assert from "node:assert/strict";
import { planHarness } from "../proxy/harness.ts";
import { allowDenyPlan, echo } from "./_test_utils.ts";

const plan = allowDenyPlan(
  "referer_restriction",
  `referer_list = ["github.com", "*.bing.cn"]`,
  `referer_list = ["*.example.org"]
message = "from example.org only"`,
);

Deno.test("referer_restriction: listed referers are refused with 403, an allow list lets only its own through", async () => {
  const h = planHarness(plan, { upstream: echo });
  try {
    const ask = async (path: string, referer?: string): Promise<[number, string]> => {
      const res = await h.request(`http://a.test${path}`, referer === undefined ? {} : { headers: { referer } });
      const body = await res.text();
      return [res.status, res.headers.get("x-origin") === "1" ? "upstream" : body];
    };
    assert.deepEqual(await ask("/deny", "https://google.com/"), [200, "upstream"]);
    assert.deepEqual(await ask("/deny", "https://github.com/x"), [403, "Request is forbidden"]);
    assert.deepEqual(await ask("/deny", "https://test.bing.cn/"), [403, "Request is forbidden"]);
    assert.deepEqual(await ask("/deny", "https://bing.cn/"), [200, "upstream"], "*.bing.cn wants a subdomain");
    assert.deepEqual(await ask("/deny"), [200, "upstream"]);
    assert.deepEqual(await ask("/allow", "http://a.Example.org/page"), [200, "upstream"]);
    assert.deepEqual(await ask("/allow", "http://example.org.evil.test/"), [403, "from example.org only"]);
    assert.deepEqual(await ask("/allow", "not a url"), [403, "from example.org only"]);
    assert.deepEqual(await ask("/allow"), [403, "from example.org only"]);
  } finally {
    await h.dispose();
  }
});
