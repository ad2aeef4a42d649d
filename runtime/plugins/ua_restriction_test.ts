/**
 * `ua_restriction` through a compiled Plan without sockets (runtime/proxy/harness.ts): Pingap's vectors 103 and 104
 * (a deny list with a literal and a pattern), and an allow list that refuses a request without `User-Agent`.
 */
import assert from "node:assert/strict";
import { planHarness } from "../proxy/harness.ts";
import { allowDenyPlan, echo } from "./_test_utils.ts";

const plan = allowDenyPlan(
  "ua_restriction",
  `ua_list = ["go-http-client/1.1", "(Twitterspider)/(\\\\d+)\\\\.(\\\\d+)"]`,
  `ua_list = ["^curl/"]
message = "curl only"`,
);

Deno.test("ua_restriction: listed agents are refused with 403, an allow list lets only its own through", async () => {
  const h = planHarness(plan, { upstream: echo });
  try {
    const ask = async (path: string, ua: string | undefined): Promise<[number, string]> => {
      const req = new Request(`http://a.test${path}`);
      if (ua === undefined) req.headers.delete("user-agent");
      else req.headers.set("user-agent", ua);
      const res = await h.request(req);
      const body = await res.text();
      return [res.status, res.headers.get("x-origin") === "1" ? "upstream" : body];
    };
    assert.deepEqual(await ask("/deny", "pingap/1.0"), [200, "upstream"]);
    assert.deepEqual(await ask("/deny", "go-http-client/1.1"), [403, "Request is forbidden"]);
    assert.deepEqual(await ask("/deny", "Twitterspider/1.1"), [403, "Request is forbidden"]);
    assert.deepEqual(await ask("/deny", "Twitterspider/x"), [200, "upstream"], "the pattern wants digits");
    assert.deepEqual(await ask("/deny", undefined), [200, "upstream"], "no User-Agent matches no deny entry");
    assert.deepEqual(await ask("/allow", "curl/8.5.0"), [200, "upstream"]);
    assert.deepEqual(await ask("/allow", "Wget/1.21 curl/8"), [403, "curl only"], "anchored at the start");
    assert.deepEqual(await ask("/allow", undefined), [403, "curl only"], "no User-Agent fails an allow list");
  } finally {
    await h.dispose();
  }
});
