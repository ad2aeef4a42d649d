import assert from "node:assert/strict";
import {
  constants,
  createSecureServer,
  createServer,
  type Http2SecureServer,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
import { createH2Client, type H2Client } from "./client.ts";
import { TEST_CA_CERT, TEST_LEAF_CERT, TEST_LEAF_KEY } from "../http1/testdata.ts";
import { backendAt, delay, get, options, rejection, text } from "../_test_utils.ts";
import { type Backend, type ConnectOptions, UpstreamError } from "../types.ts";

const encoder = new TextEncoder();

type StreamHandler = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, session: Http2Session) => void;

/** A node:http2 origin (h2c, or TLS with ALPN h2) that counts sessions and streams. */
interface Origin {
  readonly backend: Backend;
  readonly sessions: Set<Http2Session>;
  /** Sessions ever opened. */
  readonly sessionCount: number;
  readonly streams: ServerHttp2Stream[];
  close(): Promise<void>;
}

async function startOrigin(
  handler: StreamHandler,
  how: { tls?: boolean; settings?: { maxConcurrentStreams?: number } } = {},
): Promise<Origin> {
  const sessions = new Set<Http2Session>();
  const streams: ServerHttp2Stream[] = [];
  let opened = 0;
  const server: Http2Server | Http2SecureServer = how.tls
    ? createSecureServer({
      cert: TEST_LEAF_CERT,
      key: TEST_LEAF_KEY,
      ...(how.settings ? { settings: how.settings } : {}),
    })
    : createServer(how.settings ? { settings: how.settings } : {});
  server.on("session", (s: Http2Session) => {
    opened++;
    sessions.add(s);
    s.on("error", () => {});
    s.once("close", () => sessions.delete(s));
  });
  server.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    streams.push(stream);
    stream.on("error", () => {});
    handler(stream, headers, stream.session!);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    backend: backendAt(port),
    sessions,
    get sessionCount() {
      return opened;
    },
    streams,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sessions) s.destroy();
      await closed;
    },
  };
}

/** Runs `fn` with a client and an origin, closing both (and waiting for the client's sessions to end). */
async function withOrigin(
  handler: StreamHandler,
  fn: (client: H2Client, origin: Origin) => Promise<void>,
  how: {
    tls?: boolean;
    settings?: { maxConcurrentStreams?: number };
    options?: Partial<ConnectOptions>;
    maxStreams?: number;
    caCerts?: string[];
  } = {},
): Promise<void> {
  const origin = await startOrigin(handler, how);
  const client = createH2Client(
    options(how.options),
    how.maxStreams ?? 100,
    how.caCerts ? { caCerts: how.caCerts } : {},
  );
  try {
    await fn(client, origin);
  } finally {
    client.close();
    await origin.close();
    for (let i = 0; i < 100 && client.sessionCount > 0; i++) await delay(10);
  }
}

