/**
 * A location's `read_timeout` (Pingap 0.16) replaces its upstream's for the
 * location's requests: shorter cuts a slow answer, longer lets it through,
 * and another location on the same upstream keeps the upstream's.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startOrigin } from "../_support/origin.ts";
import { get, startTestProxy } from "../_support/proxy.ts";

Deno.test("location read_timeout overrides the upstream's, both ways", async () => {
  // Answers after a second: longer than 200ms, shorter than 10s.
  const origin = await startOrigin("slow", async () => {
    await new Promise((ok) => setTimeout(ok, 1000));
    return new Response("late");
  });
  const proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["short", "long", "plain", "patient"]
[locations.short]
path = "/short"
upstream = "generous"
read_timeout = "200ms"
[locations.plain]
path = "/plain"
upstream = "generous"
[locations.long]
path = "/long"
upstream = "hasty"
read_timeout = "10s"
[locations.patient]
path = "/patient"
upstream = "hasty"
write_timeout = "10s"
[upstreams.generous]
addrs = ["${origin.addr}"]
read_timeout = "10s"
[upstreams.hasty]
addrs = ["${origin.addr}"]
read_timeout = "200ms"
`);
  try {
    const [short, plain, long, patient] = await Promise.all(
      ["/short", "/plain", "/long", "/patient"].map((p) => get(`${proxy.url}${p}`)),
    );
    assert.equal(short!.status, 504, "the location's 200ms cut the answer");
    assert.equal(plain!.status, 200, "the upstream's 10s let it through");
    assert.equal(plain!.text, "late");
    assert.equal(long!.status, 200, "the location's 10s let it through");
    assert.equal(patient!.status, 504, "only write_timeout set: the upstream's 200ms read limit holds");
  } finally {
    await proxy.close();
    await origin.close();
  }
});
