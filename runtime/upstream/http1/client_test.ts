import assert from "node:assert/strict";
import { createHttp1Client, type Http1Client } from "./client.ts";
import { TEST_CA_CERT, TEST_LEAF_CERT, TEST_LEAF_KEY } from "./testdata.ts";
import { backendAt, delay, get, options, rejection, startRaw, text } from "../_test_utils.ts";
import type { Backend, ConnectOptions } from "../types.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function bytes(body: ReadableStream<Uint8Array> | null): Promise<Uint8Array> {
  return body === null ? new Uint8Array() : new Uint8Array(await new Response(body).arrayBuffer());
}

/** A `Deno.serve` origin that counts the client connections it saw. */
interface Origin {
  readonly backend: Backend;
  /** Distinct client ports seen. */
  readonly connections: number;
  close(): Promise<void>;
}

function startOrigin(
  handler: (req: Request) => Response | Promise<Response>,
  tls?: { cert: string; key: string },
): Origin {
  const ports = new Set<number>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
    ...(tls ?? {}),
  }, function originHandler(req, info) {
    ports.add(info.remoteAddr.port);
    return handler(req);
  });
  return {
    backend: backendAt(server.addr.port),
    get connections() {
      return ports.size;
    },
    close() {
      return server.shutdown();
    },
  };
}

/** Reads one request head (and returns it as text); null at EOF. */
async function readRequestHead(conn: Deno.Conn): Promise<string | null> {
  let head = "";
  const buf = new Uint8Array(1);
  // Byte by byte: simple, and leaves any body unread.
  while (!head.endsWith("\r\n\r\n")) {
    const n = await conn.read(buf);
    if (n === null) return null;
    head += String.fromCharCode(buf[0]!);
  }
  return head;
}

/** Waits until the peer closes (or the server closes the connection). */
async function drain(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(4096);
  try {
    while (await conn.read(buf) !== null);
  } catch {
    // closed
  }
}

async function writeAll(conn: Deno.Conn, data: string | Uint8Array): Promise<void> {
  const b = typeof data === "string" ? encoder.encode(data) : data;
  let off = 0;
  while (off < b.length) off += await conn.write(b.subarray(off));
}

async function withClient(opts: ConnectOptions, fn: (client: Http1Client) => Promise<void>): Promise<void> {
  const client = createHttp1Client(opts);
  try {
    await fn(client);
  } finally {
    client.close();
    await delay(0);
  }
}

Deno.test("http1 client GET returns status, headers and body", async () => {
  const origin = startOrigin(function hello(req) {
    return new Response(`hello ${req.headers.get("host")} ${new URL(req.url).pathname}`, {
      headers: { "content-type": "text/plain", "x-origin": "1" },
    });
  });
  await withClient(options(), async (client) => {
    const res = await client.request(origin.backend, get("/a?b=1"));
    assert.equal(res.status, 200);
    assert.equal(res.statusText, "OK");
    assert.equal(res.headers.get("x-origin"), "1");
    assert.equal(res.headers.get("content-type"), "text/plain");
    assert.equal(res.reused, false);
    assert.ok(res.connectTime > 0);
    assert.ok(res.responseTime >= res.connectTime);
    assert.equal(await text(res.body), "hello origin.test /a");
  });
  await origin.close();
});

Deno.test("http1 client adds host from the backend address when missing", async () => {
  const origin = startOrigin(function host(req) {
    return new Response(req.headers.get("host"));
  });
  await withClient(options(), async (client) => {
    const res = await client.request(origin.backend, {
      method: "GET",
      target: "/",
      headers: new Headers(),
      body: null,
    });
    assert.equal(await text(res.body), origin.backend.addr);
  });
  await origin.close();
});

Deno.test("http1 client reuses a keep-alive connection", async () => {
  const origin = startOrigin(function ok() {
    return new Response("ok");
  });
  await withClient(options(), async (client) => {
    const first = await client.request(origin.backend, get());
    assert.equal(await text(first.body), "ok");
    assert.equal(client.idleCount, 1);
    const second = await client.request(origin.backend, get());
    assert.equal(second.reused, true);
    assert.equal(second.connectTime, 0);
    assert.equal(await text(second.body), "ok");
    const third = await client.request(origin.backend, get());
    assert.equal(third.reused, true);
    await text(third.body);
    assert.equal(origin.connections, 1);
  });
  await origin.close();
});

