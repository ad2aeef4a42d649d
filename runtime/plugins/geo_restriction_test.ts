/**
 * `geo_restriction` through a compiled Plan without sockets (runtime/proxy/harness.ts), on a real `.mmdb` (the
 * ip-location-db country database from node_modules): Pingap's vector 151 (an allow list of AU, DE, FR and JP), a deny
 * list, the country told to the upstream in `header` (the client's own copy replaced or removed), and `reporting`.
 */
import assert from "node:assert/strict";
import { planHarness } from "../proxy/harness.ts";
import { echo, type Echoed, planOf } from "./_test_utils.ts";

const DATABASE = new URL(
  "../../node_modules/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb",
  import.meta.url,
).pathname;

const plan = planOf(`
[basic]
trusted_proxies = ["127.0.0.1"]
[servers.s]
addr = "127.0.0.1:1"
locations = ["allow", "deny", "report"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.allow]
path = "/allow"
upstream = "u"
plugins = ["allow"]
[locations.deny]
path = "/deny"
upstream = "u"
plugins = ["deny"]
[locations.report]
path = "/report"
upstream = "u"
plugins = ["report"]
[plugins.allow]
category = "geo_restriction"
type = "allow"
country_codes = ["AU,DE", "FR JP"]
database = "${DATABASE}"
header = "X-Country"
[plugins.deny]
category = "geo_restriction"
type = "deny"
country_codes = ["US"]
database = "${DATABASE}"
message = "not from there"
[plugins.report]
category = "geo_restriction"
type = "reporting"
database = "${DATABASE}"
header = "X-Country"
`);

Deno.test("geo_restriction: vector 151 and a deny list, by the verified client IP's country", async () => {
  const h = planHarness(plan, { upstream: echo, client: { hostname: "127.0.0.1", port: 40000 } });
  try {
    /** Status and (when the upstream answered) the X-Country it got, or the refusal's body. */
    const ask = async (path: string, ip: string, own?: string): Promise<[number, string | undefined]> => {
      const headers: Record<string, string> = { "x-forwarded-for": ip };
      if (own !== undefined) headers["x-country"] = own;
      const res = await h.request(`http://a.test${path}`, { headers });
      if (res.headers.get("x-origin") !== "1") return [res.status, await res.text()];
      return [res.status, ((await res.json()) as Echoed).headers["x-country"]];
    };
    assert.deepEqual(await ask("/allow", "1.1.1.1"), [200, "AU"]);
    assert.deepEqual(await ask("/allow", "5.6.7.8", "US"), [200, "DE"], "the client's own copy is replaced");
    assert.deepEqual(await ask("/allow", "8.8.8.8"), [403, "Access from your country is not allowed"]);
    assert.deepEqual(await ask("/allow", "10.1.2.3"), [403, "Access from your country is not allowed"], "no country");
    assert.deepEqual(await ask("/deny", "8.8.8.8"), [403, "not from there"]);
    assert.deepEqual(await ask("/deny", "1.1.1.1"), [200, undefined]);
    assert.deepEqual(await ask("/deny", "10.1.2.3"), [200, undefined], "no country passes a deny list");
    assert.deepEqual(await ask("/report", "8.8.8.8"), [200, "US"], "reporting refuses nobody");
    assert.deepEqual(await ask("/report", "10.1.2.3", "AU"), [200, undefined], "no country: the client's copy goes");
  } finally {
    await h.dispose();
  }
});
