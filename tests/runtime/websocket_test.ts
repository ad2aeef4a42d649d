/**
 * WebSocket through the proxy to a real `Deno.upgradeWebSocket` echo origin
 * (issue 3): text and binary echoes, subprotocol, path/query/headers at the
 * origin, and closes propagating both ways.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Origin, rawTarget, startOrigin } from "../_support/origin.ts";
import { get, startTestProxy, type TestProxy } from "../_support/proxy.ts";

interface Upgrade {
  target: string;
  headers: Record<string, string>;
}

interface WsOrigin {
  origin: Origin;
  upgrades: Upgrade[];
  /** Resolves with the close code the origin saw, per connection in order. */
  closes: Promise<number>[];
}

async function startWsOrigin(): Promise<WsOrigin> {
  const upgrades: Upgrade[] = [];
  const closes: Promise<number>[] = [];
  const origin = await startOrigin("ws", (req) => {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("not a websocket", { status: 400 });
    }
    const { path, query } = rawTarget(req.url);
    upgrades.push({ target: query ? `${path}?${query}` : path, headers: Object.fromEntries(req.headers) });
    const offered = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((s) => s.trim());
    const { socket, response } = Deno.upgradeWebSocket(
      req,
      offered.includes("chat") ? { protocol: "chat" } : {},
    );
    const closed = Promise.withResolvers<number>();
    closes.push(closed.promise);
    socket.onmessage = (e) => {
      if (e.data === "close-me") socket.close(4001, "bye");
      else if (typeof e.data === "string") socket.send(`echo:${e.data}`);
      else socket.send(e.data);
    };
    socket.onclose = (e) => closed.resolve(e.code);
    socket.onerror = () => {};
    return response;
  });
  return { origin, upgrades, closes };
}

function open(url: string, protocols?: string[]): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols);
  ws.binaryType = "arraybuffer";
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve(ws);
    ws.onerror = (e) => reject(new Error(`websocket failed: ${(e as ErrorEvent).message}`));
  });
}

function next(ws: WebSocket): Promise<string | ArrayBuffer> {
  return new Promise((resolve) => {
    ws.onmessage = (e) => resolve(e.data);
  });
}

function closed(ws: WebSocket): Promise<CloseEvent> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) resolve(new CloseEvent("close"));
    ws.onclose = (e) => resolve(e);
  });
}

async function withProxy(fn: (proxy: TestProxy, ws: WsOrigin) => Promise<void>): Promise<void> {
  const ws = await startWsOrigin();
  let proxy: TestProxy | undefined;
  try {
    proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["ws"]
[locations.ws]
path = "/ws"
upstream = "ws"
proxy_set_headers = ["X-Via:pingap", "X-Peer:$remote_addr"]
[upstreams.ws]
addrs = ["${ws.origin.addr}"]
`);
    await fn(proxy, ws);
  } finally {
    await proxy?.close();
    await ws.origin.close();
  }
}

Deno.test("websocket: text and binary echo through the proxy; the client's close reaches the origin", async () => {
  await withProxy(async (proxy, origin) => {
    const ws = await open(`ws://127.0.0.1:${proxy.port}/ws/room?user=1`, ["chat", "v2"]);
    try {
      assert.equal(ws.protocol, "chat", "the origin's subprotocol choice comes back");
      let reply = next(ws);
      ws.send("hello");
      assert.equal(await reply, "echo:hello");
      reply = next(ws);
      ws.send(new Uint8Array([0, 1, 2, 250, 255]));
      const bin = await reply;
      assert.ok(bin instanceof ArrayBuffer, "binary stays binary");
      assert.deepEqual([...new Uint8Array(bin)], [0, 1, 2, 250, 255]);
      // A larger message, and several in a row keep their order.
      const big = "x".repeat(200_000);
      reply = next(ws);
      ws.send(big);
      assert.equal(await reply, `echo:${big}`);
      const got: string[] = [];
      const all = new Promise<void>((resolve) => {
        ws.onmessage = (e) => {
          got.push(e.data as string);
          if (got.length === 20) resolve();
        };
      });
      for (let i = 0; i < 20; i++) ws.send(String(i));
      await all;
      assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => `echo:${i}`));
    } finally {
      const done = closed(ws);
      ws.close(1000, "done");
      await done;
    }
    assert.equal(await origin.closes[0], 1000, "the origin saw the client's close");
    assert.equal(origin.upgrades[0]?.target, "/ws/room?user=1");
    assert.equal(origin.upgrades[0]?.headers["x-via"], "pingap");
    assert.equal(origin.upgrades[0]?.headers["x-peer"], "127.0.0.1");
    // Plain HTTP on the same location still works.
    assert.equal((await get(`${proxy.url}/ws/plain`)).status, 400);
  });
});

Deno.test("websocket: the origin's close reaches the client with its code and reason", async () => {
  await withProxy(async (proxy, origin) => {
    const ws = await open(`ws://127.0.0.1:${proxy.port}/ws`);
    const done = closed(ws);
    ws.send("close-me");
    const event = await done;
    assert.equal(event.code, 4001);
    assert.equal(event.reason, "bye");
    await origin.closes[0];
  });
});

Deno.test("websocket: an upstream that refuses gives a failed handshake, and the proxy keeps serving", async () => {
  await withProxy(async (proxy, origin) => {
    await origin.origin.close();
    await assert.rejects(open(`ws://127.0.0.1:${proxy.port}/ws`));
    const res = await get(`${proxy.url}/ws`, { headers: { upgrade: "websocket", connection: "upgrade" } });
    assert.equal(res.status, 502);
  });
});