Deno.test("http1 client drops an idle connection the server closed", async () => {
  const server = startRaw(async function serveOnceThenClose(conn) {
    await readRequestHead(conn);
    await writeAll(conn, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    await delay(30);
    conn.close();
  });
  await withClient(options(), async (client) => {
    const first = await client.request(server.backend, get());
    assert.equal(await text(first.body), "ok");
    assert.equal(client.idleCount, 1);
    // The read kept pending on the parked connection sees the close.
    await delay(300);
    assert.equal(client.idleCount, 0, "the pending idle read saw the close");
    const second = await client.request(server.backend, get());
    assert.equal(second.reused, false);
    assert.equal(await text(second.body), "ok");
    assert.equal(server.accepted, 2);
  });
  await server.close();
});

Deno.test("http1 client retries once when a pooled connection dies under the request", async () => {
  // Each connection answers its first request, then closes on the second without answering: the race between a
  // server's idle close and a new request.
  const server = startRaw(async function answerOnce(conn) {
    const head = await readRequestHead(conn);
    const length = Number(/content-length: (\d+)/.exec(head ?? "")?.[1] ?? 0);
    if (length > 0) await conn.read(new Uint8Array(length));
    await writeAll(conn, "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfirst");
    await readRequestHead(conn);
    conn.close();
  });
  await withClient(options(), async (client) => {
    assert.equal(await text((await client.request(server.backend, get())).body), "first");
    const res = await client.request(server.backend, get());
    assert.equal(res.reused, false);
    assert.equal(await text(res.body), "first");
    assert.equal(server.accepted, 2);
    // A small body with a content-length is replayable too, with an idempotent method (a POST is not sent again
    // once written: http1_hostile_test.ts).
    const post = await client.request(server.backend, {
      method: "PUT",
      target: "/",
      headers: new Headers({ "content-length": "3" }),
      body: ReadableStream.from([encoder.encode("abc")]),
    });
    assert.equal(post.reused, false);
    assert.equal(await text(post.body), "first");
    assert.equal(server.accepted, 3);
  });
  await server.close();
});

Deno.test("http1 client does not replay a streamed body on a dead pooled connection", async () => {
  const server = startRaw(async function answerOnce(conn) {
    await readRequestHead(conn);
    await writeAll(conn, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    await readRequestHead(conn);
    conn.close();
  });
  await withClient(options(), async (client) => {
    await text((await client.request(server.backend, get())).body);
    const error = await rejection(client.request(server.backend, {
      method: "POST",
      target: "/",
      headers: new Headers(),
      body: ReadableStream.from([encoder.encode("a"), encoder.encode("b")]),
    }));
    assert.equal(error.kind, "protocol");
    assert.equal(error.requestSent, true);
  });
  await server.close();
});

Deno.test("http1 client sends a body with content-length as raw bytes", async () => {
  const seen: { length: string | null; te: string | null }[] = [];
  const origin = startOrigin(async function echo(req) {
    seen.push({ length: req.headers.get("content-length"), te: req.headers.get("transfer-encoding") });
    return new Response(await req.arrayBuffer());
  });
  await withClient(options(), async (client) => {
    const small = encoder.encode("small body");
    const res = await client.request(origin.backend, {
      method: "POST",
      target: "/echo",
      headers: new Headers({ "content-length": String(small.length) }),
      body: ReadableStream.from([small]),
    });
    assert.equal(await text(res.body), "small body");
    // Larger than what is read before sending: streamed behind the head.
    const big = new Uint8Array(300_000).map((_, i) => i % 251);
    const parts = [big.subarray(0, 1000), big.subarray(1000, 150_000), big.subarray(150_000)];
    const res2 = await client.request(origin.backend, {
      method: "PUT",
      target: "/echo",
      headers: new Headers({ "content-length": String(big.length) }),
      body: ReadableStream.from(parts),
    });
    assert.deepEqual(await bytes(res2.body), big);
    assert.equal(res2.reused, true);
  });
  assert.deepEqual(seen, [{ length: "10", te: null }, { length: "300000", te: null }]);
  await origin.close();
});

Deno.test("http1 client sends whole bodies from reused buffers: many at once, each its own bytes", async () => {
  const origin = startOrigin(async function digest(req) {
    const body = new Uint8Array(await req.arrayBuffer());
    return new Response(new Uint8Array(await crypto.subtle.digest("SHA-256", body)).toHex());
  });
  const sizes = [1, 900, 10_000, 16_000, 40_000, 65_536];
  await withClient(options(), async (client) => {
    // Three rounds, so buffers given back after one are taken again by the next.
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 24 }, async (_, i) => {
        const body = crypto.getRandomValues(new Uint8Array(sizes[i % sizes.length]!));
        const expected = new Uint8Array(await crypto.subtle.digest("SHA-256", body)).toHex();
        // In two pieces, as a client's body comes.
        const half = body.length >> 1;
        const res = await client.request(origin.backend, {
          method: "POST",
          target: "/",
          headers: new Headers({ "content-length": String(body.length) }),
          body: ReadableStream.from([body.subarray(0, half), body.subarray(half)]),
        });
        assert.equal(await text(res.body), expected, `body ${i} (${body.length} bytes), round ${round}`);
      }));
    }
  });
  await origin.close();
});