Deno.test("h2 client gets status, headers, body and trailers over h2c", async () => {
  let seen: IncomingHttpHeaders | undefined;
  await withOrigin((stream, headers) => {
    seen = headers;
    stream.respond({ ":status": 201, "x-a": "1", "set-cookie": ["a=1", "b=2"] }, { waitForTrailers: true });
    stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0", "x-sum": "abc" }));
    stream.end("hello");
  }, async (client, origin) => {
    const headers = new Headers({
      host: "origin.test",
      "x-req": "yes",
      connection: "keep-alive",
      "keep-alive": "timeout=5",
      "transfer-encoding": "chunked",
      upgrade: "websocket",
      te: "trailers",
    });
    const res = await client.request(origin.backend, get("/path?q=1", { headers }));
    assert.equal(res.status, 201);
    assert.equal(res.statusText, "");
    assert.equal(res.headers.get("x-a"), "1");
    assert.deepEqual(res.headers.getSetCookie(), ["a=1", "b=2"]);
    for (const [k] of res.headers) assert.ok(!k.startsWith(":"), k);
    assert.equal(res.reused, false);
    assert.ok(res.connectTime > 0);
    assert.equal(await text(res.body), "hello");
    const trailers = await res.trailers!;
    assert.equal(trailers.get("grpc-status"), "0");
    assert.equal(trailers.get("x-sum"), "abc");
    assert.equal(seen?.[":authority"], "origin.test");
    assert.equal(seen?.[":path"], "/path?q=1");
    assert.equal(seen?.[":scheme"], "http");
    assert.equal(seen?.["x-req"], "yes");
    assert.equal(seen?.["te"], "trailers");
    assert.equal(seen?.["host"], undefined);
    assert.equal(seen?.["connection"], undefined);
    assert.equal(seen?.["upgrade"], undefined);
    // Second request reuses the session.
    const again = await client.request(origin.backend, get("/"));
    assert.equal(again.reused, true);
    assert.equal(again.connectTime, 0);
    await text(again.body);
    assert.deepEqual([...(await again.trailers!)], [["grpc-status", "0"], ["x-sum", "abc"]]);
    assert.equal(origin.sessionCount, 1);
  });
});

Deno.test("h2 client resolves empty trailers when there are none, and adds te for gRPC", async () => {
  const te: (string | undefined)[] = [];
  await withOrigin((stream, headers) => {
    te.push(headers["te"] as string | undefined);
    stream.respond({ ":status": 200 });
    stream.end("x");
  }, async (client, origin) => {
    const res = await client.request(origin.backend, get("/"));
    assert.equal(await text(res.body), "x");
    assert.deepEqual([...(await res.trailers!)], []);
    const grpc = await client.request(
      origin.backend,
      get("/svc/M", { headers: new Headers({ "content-type": "application/grpc+proto" }) }),
    );
    await text(grpc.body);
    assert.deepEqual(te, [undefined, "trailers"]);
  });
});

Deno.test("h2 client streams request and response bodies both ways", async () => {
  await withOrigin((stream) => {
    // Echo as it arrives, uppercased, after the head.
    stream.respond({ ":status": 200 });
    stream.on("data", (chunk: Uint8Array) => stream.write(new TextDecoder().decode(chunk).toUpperCase()));
    stream.on("end", () => stream.end());
  }, async (client, origin) => {
    let input!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        input = c;
      },
    });
    input.enqueue(encoder.encode("one-"));
    const res = await client.request(origin.backend, { ...get("/echo"), method: "POST", body });
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    // The first piece comes back before the second is sent: both directions stream.
    assert.equal(dec.decode((await reader.read()).value), "ONE-");
    input.enqueue(encoder.encode("two-"));
    assert.equal(dec.decode((await reader.read()).value), "TWO-");
    input.enqueue(encoder.encode("three"));
    input.close();
    let rest = "";
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      rest += dec.decode(r.value);
    }
    assert.equal(rest, "THREE");
  });
});

Deno.test("h2 client moves a large body through flow control", async () => {
  const size = 3 * 1024 * 1024;
  await withOrigin((stream) => {
    let n = 0;
    stream.on("data", (c: Uint8Array) => n += c.byteLength);
    stream.on("end", () => {
      stream.respond({ ":status": 200, "x-got": String(n) });
      const chunk = new Uint8Array(64 * 1024).fill(97);
      let sent = 0;
      const write = () => {
        while (sent < size) {
          sent += chunk.byteLength;
          if (!stream.write(chunk)) return void stream.once("drain", write);
        }
        stream.end();
      };
      write();
    });
  }, async (client, origin) => {
    const big = new Uint8Array(size).fill(98);
    const res = await client.request(origin.backend, {
      ...get("/big"),
      method: "PUT",
      body: new Blob([big]).stream(),
    });
    assert.equal(res.headers.get("x-got"), String(size));
    const got = new Uint8Array(await new Response(res.body).arrayBuffer());
    assert.equal(got.byteLength, size);
    assert.equal(got[size - 1], 97);
  });
});

