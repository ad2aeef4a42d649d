/**
 * WebSocket faults against the proxy in its own process (issue 15, findings
 * 2 and 7): a client that drops its TCP connection without a close frame, an
 * upstream that does the same, a 70 MiB frame each way, and 200 connections
 * opened and dropped. After each, the process still answers a normal
 * request, and every close code either side receives is one a peer may send.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Origin, startOrigin } from "../_support/origin.ts";
import { type Child, spawnProxy } from "../_support/process.ts";
import { clientFrameHead, drop, rawWebSocket, writeHugeFrame, wsAccept } from "../_support/ws_raw.ts";

const MIB = 1024 * 1024;

interface WsOrigin {
  readonly origin: Origin;
  /** Close codes the origin saw, in order. */
  readonly closes: number[];
  /** Resolves on the next close the origin sees. */
  nextClose(): Promise<CloseEvent>;
}

/** An echo origin; the text `huge` makes it send one 70 MiB binary message. */
async function startWsOrigin(): Promise<WsOrigin> {
  const closes: number[] = [];
  let waiter: PromiseWithResolvers<CloseEvent> | undefined;
  const origin = await startOrigin("ws", (req) => {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response("plain");
    const { socket, response } = Deno.upgradeWebSocket(req);
    let open = true;
    socket.onmessage = async (e) => {
      if (e.data === "huge") socket.send(new Uint8Array(70 * MIB));
      else if (e.data === "flood") {
        // 1 MiB messages, up to 256 MiB, as fast as the proxy takes them, until the proxy closes.
        const chunk = new Uint8Array(MIB);
        for (let i = 0; i < 256 && open; i++) {
          while (open && socket.bufferedAmount > 4 * MIB) await new Promise((r) => setTimeout(r, 5));
          if (open) socket.send(chunk);
        }
      } else socket.send(e.data);
    };
    socket.onclose = (e) => {
      open = false;
      closes.push(e.code);
      waiter?.resolve(e);
      waiter = undefined;
    };
    socket.onerror = () => {};
    return response;
  });
  return {
    origin,
    closes,
    nextClose() {
      waiter = Promise.withResolvers<CloseEvent>();
      return waiter.promise;
    },
  };
}

/**
 * A WebSocket origin on a raw TCP listener: it completes the handshake, then (`drop`) drops the connection without a
 * close frame as soon as it receives any frame, or (`deaf`) never reads again.
 */
function startRawOrigin(mode: "drop" | "deaf"): { addr: string; close(): void } {
  const held: Deno.Conn[] = [];
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const conn of listener) {
      (async () => {
        const buf = new Uint8Array(64 * 1024);
        let head = "";
        while (!head.includes("\r\n\r\n")) {
          const n = await conn.read(buf);
          if (n === null) return drop(conn);
          head += new TextDecoder().decode(buf.subarray(0, n));
        }
        const key = head.match(/sec-websocket-key:\s*(\S+)/i)?.[1] ?? "";
        const accept = await wsAccept(key);
        await conn.write(
          new TextEncoder().encode(
            `HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n` +
              `sec-websocket-accept: ${accept}\r\n\r\n`,
          ),
        );
        if (mode === "deaf") return held.push(conn);
        await conn.read(buf).catch(() => null);
        drop(conn);
      })().catch(() => {});
    }
  })().catch(() => {});
  return {
    addr: `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    close() {
      listener.close();
      for (const c of held) drop(c);
    },
  };
}

/** One location to `upstream`; with `plain`, `/plain` goes there instead. */
function config(upstream: string, plain?: string): string {
  if (plain === undefined) {
    return `
[servers.s]
addr = "127.0.0.1:0"
locations = ["ws"]
[locations.ws]
upstream = "ws"
[upstreams.ws]
addrs = ["${upstream}"]
`;
  }
  return `
[servers.s]
addr = "127.0.0.1:0"
locations = ["ws", "plain"]
[locations.ws]
path = "/ws"
upstream = "ws"
[locations.plain]
path = "/plain"
upstream = "plain"
[upstreams.ws]
addrs = ["${upstream}"]
[upstreams.plain]
addrs = ["${plain}"]
`;
}

function open(port: number): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  ws.binaryType = "arraybuffer";
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve(ws);
    ws.onerror = (e) => reject(new Error(`websocket failed: ${(e as ErrorEvent).message}`));
  });
}

function closed(ws: WebSocket): Promise<CloseEvent> {
  return new Promise((resolve) => {
    ws.onclose = (e) => resolve(e);
  });
}

/** A close code a peer may send (RFC 6455 §7.4, as browsers and Deno accept them). */
function sendable(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1013) || (code >= 3000 && code <= 4999);
}

/** `p`, or a failure after `ms` saying `what`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => timer = setTimeout(() => reject(new Error(`${what} (${ms} ms)`)), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The proxy is alive and serves: a plain request through it reaches the origin. */
async function assertServes(child: Child, port: number): Promise<void> {
  let res: Response;
  try {
    res = await fetch(`http://127.0.0.1:${port}/plain`);
  } catch (e) {
    throw new Error(`the proxy no longer answers (${(e as Error).message}); its output:\n${child.output()}`);
  }
  assert.equal(res.status, 200, child.output());
  assert.equal(await res.text(), "plain");
}