Deno.test("http1 client sends a body without length chunked", async () => {
  const seen: (string | null)[] = [];
  const origin = startOrigin(async function echo(req) {
    seen.push(req.headers.get("transfer-encoding"));
    return new Response(await req.arrayBuffer());
  });
  await withClient(options(), async (client) => {
    const big = new Uint8Array(100_000).fill(7);
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(encoder.encode("part one, "));
        await delay(10);
        controller.enqueue(encoder.encode("part two, "));
        await delay(10);
        controller.enqueue(big);
        controller.close();
      },
    });
    const res = await client.request(origin.backend, { method: "POST", target: "/", headers: new Headers(), body });
    const got = await bytes(res.body);
    assert.equal(decoder.decode(got.subarray(0, 20)), "part one, part two, ");
    assert.deepEqual(got.subarray(20), big);
    // The connection stays usable after a chunked request.
    const again = await client.request(origin.backend, get());
    assert.equal(again.reused, true);
    await text(again.body);
  });
  assert.deepEqual(seen, ["chunked", null]);
  await origin.close();
});

Deno.test("http1 client passes a gzip body through byte for byte", async () => {
  const plain = encoder.encode("compress me ".repeat(1000));
  const gz = new Uint8Array(
    await new Response(ReadableStream.from([plain]).pipeThrough(new CompressionStream("gzip"))).arrayBuffer(),
  );
  const origin = startOrigin(function gzip() {
    return new Response(gz, { headers: { "content-encoding": "gzip", "content-type": "text/plain" } });
  });
  await withClient(options(), async (client) => {
    const headers = new Headers({ "accept-encoding": "gzip" });
    const res = await client.request(origin.backend, { method: "GET", target: "/", headers, body: null });
    assert.equal(res.headers.get("content-encoding"), "gzip");
    assert.deepEqual(await bytes(res.body), gz);
  });
  await origin.close();
});

/** An origin answering `size` bytes of `block` repeated; with `?chunked`, without a content-length. */
function startDownload(size: number, block: Uint8Array): Origin {
  return startOrigin(function download(req) {
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= size) return controller.close();
        controller.enqueue(block);
        sent += block.length;
      },
    });
    const chunked = new URL(req.url).searchParams.has("chunked");
    return new Response(body, { headers: chunked ? {} : { "content-length": String(size) } });
  });
}

