/**
 * `ip_restriction` through a compiled Plan without sockets (runtime/proxy/harness.ts): allow and deny lists of IPs and
 * CIDRs, the client IP from `X-Forwarded-For` only when the peer is a trusted proxy, and the verdict kept for one
 * address not reused for the next.
 */
import assert from "node:assert/strict";
import { planHarness } from "../proxy/harness.ts";
import { allowDenyPlan, echo } from "./_test_utils.ts";

const plan = allowDenyPlan(
  "ip_restriction",
  `ip_list = ["192.168.1.1", "1.1.1.0/24"]`,
  `ip_list = ["192.168.1.1", "2001:db8::/32"]
message = "not you"`,
  `[basic]
trusted_proxies = ["127.0.0.1"]`,
);

/** Status and body of `path` asked by `client`, with `X-Forwarded-For: xff` when given. */
async function ask(client: string, path: string, xff?: string): Promise<[number, string]> {
  const h = planHarness(plan, { upstream: echo, client: { hostname: client, port: 40000 } });
  try {
    const res = await h.request(`http://a.test${path}`, xff ? { headers: { "x-forwarded-for": xff } } : {});
    const body = await res.text();
    return [res.status, res.headers.get("x-origin") === "1" ? "upstream" : body];
  } finally {
    await h.dispose();
  }
}

Deno.test("ip_restriction: a deny list refuses listed IPs and CIDRs with 403, others reach the upstream", async () => {
  assert.deepEqual(await ask("1.1.1.77", "/deny"), [403, "Request is forbidden"]);
  assert.deepEqual(await ask("192.168.1.1", "/deny"), [403, "Request is forbidden"]);
  assert.deepEqual(await ask("192.168.1.2", "/deny"), [200, "upstream"]);
  // From the trusted proxy the forwarded address is the client.
  assert.deepEqual(await ask("127.0.0.1", "/deny", "1.1.1.2"), [403, "Request is forbidden"]);
  assert.deepEqual(await ask("127.0.0.1", "/deny", "2.1.1.2"), [200, "upstream"]);
  // From anyone else the header is the client's own word.
  assert.deepEqual(await ask("10.0.0.9", "/deny", "1.1.1.2"), [200, "upstream"]);
});

Deno.test("ip_restriction: an allow list lets only listed clients through, with its message", async () => {
  assert.deepEqual(await ask("192.168.1.1", "/allow"), [200, "upstream"]);
  assert.deepEqual(await ask("2001:db8::5", "/allow"), [200, "upstream"]);
  assert.deepEqual(await ask("::ffff:192.168.1.1", "/allow"), [200, "upstream"], "IPv4-mapped is IPv4");
  assert.deepEqual(await ask("10.0.0.9", "/allow"), [403, "not you"]);
  assert.deepEqual(await ask("10.0.0.9", "/allow", "192.168.1.1"), [403, "not you"], "untrusted header ignored");
  assert.deepEqual(await ask("127.0.0.1", "/allow", "192.168.1.1"), [200, "upstream"]);
});

Deno.test("ip_restriction: one instance answers each client by its own address", async () => {
  const h = planHarness(plan, { upstream: echo, client: { hostname: "127.0.0.1", port: 40000 } });
  try {
    const statuses: number[] = [];
    for (const xff of ["1.1.1.2", "1.1.1.2", "2.2.2.2", "1.1.1.3", "2.2.2.2"]) {
      const res = await h.request("http://a.test/deny", { headers: { "x-forwarded-for": xff } });
      await res.body?.cancel();
      statuses.push(res.status);
    }
    assert.deepEqual(statuses, [403, 403, 200, 403, 200]);
  } finally {
    await h.dispose();
  }
});
