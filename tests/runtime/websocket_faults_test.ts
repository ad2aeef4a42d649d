/**
 * WebSocket through the proxy in its own process, spliced as bytes after the upstream's 101 (issue 17, Build 2), as
 * nginx or Pingap pass it: frames and close codes go through untouched (the proxy synthesises none), over TLS too, a large message
 * passes whole, a side that reads slowly holds the other back instead of being closed, and a side that vanishes
 * closes the other. After each, the process still answers a normal request.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Origin, startOrigin } from "../_support/origin.ts";
import { type Child, spawnProxy } from "../_support/process.ts";
import { makeTestPki } from "../_support/certs.ts";
import { clientFrameHead, drop, rawWebSocket, wsAccept } from "../_support/ws_raw.ts";

const MIB = 1024 * 1024;

interface WsOrigin {
  readonly origin: Origin;
  /** Close codes the origin saw, in order. */
  readonly closes: number[];
  /** Resolves on the next close the origin sees. */
  nextClose(): Promise<CloseEvent>;
  /** Set once a flood waits on the proxy (more than 4 MiB queued in the origin). */
  readonly state: { stalled: boolean };
}

/**
 * An echo origin. The text `close:CODE:REASON` makes it close with that code and reason; `flood` makes it send 1 MiB
 * messages (up to 256) as fast as they are taken, and sets `stalled` once more than 4 MiB wait in its own queue.
 */