Deno.test("http1 client streams a 10 MB download", async () => {
  const size = 10 * 1024 * 1024;
  const block = new Uint8Array(64 * 1024).map((_, i) => (i * 7) % 256);
  const origin = startDownload(size, block);
  await withClient(options(), async (client) => {
    for (const target of ["/", "/?chunked"]) {
      const res = await client.request(origin.backend, get(target));
      let total = 0;
      let mismatch = -1;
      let pieces = 0;
      for await (const piece of res.body!) {
        for (let i = 0; i < piece.length; i++) {
          if (mismatch < 0 && piece[i] !== block[(total + i) % block.length]) mismatch = total + i;
        }
        total += piece.length;
        pieces++;
      }
      assert.equal(mismatch, -1, "bytes as sent");
      assert.equal(total, size);
      assert.ok(pieces > 10, "streamed in pieces");
    }
    assert.equal(client.idleCount, 1);
  });
  await origin.close();
});

Deno.test("http1 client reuses its read buffer for a body whose pieces are given back, and only then", async () => {
  const size = 4 * 1024 * 1024;
  const block = new Uint8Array(64 * 1024).map((_, i) => (i * 13) % 251);
  const origin = startDownload(size, block);
  /** Pieces of a body read without giving them back, kept to check later that nothing wrote over them. */
  const kept: Uint8Array[] = [];
  await withClient(options(), async (client) => {
    for (const recycling of [true, false, true]) {
      const res = await client.request(origin.backend, get());
      const reader = res.body!.getReader();
      const buffers = new Set<ArrayBufferLike>();
      let total = 0, pieces = 0, mismatch = -1;
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        const piece = r.value;
        // What the front end does with a piece: send it on (here: check it), then drop it.
        for (let i = 0; i < piece.length; i++) {
          if (mismatch < 0 && piece[i] !== block[(total + i) % block.length]) mismatch = total + i;
        }
        total += piece.length;
        pieces++;
        buffers.add(piece.buffer);
        if (recycling) res.recycle!(piece);
        else kept.push(piece);
      }
      assert.equal(mismatch, -1, `bytes as sent (recycling: ${recycling})`);
      assert.equal(total, size);
      assert.ok(pieces > 4, "streamed in pieces");
      // Given back, the pieces come from a few buffers, reused; kept, every read goes into a new one. How few depends on
      // scheduling (a read the stream pulls ahead while a piece is still lent takes another buffer: 2 on a quiet
      // machine, 3 seen in CI under load), so the check is that buffers are reused for most pieces.
      if (recycling) assert.ok(buffers.size * 4 <= pieces, `${buffers.size} buffers for ${pieces} pieces`);
      else assert.equal(buffers.size, pieces, "a new buffer for every piece");
    }
    assert.equal(client.idleCount, 1, "one connection served all three");
  });
  // The pieces not given back are still the second body's bytes after the third body was read on the same connection.
  let offset = 0, overwritten = -1;
  for (const piece of kept) {
    for (let i = 0; i < piece.length; i++) {
      if (overwritten < 0 && piece[i] !== block[(offset + i) % block.length]) overwritten = offset + i;
    }
    offset += piece.length;
  }
  assert.equal(overwritten, -1, "a piece not given back is never read into again");
  await origin.close();
});

Deno.test("http1 client reads response after response on one connection into the same buffer when pieces are given back", async () => {
  const size = 64 * 1024;
  const block = new Uint8Array(16 * 1024).map((_, i) => (i * 11) % 253);
  const origin = startDownload(size, block);
  await withClient(options(), async (client) => {
    const buffers = new Set<ArrayBufferLike>();
    for (let n = 0; n < 20; n++) {
      const res = await client.request(origin.backend, get());
      let total = 0;
      for await (const piece of res.body!) {
        total += piece.length;
        buffers.add(piece.buffer);
        res.recycle!(piece);
      }
      assert.equal(total, size);
    }
    // The connection parks while the last piece is still out; its idle read must wait for the piece, not take a
    // new buffer per response.
    assert.ok(buffers.size <= 2, `${buffers.size} buffers for 20 responses`);
    assert.equal(client.idleCount, 1, "one connection served all");
  });
  await origin.close();
});

