/**
 * Exchange details against real origins: aborts propagate (a client that
 * leaves mid-download cancels the origin's stream; one that leaves while
 * waiting aborts the upstream request), a truncated upstream body is an
 * error for the client and not a short success, upstream keep-alive reuse,
 * repeated Set-Cookie, 204/304/HEAD, origin redirects and raw paths passed
 * as sent.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Echo, echoHandler, type Origin, startOrigin } from "../_support/origin.ts";
import { get, getJson, rawJson, rawRequest, startTestProxy, type TestProxy } from "../_support/proxy.ts";

interface Signals {
  streamCancelled: PromiseWithResolvers<void>;
  requestAborted: PromiseWithResolvers<void>;
  releaseSlow: PromiseWithResolvers<void>;
}

async function withProxy(fn: (proxy: TestProxy, origin: Origin, signals: Signals) => Promise<void>): Promise<void> {
  const signals: Signals = {
    streamCancelled: Promise.withResolvers(),
    requestAborted: Promise.withResolvers(),
    releaseSlow: Promise.withResolvers(),
  };
  const echo = echoHandler("main");
  const origin = await startOrigin("main", (req, info) => {
    const path = new URL(req.url).pathname;
    switch (path) {
      case "/stream":
        return new Response(
          new ReadableStream({
            async pull(c) {
              c.enqueue(new Uint8Array(64 * 1024));
              await new Promise((r) => setTimeout(r, 5));
            },
            cancel() {
              signals.streamCancelled.resolve();
            },
          }),
        );
      case "/slow":
        req.signal.addEventListener("abort", () => signals.requestAborted.resolve());
        return signals.releaseSlow.promise.then(() => new Response("late"));
      case "/cookies": {
        const h = new Headers();
        h.append("set-cookie", "a=1; Path=/");
        h.append("set-cookie", "b=2; Path=/; HttpOnly");
        return new Response("cookies", { headers: h });
      }
      case "/204":
        return new Response(null, { status: 204, headers: { "x-empty": "1" } });
      case "/304":
        return new Response(null, { status: 304, headers: { etag: '"v1"' } });
      case "/302":
        return new Response(null, { status: 302, headers: { location: "/elsewhere" } });
      case "/text":
        return new Response("hello world");
      default:
        return echo(req, info);
    }
  });
  const truncating = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const truncLoop = (async () => {
    for await (const conn of truncating) {
      try {
        await conn.read(new Uint8Array(4096));
        await conn.write(
          new TextEncoder().encode(`HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n${"y".repeat(500)}`),
        );
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        conn.close();
      }
    }
  })().catch(() => {});
  let proxy: TestProxy | undefined;
  try {
    proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["trunc", "all"]
[locations.trunc]
path = "/trunc"
upstream = "trunc"
[locations.all]
upstream = "main"
[upstreams.main]
addrs = ["${origin.addr}"]
[upstreams.trunc]
addrs = ["127.0.0.1:${(truncating.addr as Deno.NetAddr).port}"]
`);
    await fn(proxy, origin, signals);
  } finally {
    signals.releaseSlow.resolve();
    await proxy?.close();
    await origin.close();
    truncating.close();
    await truncLoop;
  }
}

function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not within ${ms} ms: ${what}`)), ms);
    }),
  ]);
}

Deno.test("streaming: a client leaving mid-download cancels the origin's stream", async () => {
  await withProxy(async (proxy, _origin, signals) => {
    const ac = new AbortController();
    const res = await fetch(`${proxy.url}/stream`, { signal: ac.signal });
    const reader = res.body!.getReader();
    for (let i = 0; i < 4; i++) await reader.read();
    ac.abort();
    await reader.cancel().catch(() => {});
    await within(5000, "the origin's body stream is cancelled", signals.streamCancelled.promise);
    assert.equal((await get(`${proxy.url}/text`)).text, "hello world");
  });
});

Deno.test("streaming: a client leaving while the origin thinks aborts the upstream request", async () => {
  await withProxy(async (proxy, origin, signals) => {
    const ac = new AbortController();
    const pending = fetch(`${proxy.url}/slow`, { signal: ac.signal }).then((r) => r.body?.cancel(), () => {});
    while ((origin.hits.get("/slow") ?? 0) < 1) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    await pending;
    await within(5000, "the origin sees the abort", signals.requestAborted.promise);
    assert.equal((await get(`${proxy.url}/text`)).text, "hello world");
  });
});

Deno.test("streaming: a truncated upstream body is an error for the client, not a short success", async () => {
  await withProxy(async (proxy) => {
    const res = await fetch(`${proxy.url}/trunc`);
    assert.equal(res.headers.get("content-length"), "100000");
    await assert.rejects(res.arrayBuffer());
    assert.equal((await get(`${proxy.url}/text`)).text, "hello world");
  });
});

Deno.test("streaming: sequential requests reuse one upstream connection", async () => {
  await withProxy(async (proxy) => {
    const peers = new Set<string>();
    for (let i = 0; i < 20; i++) peers.add((await getJson<Echo>(`${proxy.url}/k/${i}`)).remote);
    assert.equal(peers.size, 1, `upstream connections used: ${[...peers].join(", ")}`);
  });
});

Deno.test("streaming: Set-Cookie twice, 204, 304, HEAD and origin redirects pass through", async () => {
  await withProxy(async (proxy) => {
    const cookies = await fetch(`${proxy.url}/cookies`);
    await cookies.body?.cancel();
    assert.deepEqual(cookies.headers.getSetCookie(), ["a=1; Path=/", "b=2; Path=/; HttpOnly"]);
    const empty = await get(`${proxy.url}/204`);
    assert.equal(empty.status, 204);
    assert.equal(empty.text, "");
    assert.equal(empty.headers.get("x-empty"), "1");
    const notModified = await get(`${proxy.url}/304`, { headers: { "if-none-match": '"v1"' } });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers.get("etag"), '"v1"');
    const head = await rawRequest(proxy.port, "HEAD", "/text", { host: "t" });
    assert.equal(head.status, 200);
    assert.equal(head.headers["content-length"], "11");
    assert.equal(head.body.length, 0);
    const redirect = await fetch(`${proxy.url}/302`, { redirect: "manual" });
    await redirect.body?.cancel();
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get("location"), "/elsewhere");
  });
});

Deno.test("streaming: paths reach the origin exactly as sent (no decoding, no dot-segment removal)", async () => {
  await withProxy(async (proxy) => {
    for (const path of ["/a/../b", "/a/./b", "/a%2Fb", "/a//b", "/%7Euser", "/caf%C3%A9"]) {
      const res = await rawRequest(proxy.port, "GET", `${path}?q=%20x`, { host: "t" });
      assert.equal(res.status, 200);
      const echo = rawJson<Echo>(res);
      assert.equal(echo.path, path);
      assert.equal(echo.query, "q=%20x");
    }
  });
});