/** Runs `fn` against the proxy in its own process; a failure carries the proxy's output (an exit says why there). */
async function withProxy(toml: string, fn: (port: number, child: Child) => Promise<void>): Promise<void> {
  const { child, port, file } = await spawnProxy(toml);
  try {
    await fn(port, child);
  } catch (e) {
    // A proxy that is dying says why on stderr: give it a moment to finish saying it.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([child.exited(), new Promise((r) => timer = setTimeout(r, 1000))]);
    clearTimeout(timer);
    const rss = await child.peakRss().then((b) => `${Math.round(b / MIB)} MiB`, () => "gone");
    (e as Error).message += `\n--- proxy peak RSS: ${rss}; output ---\n${child.output()}`;
    throw e;
  } finally {
    await child.stop();
    await Deno.remove(file);
  }
}

Deno.test("websocket faults: a client that drops its connection without a close frame", async () => {
  const ws = await startWsOrigin();
  try {
    await withProxy(config(ws.origin.addr), async (port, child) => {
      for (let i = 0; i < 3; i++) {
        const raw = await rawWebSocket(port, "/ws");
        const seen = ws.nextClose();
        drop(raw.conn);
        const e = await seen;
        assert.deepEqual([e.code, e.reason], [1000, "client connection lost"]);
      }
      await assertServes(child, port);
    });
  } finally {
    await ws.origin.close();
  }
});

Deno.test("websocket faults: an upstream that drops its connection without a close frame", async () => {
  const origin = startRawOrigin("drop");
  const plain = await startOrigin("plain", () => new Response("plain"));
  try {
    // The raw origin answers no plain request: /plain goes to another one.
    await withProxy(config(origin.addr, plain.addr), async (port, child) => {
      for (let i = 0; i < 3; i++) {
        const client = await open(port);
        const done = closed(client);
        client.send("anything");
        const e = await done;
        assert.deepEqual([e.code, e.reason], [1011, "upstream connection lost"]);
      }
      await assertServes(child, port);
    });
  } finally {
    origin.close();
    await plain.close();
  }
});

Deno.test("websocket faults: a 70 MiB frame from the client ends its connection; the upstream is told why", async () => {
  const ws = await startWsOrigin();
  try {
    await withProxy(config(ws.origin.addr), async (port, child) => {
      // Raw: one frame head announcing 70 MiB, then the bytes, as far as the proxy reads them.
      const raw = await rawWebSocket(port, "/ws");
      let seen = ws.nextClose();
      await writeHugeFrame(raw.conn, 70 * MIB);
      drop(raw.conn);
      let e = await seen;
      assert.deepEqual([e.code, e.reason], [1000, "client message over 64 MiB"]);
      await assertServes(child, port);
      // The same from a client on the WebSocket API.
      const client = await open(port);
      const done = closed(client);
      seen = ws.nextClose();
      client.send(new Uint8Array(70 * MIB));
      await done;
      e = await seen;
      assert.deepEqual([e.code, e.reason], [1000, "client message over 64 MiB"]);
      await assertServes(child, port);
    });
  } finally {
    await ws.origin.close();
  }
});