Deno.test("http1 client de-chunks a chunked response with extensions and trailers", async () => {
  const response = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntrailer: x-sum\r\nx-a: 1\r\n\r\n" +
    "5;name=value\r\nhello\r\n" + "1 ; ext\r\n \r\n" + "A\r\n0123456789\r\n" + "0\r\nx-sum: abc\r\nx-more: 2\r\n\r\n";
  const server = startRaw(async function chunked(conn) {
    for (let i = 0; i < 2; i++) {
      if (await readRequestHead(conn) === null) return;
      // Dribble the bytes so heads and chunk lines split across reads.
      for (let off = 0; off < response.length; off += 7) {
        await writeAll(conn, response.slice(off, off + 7));
        await delay(1);
      }
    }
  });
  await withClient(options(), async (client) => {
    for (let i = 0; i < 2; i++) {
      const res = await client.request(server.backend, get());
      assert.equal(res.headers.get("x-a"), "1");
      assert.equal(res.headers.has("transfer-encoding"), false);
      assert.equal(res.headers.has("trailer"), false);
      assert.equal(await text(res.body), "hello 0123456789");
      const trailers = await res.trailers!;
      assert.equal(trailers.get("x-sum"), "abc");
      assert.equal(trailers.get("x-more"), "2");
      assert.equal(res.reused, i === 1);
    }
  });
  await server.close();
});

Deno.test("http1 client reads a head larger than its first buffer", async () => {
  const big = "v".repeat(40_000);
  const server = startRaw(async function bigHead(conn) {
    await readRequestHead(conn);
    await writeAll(conn, `HTTP/1.1 200 OK\r\nx-big: ${big}\r\ncontent-length: 2\r\n\r\nok`);
    await readRequestHead(conn);
    await writeAll(conn, "HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nyes");
    await drain(conn);
  });
  await withClient(options(), async (client) => {
    const res = await client.request(server.backend, get());
    assert.equal(res.headers.get("x-big"), big);
    assert.equal(await text(res.body), "ok");
    const again = await client.request(server.backend, get());
    assert.equal(again.reused, true);
    assert.equal(await text(again.body), "yes");
  });
  await server.close();
});

Deno.test("http1 client skips 1xx informational responses", async () => {
  const server = startRaw(async function earlyHints(conn) {
    await readRequestHead(conn);
    await writeAll(conn, "HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n");
    await delay(5);
    await writeAll(conn, "HTTP/1.1 200 OK\r\ncontent-length: 4\r\nkeep-alive: timeout=5\r\nx-b: 2\r\n\r\nbody");
  });
  await withClient(options(), async (client) => {
    const res = await client.request(server.backend, get());
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-b"), "2");
    assert.equal(res.headers.has("link"), false);
    assert.equal(res.headers.has("keep-alive"), false);
    assert.equal(await text(res.body), "body");
  });
  await server.close();
});

Deno.test("http1 client reads no body for HEAD, 204 and 304", async () => {
  const origin = startOrigin(function noBody(req) {
    const path = new URL(req.url).pathname;
    if (path === "/204") return new Response(null, { status: 204 });
    if (path === "/304") return new Response(null, { status: 304, headers: { etag: '"x"' } });
    return new Response("twelve bytes", { headers: { "content-type": "text/plain" } });
  });
  await withClient(options(), async (client) => {
    const head = await client.request(origin.backend, { ...get("/"), method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.body, null);
    const noContent = await client.request(origin.backend, get("/204"));
    assert.equal(noContent.status, 204);
    assert.equal(noContent.body, null);
    assert.equal(noContent.reused, true);
    const notModified = await client.request(origin.backend, get("/304"));
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers.get("etag"), '"x"');
    assert.equal(notModified.body, null);
    assert.equal(notModified.reused, true);
    const full = await client.request(origin.backend, get("/"));
    assert.equal(await text(full.body), "twelve bytes");
    assert.equal(full.reused, true);
    assert.equal(origin.connections, 1);
  });
  await origin.close();
});

