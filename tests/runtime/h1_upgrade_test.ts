/**
 * Upstream `h1_upgrade` (Pingap 0.16): by default (`websocket_only`) a
 * WebSocket handshake is forwarded and upgraded; with `deny` it goes as a
 * plain request, without its Upgrade fields, and the origin's plain answer
 * comes back.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startOrigin } from "../_support/origin.ts";
import { rawRequest, startTestProxy } from "../_support/proxy.ts";

Deno.test('h1_upgrade = "deny" sends a WebSocket handshake as a plain request; the default upgrades it', async () => {
  const origin = await startOrigin("ws", (req) => {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response("plain answer");
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onerror = () => {};
    return response;
  });
  const config = (extra: string) =>
    `[servers.s]\naddr = "127.0.0.1:0"\nlocations = ["l"]\n[locations.l]\nupstream = "u"\n` +
    `[upstreams.u]\naddrs = ["${origin.addr}"]\n${extra}`;
  const upgrading = await startTestProxy(config(""));
  const denying = await startTestProxy(config('h1_upgrade = "deny"\n'));
  const handshake = {
    host: "ws.test",
    connection: "Upgrade",
    upgrade: "websocket",
    "sec-websocket-version": "13",
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  };
  try {
    // The default: a real WebSocket client is upgraded through the proxy, and closes cleanly.
    const ws = new WebSocket(`ws://127.0.0.1:${upgrading.port}/chat`);
    await new Promise<void>((ok, fail) => {
      ws.onopen = () => ok();
      ws.onerror = () => fail(new Error("the default did not upgrade"));
    });
    const closed = new Promise((ok) => ws.onclose = ok);
    ws.close(1000);
    await closed;
    // deny: the same handshake gets the origin's plain answer.
    const plain = await rawRequest(denying.port, "GET", "/chat", handshake);
    assert.equal(plain.status, 200);
    assert.equal(new TextDecoder().decode(plain.body), "plain answer");
  } finally {
    await upgrading.close();
    await denying.close();
    await origin.close();
  }
});