Deno.test("h2 client runs concurrent streams on one session up to maxStreams", async () => {
  const held: ServerHttp2Stream[] = [];
  const all = Promise.withResolvers<void>();
  await withOrigin((stream) => {
    held.push(stream);
    if (held.length === 5) all.resolve();
  }, async (client, origin) => {
    const pending = Array.from({ length: 5 }, (_, i) => client.request(origin.backend, get(`/${i}`)));
    await all.promise;
    assert.equal(origin.sessionCount, 1);
    for (const s of held) {
      s.respond({ ":status": 200 });
      s.end(String(s.id));
    }
    const bodies = await Promise.all(pending.map(async (p) => text((await p).body)));
    assert.deepEqual(bodies.sort(), ["1", "3", "5", "7", "9"]);
    assert.equal(client.sessionCount, 1);
  }, { maxStreams: 10 });
});

Deno.test("h2 client opens another session when maxStreams are busy", async () => {
  const held: ServerHttp2Stream[] = [];
  const all = Promise.withResolvers<void>();
  await withOrigin((stream) => {
    held.push(stream);
    if (held.length === 3) all.resolve();
  }, async (client, origin) => {
    const pending = Array.from({ length: 3 }, (_, i) => client.request(origin.backend, get(`/${i}`)));
    await all.promise;
    assert.equal(origin.sessionCount, 2);
    for (const s of held) {
      s.respond({ ":status": 204 });
      s.end();
    }
    for (const p of pending) {
      const res = await p;
      assert.equal(res.status, 204);
      assert.equal(res.body, null);
    }
  }, { maxStreams: 2 });
});

Deno.test("h2 client respects the backend's SETTINGS_MAX_CONCURRENT_STREAMS", async () => {
  const held: ServerHttp2Stream[] = [];
  await withOrigin((stream) => {
    held.push(stream);
  }, async (client, origin) => {
    // Warm up so the session knows the backend's settings.
    const first = client.request(origin.backend, get("/warm"));
    while (held.length < 1) await delay(5);
    held[0]!.respond({ ":status": 200 });
    held[0]!.end();
    await text((await first).body);
    const pending = Array.from({ length: 2 }, (_, i) => client.request(origin.backend, get(`/${i}`)));
    while (held.length < 3) await delay(5);
    assert.equal(origin.sessionCount, 2);
    for (const s of held.slice(1)) {
      s.respond({ ":status": 200 });
      s.end();
    }
    for (const p of pending) await text((await p).body);
  }, { maxStreams: 10, settings: { maxConcurrentStreams: 1 } });
});

Deno.test("h2 client opens a new session after the origin closes the session", async () => {
  await withOrigin((stream, _h, session) => {
    stream.respond({ ":status": 200 });
    stream.end("ok");
    // Graceful close: GOAWAY, then the connection ends.
    session.close();
  }, async (client, origin) => {
    const a = await client.request(origin.backend, get("/a"));
    assert.equal(await text(a.body), "ok");
    for (let i = 0; i < 100 && origin.sessions.size > 0; i++) await delay(10);
    const b = await client.request(origin.backend, get("/b"));
    assert.equal(await text(b.body), "ok");
    assert.equal(b.reused, false);
    assert.equal(origin.sessionCount, 2);
  });
});

Deno.test("h2 client survives the origin destroying the connection between requests", async () => {
  await withOrigin((stream) => {
    stream.respond({ ":status": 200 });
    stream.end("ok");
  }, async (client, origin) => {
    const a = await client.request(origin.backend, get("/a"));
    assert.equal(await text(a.body), "ok");
    for (const s of origin.sessions) s.destroy();
    for (let i = 0; i < 100 && client.sessionCount > 0; i++) await delay(10);
    const b = await client.request(origin.backend, get("/b"));
    assert.equal(await text(b.body), "ok");
    assert.equal(origin.sessionCount, 2);
  });
});