Deno.test("http1 client does not pool a connection: close or HTTP/1.0 response", async () => {
  const responses = [
    "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok",
    "HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok",
    "HTTP/1.1 200 OK\r\n\r\nuntil close",
  ];
  const server = startRaw(async function closing(conn, index) {
    await readRequestHead(conn);
    await writeAll(conn, responses[index]!);
    if (index === 2) conn.close();
    else await drain(conn);
  });
  await withClient(options(), async (client) => {
    for (let i = 0; i < 3; i++) {
      const res = await client.request(server.backend, get());
      assert.equal(res.reused, false);
      assert.equal(await text(res.body), i === 2 ? "until close" : "ok");
      assert.equal(res.headers.has("connection"), false);
      assert.equal(client.idleCount, 0);
    }
    assert.equal(server.accepted, 3);
  });
  await server.close();
});

Deno.test("http1 client closes the connection when the consumer cancels the body", async () => {
  const origin = startOrigin(function big() {
    return new Response(new Uint8Array(1024 * 1024));
  });
  await withClient(options(), async (client) => {
    const res = await client.request(origin.backend, get());
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    assert.equal(client.idleCount, 0);
    const next = await client.request(origin.backend, get());
    assert.equal(next.reused, false);
    await bytes(next.body);
  });
  await origin.close();
});

Deno.test("http1 client reports a refused connection as kind connect", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await withClient(options(), async (client) => {
    const error = await rejection(client.request(backendAt(port), get()));
    assert.equal(error.kind, "connect");
    assert.equal(error.requestSent, false);
  });
});

Deno.test("http1 client reports a slow backend as kind timeout", async () => {
  const server = startRaw(async function silent(conn) {
    await readRequestHead(conn);
    await writeAll(conn, "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc");
    await drain(conn);
  });
  await withClient(options({ readTimeout: 150 }), async (client) => {
    // Head arrives, the body stalls: the body stream errors.
    const started = performance.now();
    const res = await client.request(server.backend, get());
    const error = await rejection(bytes(res.body));
    const took = performance.now() - started;
    assert.equal(error.kind, "timeout");
    assert.ok(took >= 140 && took < 300, `took ${took} ms`);
  });
  const silent = startRaw(async function silent(conn) {
    await readRequestHead(conn);
    await drain(conn);
  });
  await withClient(options({ readTimeout: 150 }), async (client) => {
    const started = performance.now();
    const error = await rejection(client.request(silent.backend, get()));
    const took = performance.now() - started;
    assert.equal(error.kind, "timeout");
    assert.equal(error.requestSent, true);
    assert.ok(took >= 140 && took < 300, `took ${took} ms`);
  });
  await server.close();
  await silent.close();
});

Deno.test("http1 client times the response head from the end of the request body", async () => {
  const origin = startOrigin(async function count(req) {
    return new Response(String((await req.arrayBuffer()).byteLength));
  });
  await withClient(options({ readTimeout: 100 }), async (client) => {
    // The upload takes about 300 ms, three read timeouts: the origin answers only once it has all of it.
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent === 10) return controller.close();
        await delay(30);
        sent++;
        controller.enqueue(new Uint8Array(1000));
      },
    });
    const res = await client.request(origin.backend, { method: "POST", target: "/", headers: new Headers(), body });
    assert.equal(await text(res.body), "10000");
  });
  await origin.close();
});

Deno.test("http1 client applies totalConnectionTimeout to the TLS handshake", async () => {
  // TCP connects, the handshake never completes. (Loopback cannot make a TCP connect itself hang.)
  const server = startRaw(async function mute(conn) {
    await drain(conn);
  });
  for (const verifyCert of [true, false]) {
    const opts = options({
      tls: true,
      sni: "origin.test",
      verifyCert,
      connectionTimeout: 100,
      totalConnectionTimeout: 150,
    });
    await withClient(opts, async (client) => {
      const started = performance.now();
      const error = await rejection(client.request(server.backend, get()));
      const took = performance.now() - started;
      assert.equal(error.kind, "timeout");
      assert.equal(error.requestSent, false);
      // 150 ms total; under load the 100 ms TCP limit may be the one that fires.
      assert.ok(took >= 95 && took < 400, `took ${took} ms`);
    });
  }
  await server.close();
});

