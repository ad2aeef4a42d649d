/**
 * `client_max_body_size = 0` is no limit, as in Pingap (it was a limit of
 * 0 bytes: every request with a body got 413), and a real limit still
 * holds. Through the real proxy and an echo origin.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Echo, startEchoOrigin } from "../_support/origin.ts";
import { get, startTestProxy } from "../_support/proxy.ts";

Deno.test("client_max_body_size = 0 passes every body; 4 bytes refuses a fifth", async () => {
  const origin = await startEchoOrigin("main");
  try {
    const proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["zero", "four"]

[upstreams.main]
addrs = ["${origin.addr}"]

[locations.zero]
path = "/zero"
upstream = "main"
client_max_body_size = 0

[locations.four]
path = "/four"
upstream = "main"
client_max_body_size = "4b"
`);
    try {
      const body = "x".repeat(100_000);
      const zero = await get(`${proxy.url}/zero`, { method: "POST", body });
      assert.equal(zero.status, 200, zero.text);
      assert.equal((JSON.parse(zero.text) as Echo).bodyLength, body.length);
      // A streamed body (no Content-Length) too.
      const streamed = await get(`${proxy.url}/zero`, {
        method: "POST",
        body: new Blob([body]).stream(),
      });
      assert.equal(streamed.status, 200, streamed.text);
      assert.equal((JSON.parse(streamed.text) as Echo).bodyLength, body.length);
      assert.equal((await get(`${proxy.url}/four`, { method: "POST", body: "1234" })).status, 200);
      assert.equal((await get(`${proxy.url}/four`, { method: "POST", body: "12345" })).status, 413);
    } finally {
      await proxy.close();
    }
  } finally {
    await origin.close();
  }
});