Deno.test("h2 client retries a refused stream once", async () => {
  let n = 0;
  await withOrigin((stream) => {
    n++;
    if (n === 1) return stream.close(constants.NGHTTP2_REFUSED_STREAM);
    stream.respond({ ":status": 200 });
    stream.end("second");
  }, async (client, origin) => {
    const res = await client.request(origin.backend, get("/"));
    assert.equal(await text(res.body), "second");
    assert.equal(n, 2);
  });
});

Deno.test("h2 client gives up after a second refusal, and does not retry a request with a body", async () => {
  await withOrigin((stream) => {
    stream.close(constants.NGHTTP2_REFUSED_STREAM);
  }, async (client, origin) => {
    const e = await rejection(client.request(origin.backend, get("/")));
    assert.equal(e.kind, "connect");
    assert.equal(e.requestSent, false);
    assert.equal(origin.streams.length, 2);
    const withBody = await rejection(
      client.request(origin.backend, { ...get("/"), method: "POST", body: new Blob(["x"]).stream() }),
    );
    assert.equal(withBody.kind, "protocol");
    assert.equal(origin.streams.length, 3);
  });
});

Deno.test("h2 client maps a reset after the head to a body error", async () => {
  await withOrigin((stream) => {
    stream.respond({ ":status": 200 });
    stream.write("partial");
    // In Deno 2.9.6 a server stream's close(code) after data ends it cleanly; destroy() sends RST_STREAM.
    setTimeout(() => stream.destroy(new Error("origin failed")), 20);
  }, async (client, origin) => {
    const res = await client.request(origin.backend, get("/"));
    await assert.rejects(text(res.body), (e: unknown) => e instanceof UpstreamError && e.kind === "protocol");
    assert.deepEqual([...(await res.trailers!)], []);
  });
});

Deno.test("h2 client aborts a waiting request with RST_STREAM CANCEL", async () => {
  const closed = Promise.withResolvers<number>();
  await withOrigin((stream) => {
    stream.on("close", () => closed.resolve(stream.rstCode));
  }, async (client, origin) => {
    const ac = new AbortController();
    const p = client.request(origin.backend, get("/slow", { watch: ac.signal }));
    while (origin.streams.length === 0) await delay(5);
    ac.abort();
    const e = await rejection(p);
    assert.equal(e.kind, "aborted");
    assert.equal(await closed.promise, constants.NGHTTP2_CANCEL);
    // The session stays usable.
    assert.equal(client.sessionCount, 1);
  });
});

Deno.test("h2 client aborts while the body streams", async () => {
  const closed = Promise.withResolvers<number>();
  await withOrigin((stream) => {
    stream.on("close", () => closed.resolve(stream.rstCode));
    stream.respond({ ":status": 200 });
    stream.write("first");
  }, async (client, origin) => {
    const ac = new AbortController();
    const res = await client.request(origin.backend, get("/", { watch: ac.signal }));
    const reader = res.body!.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), "first");
    ac.abort();
    await assert.rejects(reader.read(), (e: unknown) => e instanceof UpstreamError && e.kind === "aborted");
    assert.equal(await closed.promise, constants.NGHTTP2_CANCEL);
  });
});

Deno.test("h2 client cancels the stream when the consumer cancels the body", async () => {
  const closed = Promise.withResolvers<number>();
  await withOrigin((stream) => {
    stream.on("close", () => closed.resolve(stream.rstCode));
    stream.respond({ ":status": 200 });
    stream.write("first");
  }, async (client, origin) => {
    const res = await client.request(origin.backend, get("/"));
    await res.body!.cancel();
    assert.equal(await closed.promise, constants.NGHTTP2_CANCEL);
  });
});