Deno.test("websocket faults: a 70 MiB frame from the upstream gives the client 1009", async () => {
  const ws = await startWsOrigin();
  try {
    await withProxy(config(ws.origin.addr), async (port, child) => {
      const client = await open(port);
      const done = closed(client);
      const seen = ws.nextClose();
      client.send("huge");
      const e = await done;
      assert.deepEqual([e.code, e.reason], [1009, "upstream message over 64 MiB"]);
      await seen;
      await assertServes(child, port);
    });
  } finally {
    await ws.origin.close();
  }
});

Deno.test("websocket faults: 200 connections opened and dropped", async () => {
  const ws = await startWsOrigin();
  try {
    await withProxy(config(ws.origin.addr), async (port, child) => {
      const conns: Deno.TcpConn[] = [];
      for (let i = 0; i < 200; i++) conns.push((await rawWebSocket(port, "/ws")).conn);
      for (const c of conns) drop(c);
      // Every bridge is torn down: the origin sees 200 closes, each with a code a peer may send.
      for (let i = 0; i < 100 && ws.closes.length < 200; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(ws.closes.length, 200, child.output());
      for (const c of ws.closes) assert.ok(sendable(c), `close code ${c}`);
      await assertServes(child, port);
    });
  } finally {
    await ws.origin.close();
  }
});

Deno.test("websocket faults: a client that never reads is closed once 16 MiB are queued for it", async () => {
  const ws = await startWsOrigin();
  try {
    await withProxy(config(ws.origin.addr), async (port, child) => {
      const raw = await rawWebSocket(port, "/ws");
      const seen = ws.nextClose();
      const text = new TextEncoder().encode("flood");
      await raw.conn.write(new Uint8Array([...clientFrameHead(1, text.length), ...text]));
      // The client reads nothing from here on; the origin floods.
      const e = await within(seen, 30_000, "the origin is never told the client does not read");
      assert.deepEqual([e.code, e.reason], [1000, "client not reading"]);
      drop(raw.conn);
      await assertServes(child, port);
      console.log(`proxy peak RSS ${Math.round(await child.peakRss() / MIB)} MiB`);
    });
  } finally {
    await ws.origin.close();
  }
});

Deno.test("websocket faults: an upstream that never reads is closed once 16 MiB are queued for it, and the client too", async () => {
  const deaf = startRawOrigin("deaf");
  const plain = await startOrigin("plain", () => new Response("plain"));
  try {
    await withProxy(config(deaf.addr, plain.addr), async (port, child) => {
      const client = await open(port);
      const done = closed(client);
      let sending = true;
      done.then(() => sending = false);
      const chunk = new Uint8Array(MIB);
      for (let i = 0; i < 256 && sending; i++) {
        while (sending && client.bufferedAmount > 4 * MIB) await new Promise((r) => setTimeout(r, 5));
        if (sending) client.send(chunk);
      }
      const e = await within(done, 30_000, "the client is never closed");
      // 1013, or 0 when the client's own messages still in flight met the closed connection (a reset).
      assert.ok(e.code === 1013 || e.code === 0, `client close ${e.code} ${e.reason}`);
      if (e.code === 1013) assert.equal(e.reason, "upstream not reading");
      await child.waitFor(
        /WARN websocket \/ws: the upstream reads slower than it is sent to, over 16 MiB queued: closed/,
      );
      await assertServes(child, port);
      console.log(`proxy peak RSS ${Math.round(await child.peakRss() / MIB)} MiB`);
    });
  } finally {
    deaf.close();
    await plain.close();
  }
});
