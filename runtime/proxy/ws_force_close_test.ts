import assert from "node:assert/strict";
import { boundCloseHandshake, canForceClose } from "./ws_force_close.ts";

/** A raw client that upgrades, then reads until the server ends the connection or `ms` pass; never answers a close. */
async function silentClient(port: number, ms: number): Promise<{ ended: boolean; bytes: number }> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  await c.write(
    new TextEncoder().encode(
      "GET / HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: upgrade\r\n" +
        "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n",
    ),
  );
  let ended = false;
  let bytes = 0;
  const timer = setTimeout(() => c.close(), ms);
  const buf = new Uint8Array(4096);
  try {
    for (;;) {
      const n = await c.read(buf);
      if (n === null) {
        ended = true;
        break;
      }
      bytes += n;
    }
  } catch {
    // Closed by the timer.
  } finally {
    clearTimeout(timer);
  }
  if (ended) c.close();
  return { ended, bytes };
}

Deno.test("a peer that never answers our close frame has its connection dropped", async () => {
  const closed = Promise.withResolvers<number>();
  let forceable = false;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onopen = () => {
      forceable = canForceClose(socket);
      socket.close(1011, "upstream connection lost");
      boundCloseHandshake(socket, 300);
    };
    socket.onclose = (e) => closed.resolve(e.code);
    socket.onerror = () => {};
    return response;
  });
  try {
    // The client waits far longer than the bound: only the bound can end the connection within it.
    const got = await silentClient(server.addr.port, 10_000);
    assert.ok(forceable, "this Deno still has the internals ws_force_close.ts uses");
    assert.ok(got.ended, "the server ended the connection");
    assert.ok(got.bytes > 0, "the handshake and the close frame came first");
    assert.equal(typeof await closed.promise, "number", "the close event fired");
  } finally {
    await server.shutdown();
  }
});