Deno.test("h2 client read timeout fires while waiting for the head", async () => {
  await withOrigin(() => {}, async (client, origin) => {
    const started = performance.now();
    const e = await rejection(client.request(origin.backend, get("/")));
    assert.equal(e.kind, "timeout");
    assert.equal(e.requestSent, true);
    assert.ok(performance.now() - started >= 90);
  }, { options: { readTimeout: 100 } });
});

Deno.test("h2 client read timeout fires on an idle body", async () => {
  await withOrigin((stream) => {
    stream.respond({ ":status": 200 });
    stream.write("a");
  }, async (client, origin) => {
    const res = await client.request(origin.backend, get("/"));
    await assert.rejects(text(res.body), (e: unknown) => e instanceof UpstreamError && e.kind === "timeout");
  }, { options: { readTimeout: 100 } });
});

Deno.test("h2 client fails a failing request body with aborted and its cause", async () => {
  await withOrigin((stream) => {
    stream.resume();
  }, async (client, origin) => {
    const cause = new Error("body broke");
    let n = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (n++ === 0) c.enqueue(encoder.encode("a"));
        else c.error(cause);
      },
    });
    const e = await rejection(client.request(origin.backend, { ...get("/"), method: "POST", body }));
    assert.equal(e.kind, "aborted");
    assert.equal(e.cause, cause);
  });
});

Deno.test("h2 client reports a refused connection as connect, not sent", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const client = createH2Client(options(), 10);
  try {
    const e = await rejection(client.request(backendAt(port), get("/")));
    assert.equal(e.kind, "connect");
    assert.equal(e.requestSent, false);
  } finally {
    client.close();
  }
});

Deno.test("h2 client connect timeout", async () => {
  // A listener whose accept queue is never drained still completes TCP handshakes, so use TLS that never answers.
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const c of l) conns.push(c);
    } catch {
      // closed
    }
  })();
  const client = createH2Client(options({ tls: true, sni: "origin.test", totalConnectionTimeout: 100 }), 10);
  try {
    const e = await rejection(client.request(backendAt((l.addr as Deno.NetAddr).port), get("/")));
    assert.equal(e.kind, "timeout");
    assert.equal(e.requestSent, false);
  } finally {
    client.close();
    l.close();
    await accepting;
    for (const c of conns) c.close();
  }
});

Deno.test("h2 client speaks TLS with ALPN h2, SNI and a private CA", async () => {
  let authority: string | undefined;
  await withOrigin((stream, headers) => {
    authority = headers[":authority"] as string;
    stream.respond({ ":status": 200 }, { waitForTrailers: true });
    stream.on("wantTrailers", () => stream.sendTrailers({ "x-t": "tls" }));
    stream.end(String(headers[":scheme"]));
  }, async (client, origin) => {
    const res = await client.request(origin.backend, get("/"));
    assert.equal(await text(res.body), "https");
    assert.equal((await res.trailers!).get("x-t"), "tls");
    assert.equal(authority, "origin.test");
  }, { tls: true, options: { tls: true, sni: "origin.test" }, caCerts: [TEST_CA_CERT] });
});

Deno.test("h2 client rejects an unknown certificate unless verify_cert is off", async () => {
  await withOrigin((stream) => {
    stream.respond({ ":status": 200 });
    stream.end("ok");
  }, async (_client, origin) => {
    const strict = createH2Client(options({ tls: true, sni: "origin.test" }), 10);
    const lax = createH2Client(options({ tls: true, sni: "origin.test", verifyCert: false }), 10);
    try {
      const e = await rejection(strict.request(origin.backend, get("/")));
      assert.equal(e.kind, "connect");
      const res = await lax.request(origin.backend, get("/"));
      assert.equal(await text(res.body), "ok");
    } finally {
      strict.close();
      lax.close();
    }
  }, { tls: true });
});