async function startWsOrigin(): Promise<WsOrigin> {
  const closes: number[] = [];
  let waiter: PromiseWithResolvers<CloseEvent> | undefined;
  const state = { stalled: false };
  const origin = await startOrigin("ws", (req) => {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response("plain");
    const { socket, response } = Deno.upgradeWebSocket(req);
    let open = true;
    socket.onmessage = async (e) => {
      if (typeof e.data === "string" && e.data.startsWith("close:")) {
        const [, code, reason] = e.data.split(":");
        socket.close(Number(code), reason);
      } else if (e.data === "flood") {
        // 1 MiB messages, up to 256 MiB, as fast as the proxy takes them, until the proxy closes.
        const chunk = new Uint8Array(MIB);
        for (let i = 0; i < 256 && open; i++) {
          while (open && socket.bufferedAmount > 4 * MIB) {
            state.stalled = true;
            await new Promise((r) => setTimeout(r, 5));
          }
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
    state,
    nextClose() {
      waiter = Promise.withResolvers<CloseEvent>();
      return waiter.promise;
    },
  };
}

/**
 * A WebSocket origin on a raw TCP listener: it completes the handshake, then (`drop`) drops the connection without a
 * close frame as soon as it receives any frame, or (`deaf`) never reads again, or (`echo`) sends back every byte it
 * reads, whatever it is.
 */
function startRawOrigin(mode: "drop" | "deaf" | "echo"): { addr: string; close(): void } {
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
        if (mode === "echo") {
          held.push(conn);
          for (;;) {
            const n = await conn.read(buf);
            if (n === null) return drop(conn);
            await conn.write(buf.subarray(0, n));
          }
        }
        await conn.read(buf).catch(() => null);
        drop(conn);
      })().catch(() => {});
    }
  })().catch(() => {});
  return {
    addr: `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    close() {
      try {
        listener.close();
      } catch { /* closed already */ }
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

/** The next message `ws` receives. */
function message(ws: WebSocket): Promise<MessageEvent> {
  return new Promise((resolve) => {
    ws.onmessage = (e) => resolve(e);
  });
}

function closed(ws: WebSocket): Promise<CloseEvent> {
  return new Promise((resolve) => {
    ws.onclose = (e) => resolve(e);
  });
}

/** The code a WebSocket reports when no close frame came (Deno says 0; 1005 and 1006 elsewhere): none synthesised. */
function noCloseCode(code: number): boolean {
  return code === 0 || code === 1005 || code === 1006;
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

Deno.test("websocket as bytes: close codes and reasons pass unchanged both ways", async () => {
  const ws = await startWsOrigin();
  try {
    await withProxy(config(ws.origin.addr), async (port, child) => {
      // The upstream closes with its own code: the client gets it as sent.
      let client = await open(port);
      let done = closed(client);
      client.send("close:4001:upstream says bye");
      let e = await done;
      assert.deepEqual([e.code, e.reason], [4001, "upstream says bye"]);
      // The client closes with its own code: the upstream gets it as sent.
      client = await open(port);
      const seen = ws.nextClose();
      done = closed(client);
      client.close(3005, "client says bye");
      e = await seen;
      assert.deepEqual([e.code, e.reason], [3005, "client says bye"]);
      await done;
      await assertServes(child, port);
    });
  } finally {
    await ws.origin.close();
  }
});

Deno.test("websocket as bytes: a client that drops its connection without a close frame closes the upstream's", async () => {
  const ws = await startWsOrigin();
  try {
    await withProxy(config(ws.origin.addr), async (port, child) => {
      for (let i = 0; i < 3; i++) {
        const raw = await rawWebSocket(port, "/ws");
        const seen = ws.nextClose();
        drop(raw.conn);
        const e = await within(seen, 10_000, "the upstream is never closed");
        // No close frame came from the client, so none reaches the upstream.
        assert.ok(noCloseCode(e.code), `upstream close ${e.code} ${e.reason}`);
        assert.equal(e.reason, "");
      }
      await assertServes(child, port);
    });
  } finally {
    await ws.origin.close();
  }
});

Deno.test("websocket as bytes: an upstream that drops its connection without a close frame closes the client's", async () => {
  const origin = startRawOrigin("drop");
  const plain = await startOrigin("plain", () => new Response("plain"));
  try {
    // The raw origin answers no plain request: /plain goes to another one.
    await withProxy(config(origin.addr, plain.addr), async (port, child) => {
      for (let i = 0; i < 3; i++) {
        const client = await open(port);
        const done = closed(client);
        client.send("anything");
        const e = await within(done, 10_000, "the client is never closed");
        assert.ok(noCloseCode(e.code), `client close ${e.code} ${e.reason}`);
        assert.equal(e.reason, "");
      }
      await assertServes(child, port);
    });
  } finally {
    origin.close();
    await plain.close();
  }
});

Deno.test("websocket as bytes: a 20 MiB message passes whole each way", async () => {
  const ws = await startWsOrigin();
  try {
    await withProxy(config(ws.origin.addr), async (port, child) => {
      const client = await open(port);
      const big = new Uint8Array(20 * MIB);
      for (let i = 0; i < big.length; i += 4096) big[i] = (i >> 12) & 255;
      const got = message(client);
      client.send(big);
      const e = await within(got, 60_000, "the echo never comes");
      const back = new Uint8Array(e.data as ArrayBuffer);
      assert.equal(back.length, big.length);
      for (let i = 0; i < big.length; i += 4096) assert.equal(back[i], big[i], `byte ${i}`);
      const done = closed(client);
      client.close(1000);
      await done;
      await assertServes(child, port);
    });
  } finally {
    await ws.origin.close();
  }
});

Deno.test("websocket as bytes: 200 connections opened and dropped each close the upstream's", async () => {
  const ws = await startWsOrigin();
  try {
    await withProxy(config(ws.origin.addr), async (port, child) => {
      const conns: Deno.TcpConn[] = [];
      for (let i = 0; i < 200; i++) conns.push((await rawWebSocket(port, "/ws")).conn);
      for (const c of conns) drop(c);
      for (let i = 0; i < 100 && ws.closes.length < 200; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(ws.closes.length, 200, child.output());
      await assertServes(child, port);
    });
  } finally {
    await ws.origin.close();
  }
});

Deno.test("websocket as bytes: a client that never reads holds the upstream back; dropping it closes the upstream's", async () => {
  const ws = await startWsOrigin();
  try {
    await withProxy(config(ws.origin.addr), async (port, child) => {
      const raw = await rawWebSocket(port, "/ws");
      const seen = ws.nextClose();
      const text = new TextEncoder().encode("flood");
      await raw.conn.write(new Uint8Array([...clientFrameHead(1, text.length), ...text]));
      // The client reads nothing from here on: the proxy stops reading the origin, whose own queue then grows.
      while (!ws.state.stalled) {
        assert.equal(ws.closes.length, 0, "the proxy closed the origin instead of holding it back");
        await new Promise((r) => setTimeout(r, 20));
      }
      drop(raw.conn);
      await within(seen, 10_000, "the origin is never closed");
      await assertServes(child, port);
      console.log(`proxy peak RSS ${Math.round(await child.peakRss() / MIB)} MiB`);
    });
  } finally {
    await ws.origin.close();
  }
});

Deno.test("websocket as bytes: an upstream that never reads holds the client back; its vanishing closes the client's", async () => {
  const deaf = startRawOrigin("deaf");
  const plain = await startOrigin("plain", () => new Response("plain"));
  try {
    await withProxy(config(deaf.addr, plain.addr), async (port, child) => {
      const client = await open(port);
      const done = closed(client);
      let closedEarly = false;
      done.then(() => closedEarly = true);
      // Sent until more than 4 MiB wait in the client's own queue: the proxy holds it back rather than buffering.
      const chunk = new Uint8Array(MIB);
      for (let i = 0; i < 256 && client.bufferedAmount <= 4 * MIB && !closedEarly; i++) {
        client.send(chunk);
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.ok(!closedEarly, "the proxy closed the client instead of holding it back");
      assert.ok(client.bufferedAmount > 4 * MIB, "256 MiB sent and none held back");
      deaf.close();
      const e = await within(done, 10_000, "the client is never closed");
      assert.ok(noCloseCode(e.code), `client close ${e.code} ${e.reason}`);
      await assertServes(child, port);
    });
  } finally {
    deaf.close();
    await plain.close();
  }
});

Deno.test("websocket as bytes over TLS: frames pass byte for byte (masks, RSV bits, fragments, close code)", async () => {
  const origin = startRawOrigin("echo");
  const pki = await makeTestPki([{ name: "a.test" }]);
  const leaf = pki.leaves["a.test"]!;
  // The server of config(), with a certificate: TLS on its port.
  const toml =
    config(origin.addr).replace('addr = "127.0.0.1:0"\n', 'addr = "127.0.0.1:0"\nglobal_certificates = true\n') +
    `[certificates.a]\ntls_cert = "${leaf.certFile}"\ntls_key = "${leaf.keyFile}"\n`;
  try {
    await withProxy(toml, async (port) => {
      const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
      const c = await Deno.startTls(tcp, { hostname: "a.test", caCerts: [pki.ca.cert] });
      try {
        await c.write(
          new TextEncoder().encode(
            "GET /ws HTTP/1.1\r\nhost: a.test\r\nupgrade: websocket\r\nconnection: Upgrade\r\n" +
              "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n" +
              "sec-websocket-extensions: permessage-deflate\r\n\r\n",
          ),
        );
        let head = "";
        const buf = new Uint8Array(65536);
        while (!head.includes("\r\n\r\n")) {
          const n = await c.read(buf);
          assert.ok(n !== null, `closed before the 101: ${head}`);
          head += new TextDecoder("latin1").decode(buf.subarray(0, n));
        }
        assert.match(head, /^HTTP\/1\.1 101 /);
        assert.equal(head.slice(head.indexOf("\r\n\r\n") + 4), "", "nothing after the 101 yet");
        // A text message in two fragments, the first with RSV1 (a compressed message), masked with a non-zero key,
        // then a close frame with code 4001: none of it is read by the proxy, so all of it comes back as sent.
        const frames = new Uint8Array([
          0x41,
          0x83,
          1,
          2,
          3,
          4,
          0x61 ^ 1,
          0x62 ^ 2,
          0x63 ^ 3,
          0x80,
          0x82,
          9,
          8,
          7,
          6,
          0x64 ^ 9,
          0x65 ^ 8,
          0x88,
          0x82,
          5,
          5,
          5,
          5,
          0x0f ^ 5,
          0xa1 ^ 5,
        ]);
        await c.write(frames);
        const back: number[] = [];
        while (back.length < frames.length) {
          const n = await c.read(buf);
          if (n === null) break;
          back.push(...buf.subarray(0, n));
        }
        assert.deepEqual(back, [...frames]);
      } finally {
        drop(c);
      }
    });
  } finally {
    origin.close();
    await pki.remove();
  }
});