Deno.test("http1 client rejects with kind aborted when the signal aborts", async () => {
  const origin = startOrigin(async function slow(req) {
    if (new URL(req.url).pathname === "/stream") {
      return new Response(
        new ReadableStream({
          async pull(controller) {
            controller.enqueue(new Uint8Array(10));
            await delay(20);
          },
        }),
      );
    }
    await delay(300);
    return new Response("late");
  });
  await withClient(options(), async (client) => {
    const controller = new AbortController();
    const pending = client.request(origin.backend, get("/", { watch: controller.signal }));
    setTimeout(() => controller.abort(), 30);
    const error = await rejection(pending);
    assert.equal(error.kind, "aborted");
    // Aborting while the body streams errors the body.
    const controller2 = new AbortController();
    const res = await client.request(origin.backend, get("/stream", { watch: controller2.signal }));
    const reader = res.body!.getReader();
    await reader.read();
    controller2.abort();
    const bodyError = await rejection(
      (async function drain() {
        while (!(await reader.read()).done);
      })(),
    );
    assert.equal(bodyError.kind, "aborted");
    assert.equal(client.idleCount, 0);
    // Already aborted: nothing is sent.
    const early = await rejection(client.request(origin.backend, get("/", { watch: AbortSignal.abort() })));
    assert.equal(early.kind, "aborted");
    assert.equal(early.requestSent, false);
  });
  await origin.close();
});

Deno.test("http1 client applies writeTimeout when the backend stops reading", async () => {
  const server = startRaw(async function neverReads(conn) {
    await delay(600);
    conn.close();
  });
  await withClient(options({ writeTimeout: 150 }), async (client) => {
    const block = new Uint8Array(256 * 1024);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(block);
      },
    });
    const started = performance.now();
    const error = await rejection(
      client.request(server.backend, { method: "POST", target: "/", headers: new Headers(), body }),
    );
    const took = performance.now() - started;
    assert.equal(error.kind, "timeout");
    assert.equal(error.requestSent, true);
    assert.ok(took < 1500, `took ${took} ms`);
  });
  await server.close();
});

Deno.test("http1 client returns an early response while the body is still being sent", async () => {
  const server = startRaw(async function rejectUpload(conn) {
    await readRequestHead(conn);
    await writeAll(conn, "HTTP/1.1 413 Content Too Large\r\ncontent-length: 8\r\n\r\ntoo big!");
    await drain(conn);
  });
  await withClient(options(), async (client) => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await delay(5);
        controller.enqueue(new Uint8Array(1024));
      },
      cancel() {
        cancelled = true;
      },
    });
    const res = await client.request(server.backend, { method: "POST", target: "/", headers: new Headers(), body });
    assert.equal(res.status, 413);
    assert.equal(await text(res.body), "too big!");
    assert.equal(client.idleCount, 0, "a connection with an unfinished request body is not reused");
    await delay(20);
    assert.equal(cancelled, true, "the rest of the request body was cancelled");
  });
  await server.close();
});

Deno.test("http1 client rejects an unparsable response as kind protocol", async () => {
  const server = startRaw(async function garbage(conn) {
    await readRequestHead(conn);
    await writeAll(conn, "SSH-2.0-OpenSSH\r\n\r\n");
  });
  await withClient(options(), async (client) => {
    const error = await rejection(client.request(server.backend, get()));
    assert.equal(error.kind, "protocol");
    assert.equal(error.requestSent, true);
  });
  await server.close();
});

