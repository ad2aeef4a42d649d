/**
 * The front end's time limits, over real sockets: `downstream_read_timeout` (a connection that sends no request head
 * is closed, so is a slow head or a stalled upload, on the fast path or a screened head) and `downstream_write_timeout` (a client that stops reading is cut). The sweep checks once a second; the
 * tests wait for the end with a generous bound and assert no timing.
 */
import assert from "node:assert/strict";
import { listenH1 } from "./mod.ts";
import { responseWith } from "../../http/response_build.ts";
import { startTestProxy } from "../../../tests/_support/proxy.ts";
import { Client, field } from "./_test_utils.ts";
import { type RawOrigin, startRawOrigin } from "../../../tests/_support/raw_origin.ts";
import type { HttpResponse } from "../../http/message.ts";
import { readToEnd } from "../../../tests/_support/read_to_end.ts";

Deno.test("downstream_read_timeout: a connection that sends no request is closed; one that does is answered", async () => {
  const p = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["ping"]
downstream_read_timeout = "1s"
[locations.ping]
plugins = ["pingap:ping"]
path = "/ping"
`);
  try {
    const silent = await Deno.connect({ hostname: "127.0.0.1", port: p.port });
    assert.equal(await readToEnd(silent, 15_000), 0, "closed without a byte");
    const c = await Deno.connect({ hostname: "127.0.0.1", port: p.port });
    await c.write(new TextEncoder().encode("GET /ping HTTP/1.1\r\nHost: t\r\n\r\n"));
    const n = await readToEnd(c, 15_000);
    assert.ok(n > 0, `answered, then closed once idle (${n} bytes)`);
  } finally {
    await p.close();
  }
});

/** A response whose body never ends; `cancelled()` tells whether its stream was cancelled. */
function endlessBody(): { endless: () => HttpResponse; cancelled: () => boolean } {
  let cancelled = false;
  const chunk = new Uint8Array(64 * 1024);
  const endless = () =>
    responseWith(
      new ReadableStream<Uint8Array>({
        pull(controller) {
          controller.enqueue(chunk);
        },
        cancel() {
          cancelled = true;
        },
      }),
      { status: 200 },
    );
  return { endless, cancelled: () => cancelled };
}

Deno.test("writeTimeout: a client that stops reading an endless body is cut", async () => {
  const { endless, cancelled } = endlessBody();
  const l = await listenH1(
    { hostname: "127.0.0.1", port: 0, writeTimeout: 1000 },
    () => Promise.resolve(endless()),
  );
  try {
    const c = await Deno.connect({ hostname: "127.0.0.1", port: l.addr.port });
    await c.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
    // Not reading: the socket buffers fill and the server's write waits.
    await new Promise((r) => setTimeout(r, 3000));
    const n = await readToEnd(c, 20_000);
    assert.ok(n >= 0, "the connection was cut (an endless body never ends by itself)");
    for (let i = 0; i < 100 && !cancelled(); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(cancelled(), "the body stream was cancelled");
  } finally {
    await l.shutdown();
  }
});

Deno.test("writeTimeout: a client that stops reading during shutdown is cut, and shutdown ends", async () => {
  const { endless, cancelled } = endlessBody();
  const l = await listenH1(
    { hostname: "127.0.0.1", port: 0, writeTimeout: 1000 },
    () => Promise.resolve(endless()),
  );
  const c = await Deno.connect({ hostname: "127.0.0.1", port: l.addr.port });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await c.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
    // Busy writing to a client that does not read, when the stop comes: the drain waits for that write.
    await new Promise((r) => setTimeout(r, 300));
    const stopped = l.shutdown().then(() => true);
    const bound = new Promise<false>((r) => timer = setTimeout(() => r(false), 15_000));
    assert.ok(await Promise.race([stopped, bound]), "shutdown ended: the stuck write was cut");
    assert.ok(cancelled(), "the body stream was cancelled");
  } finally {
    clearTimeout(timer);
    c.close();
  }
});

Deno.test("shutdown: a connection accepted before it that sends its request 300 ms later is answered, with close", async () => {
  const l = await listenH1(
    { hostname: "127.0.0.1", port: 0 },
    () => Promise.resolve(responseWith("late but answered", { status: 200 })),
  );
  const c = await Client.open(l.addr);
  try {
    // Let the listener accept it, then stop while the client has sent nothing yet.
    await new Promise((r) => setTimeout(r, 100));
    const stopped = l.shutdown();
    await new Promise((r) => setTimeout(r, 300));
    await c.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    const res = await c.response();
    assert.equal(res.status, 200);
    assert.equal(field(res, "connection"), "close");
    assert.equal(res.text, "late but answered");
    assert.equal((await c.rest()).byteLength, 0, "then the end of the connection");
    await stopped;
  } finally {
    c.close();
  }
});

/**
 * Sends `head`, then one byte of `drip` every 200 ms, and reads until the server ends the connection: true when it
 * did within `boundMs` (false when the client gave up first).
 */
async function cutWhileDripping(port: number, head: string, drip: string, boundMs: number): Promise<boolean> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(head));
  const ended = readToEnd(conn, boundMs);
  let done = false;
  ended.finally(() => done = true);
  for (let i = 0; !done; i++) {
    await new Promise((r) => setTimeout(r, 200));
    if (done) break;
    try {
      await conn.write(new TextEncoder().encode(drip[i % drip.length]!));
    } catch {
      break;
    }
  }
  return await ended >= 0;
}

/** A proxy with `downstream_read_timeout = "1s"` in front of a raw origin. */
async function withShortTimeout(fn: (port: number, origin: RawOrigin) => Promise<void>): Promise<void> {
  const origin = startRawOrigin();
  const p = await startTestProxy(`
[upstreams.o]
addrs = ["${origin.addr}"]
[locations.all]
upstream = "o"
[servers.s]
addr = "127.0.0.1:0"
locations = ["all"]
downstream_read_timeout = "1s"
# A request pipelined behind a chunked upload is served (one test sends them in one write).
h1_pipelining = true
`);
  try {
    await fn(p.port, origin);
  } finally {
    await p.close();
    await origin.close();
  }
}

Deno.test("downstream_read_timeout: a slow head is cut, a screened one too", async () => {
  await withShortTimeout(async (port) => {
    // Slowloris with an absolute-form target (a head for the screen).
    assert.ok(await cutWhileDripping(port, "GET http://t/ HTTP/1.1\r\nX-a: ", "abc", 15_000), "absolute-form");
    // The same on HTTP/1.0.
    assert.ok(await cutWhileDripping(port, "GET / HTTP/1.0\r\nX-a: ", "abc", 15_000), "HTTP/1.0");
  });
});

for (
  const [name, head] of [
    ["chunked (screened)", "POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"],
    ["with a Content-Length (fast path)", "POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\nhello"],
  ]
) {
  Deno.test(`downstream_read_timeout: a stalled upload ${name} is cut, and its upstream connection let go`, async () => {
    await withShortTimeout(async (port, origin) => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(new TextEncoder().encode(head!));
      assert.ok(await readToEnd(conn, 15_000) >= 0, "cut");
      for (let i = 0; i < 100 && origin.open() > 0; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(origin.open(), 0, "upstream connection released");
      assert.equal(origin.requests.length, 0, "the upload did not reach the origin whole");
    });
  });
}

Deno.test("downstream_read_timeout: after a chunked upload the connection is kept, and a slow head on it still cut", async () => {
  await withShortTimeout(async (port, origin) => {
    const c = await Client.open({ transport: "tcp", hostname: "127.0.0.1", port });
    try {
      await c.send(
        "POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: t\r\n\r\n",
      );
      assert.equal((await c.response()).status, 200);
      assert.equal((await c.response()).status, 200);
      assert.equal(origin.requests.length, 2);
      // Back on the front end: a head dripped a byte every 200 ms is cut by the 1 s read timeout.
      await c.send("GET /slow HTTP/1.1\r\nX-a: ");
      let cut = false;
      for (let i = 0; i < 75 && !cut; i++) {
        await new Promise((r) => setTimeout(r, 200));
        try {
          await c.send("a");
        } catch {
          cut = true;
        }
      }
      if (!cut) cut = (await readToEnd(c.conn, 15_000)) >= 0;
      assert.ok(cut, "cut");
      assert.equal(origin.requests.length, 2);
    } finally {
      c.close();
    }
  });
});