for (
  const [what, alpn, message] of [
    // rustls on the server side refuses the handshake (no common protocol).
    ["offers only http/1.1", ["http/1.1"], /NoApplicationProtocol/],
    // A server that ignores ALPN completes the handshake; our check refuses it.
    ["does no ALPN", undefined, /did not choose h2 in ALPN/],
  ] as const
) {
  Deno.test(`h2 client fails the connect when the backend ${what}`, async () => {
    const l = Deno.listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert: TEST_LEAF_CERT,
      key: TEST_LEAF_KEY,
      ...(alpn ? { alpnProtocols: [...alpn] } : {}),
    });
    const conns: Deno.TlsConn[] = [];
    const accepting = (async () => {
      try {
        for await (const c of l) {
          conns.push(c);
          c.handshake().catch(() => {});
        }
      } catch {
        // closed
      }
    })();
    const client = createH2Client(options({ tls: true, sni: "origin.test" }), 10, { caCerts: [TEST_CA_CERT] });
    try {
      const e = await rejection(client.request(backendAt((l.addr as Deno.NetAddr).port), get("/")));
      assert.equal(e.kind, "connect");
      assert.equal(e.requestSent, false);
      assert.match(e.message, message);
    } finally {
      client.close();
      l.close();
      await accepting;
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // closed
        }
      }
    }
  });
}

Deno.test("h2 client closes idle sessions after idleTimeout, and prune closes removed backends", async () => {
  await withOrigin((stream) => {
    stream.respond({ ":status": 200 });
    stream.end("ok");
  }, async (client, origin) => {
    await text((await client.request(origin.backend, get("/"))).body);
    assert.equal(client.sessionCount, 1);
    for (let i = 0; i < 100 && client.sessionCount > 0; i++) await delay(10);
    assert.equal(client.sessionCount, 0);
  }, { options: { idleTimeout: 50 } });
  await withOrigin((stream) => {
    stream.respond({ ":status": 200 });
    stream.end("ok");
  }, async (client, origin) => {
    await text((await client.request(origin.backend, get("/"))).body);
    client.prune(new Set([origin.backend.addr]));
    assert.equal(client.sessionCount, 1);
    client.prune(new Set());
    for (let i = 0; i < 100 && client.sessionCount > 0; i++) await delay(10);
    assert.equal(client.sessionCount, 0);
  });
});

Deno.test("h2 client HEAD and 304 answers have no body", async () => {
  await withOrigin((stream, headers) => {
    stream.respond({ ":status": headers[":method"] === "HEAD" ? 200 : 304, "content-length": "5" });
    stream.end();
  }, async (client, origin) => {
    const head = await client.request(origin.backend, { ...get("/"), method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.body, null);
    assert.equal(head.headers.get("content-length"), "5");
    const nm = await client.request(origin.backend, get("/"));
    assert.equal(nm.status, 304);
    assert.equal(nm.body, null);
    await nm.trailers;
  });
});

Deno.test("h2 client rejects requests once closed", async () => {
  const client = createH2Client(options(), 1);
  client.close();
  const e = await rejection(client.request(backendAt(1), get("/")));
  assert.equal(e.kind, "connect");
  assert.equal(e.requestSent, false);
});

Deno.test("h2 client talks h2c to a Deno.serve origin (hyper)", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = req.body ? await req.text() : "";
    return new Response(`${req.method} ${new URL(req.url).pathname} ${body}`, { headers: { "x-o": "deno" } });
  });
  const client = createH2Client(options(), 10);
  try {
    const backend = backendAt(server.addr.port);
    const a = await client.request(backend, get("/a"));
    assert.equal(a.status, 200);
    assert.equal(a.headers.get("x-o"), "deno");
    assert.equal(await text(a.body), "GET /a ");
    assert.deepEqual([...(await a.trailers!)], []);
    const b = await client.request(backend, { ...get("/b"), method: "POST", body: new Blob(["payload"]).stream() });
    assert.equal(await text(b.body), "POST /b payload");
    assert.equal(b.reused, true);
  } finally {
    client.close();
    await server.shutdown();
  }
});