Deno.test("http1 client hands over the connection after 101 Switching Protocols", async () => {
  const server = startRaw(async function echoAfterUpgrade(conn) {
    const head = await readRequestHead(conn);
    assert.match(head ?? "", /upgrade: echo/);
    await writeAll(conn, "HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\nhi!");
    const buf = new Uint8Array(1024);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      await writeAll(conn, buf.subarray(0, n));
    }
    await conn.closeWrite();
  });
  await withClient(options(), async (client) => {
    const res = await client.request(server.backend, {
      method: "GET",
      target: "/ws",
      headers: new Headers({ connection: "upgrade", upgrade: "echo" }),
      body: null,
    });
    assert.equal(res.status, 101);
    assert.equal(res.body, null);
    assert.equal(res.headers.get("upgrade"), "echo");
    assert.equal(res.headers.get("connection"), "upgrade");
    const upgrade = res.upgrade!;
    const reader = upgrade.readable.getReader();
    const writer = upgrade.writable.getWriter();
    assert.equal(decoder.decode((await reader.read()).value), "hi!");
    await writer.write(encoder.encode("ping"));
    assert.equal(decoder.decode((await reader.read()).value), "ping");
    await writer.close();
    assert.equal((await reader.read()).done, true);
    assert.equal(client.idleCount, 0);
  });
  await server.close();
});

Deno.test("http1 client speaks verified TLS with SNI different from the address", async () => {
  const origin = startOrigin(function secure(req) {
    return new Response(`secure ${req.headers.get("host")}`);
  }, { cert: TEST_LEAF_CERT, key: TEST_LEAF_KEY });
  const tls = options({ tls: true, sni: "origin.test", verifyCert: true });
  const client = createHttp1Client(tls, { caCerts: [TEST_CA_CERT] });
  try {
    const first = await client.request(origin.backend, get());
    assert.equal(await text(first.body), "secure origin.test");
    const second = await client.request(origin.backend, get());
    assert.equal(second.reused, true);
    assert.equal(await text(second.body), "secure origin.test");
    assert.equal(origin.connections, 1);
  } finally {
    client.close();
  }
  // The name checked is the SNI: another name fails, and so does an unknown CA.
  const wrongName = createHttp1Client({ ...tls, sni: "other.test" }, { caCerts: [TEST_CA_CERT] });
  const error = await rejection(wrongName.request(origin.backend, get()));
  wrongName.close();
  assert.equal(error.kind, "connect");
  assert.equal(error.requestSent, false);
  await withClient(tls, async (client) => {
    const error = await rejection(client.request(origin.backend, get()));
    assert.equal(error.kind, "connect");
  });
  await origin.close();
});

Deno.test("http1 client speaks TLS without certificate verification (node:tls)", async () => {
  const origin = startOrigin(function secure(req) {
    return new Response(`secure ${req.headers.get("host")}`);
  }, { cert: TEST_LEAF_CERT, key: TEST_LEAF_KEY });
  await withClient(options({ tls: true, sni: "origin.test", verifyCert: false }), async (client) => {
    const first = await client.request(origin.backend, get());
    assert.equal(await text(first.body), "secure origin.test");
    const second = await client.request(origin.backend, get());
    assert.equal(second.reused, true);
    assert.equal(await text(second.body), "secure origin.test");
    // A body larger than the transport's queue limit, to exercise pause/resume.
    const big = await client.request(origin.backend, {
      method: "POST",
      target: "/",
      headers: new Headers({ host: "origin.test" }),
      body: ReadableStream.from([new Uint8Array(600_000).fill(1)]),
    });
    assert.equal(big.status, 200);
    await text(big.body);
    assert.equal(origin.connections, 1);
  });
  // Another server name is fine too: nothing is verified.
  await withClient(options({ tls: true, sni: "other.test", verifyCert: false }), async (client) => {
    assert.equal(await text((await client.request(origin.backend, get())).body), "secure origin.test");
  });
  await origin.close();
});

Deno.test("http1 client prune and close end idle connections", async () => {
  const origin = startOrigin(function ok() {
    return new Response("ok");
  });
  await withClient(options({ idleTimeout: 80 }), async (client) => {
    await text((await client.request(origin.backend, get())).body);
    assert.equal(client.idleCount, 1);
    client.prune(new Set([origin.backend.addr]));
    assert.equal(client.idleCount, 1);
    client.prune(new Set());
    assert.equal(client.idleCount, 0);
    await text((await client.request(origin.backend, get())).body);
    assert.equal(client.idleCount, 1);
    await delay(200);
    assert.equal(client.idleCount, 0, "idle timeout");
  });
  await origin.close();
});
