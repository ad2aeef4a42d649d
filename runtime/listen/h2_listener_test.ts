import assert from "node:assert/strict";
import { connect, constants, type IncomingHttpHeaders } from "node:http2";
import { type H2cHandler, type H2cListener, listenH2c } from "./h2_listener.ts";
import { fromFetchResponse } from "../http/fetch_adapter.ts";

const decoder = new TextDecoder();

/** Echoes method, url, host and body, with trailers `x-sum` (body length) and `grpc-status`. */
const echo: H2cHandler = async (req, info) => {
  const body = req.body ? await req.text() : "";
  const res = new Response(`${req.method} ${req.url} host=${req.headers.get("host")} body=${body}`, {
    status: 200,
    headers: { "x-remote": info.remoteAddr.hostname, "set-cookie": "a=1" },
  });
  res.headers.append("set-cookie", "b=2");
  return fromFetchResponse(res, Promise.resolve(new Headers({ "x-sum": String(body.length), "grpc-status": "0" })));
};

async function withListener(handler: H2cHandler, fn: (l: H2cListener, base: string) => Promise<void>): Promise<void> {
  const l = await listenH2c({ hostname: "127.0.0.1", port: 0 }, handler);
  try {
    await fn(l, `http://127.0.0.1:${l.addr.port}`);
  } finally {
    await l.shutdown(1000);
  }
}

interface H2Result {
  headers: IncomingHttpHeaders;
  body: string;
  trailers: IncomingHttpHeaders | undefined;
  rstCode: number | undefined;
}

/** One request over a fresh h2c (prior knowledge) session from node:http2. */
async function h2request(
  base: string,
  headers: Record<string, string>,
  body?: string[],
): Promise<H2Result> {
  const session = connect(base);
  session.on("error", () => {});
  try {
    const stream = session.request(headers, { endStream: body === undefined });
    stream.on("error", () => {});
    const result: H2Result = { headers: {}, body: "", trailers: undefined, rstCode: undefined };
    stream.on("response", (h) => result.headers = h);
    stream.on("trailers", (t) => result.trailers = t);
    stream.setEncoding("utf8");
    stream.on("data", (d: string) => result.body += d);
    if (body !== undefined) {
      for (const piece of body) stream.write(piece);
      stream.end();
    }
    await new Promise((resolve) => stream.once("close", resolve));
    result.rstCode = stream.rstCode;
    return result;
  } finally {
    session.destroy();
  }
}

async function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string } | undefined> {
  try {
    const out = await new Deno.Command("curl", { args, stdout: "piped", stderr: "piped" }).output();
    return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      console.warn("\n!!! curl is not installed: the curl checks of h2_listener_test.ts are SKIPPED !!!\n");
      return undefined;
    }
    throw error;
  }
}

Deno.test("listenH2c serves h2c prior knowledge with streamed body and trailers", async () => {
  await withListener(echo, async (l, base) => {
    const r = await h2request(base, { ":method": "POST", ":path": "/p?q=1", "content-type": "text/plain" }, [
      "ab",
      "cd",
    ]);
    assert.equal(r.headers[":status"], 200);
    assert.equal(r.headers["x-remote"], "127.0.0.1");
    assert.deepEqual(r.headers["set-cookie"], ["a=1", "b=2"]);
    assert.equal(r.body, `POST http://127.0.0.1:${l.addr.port}/p?q=1 host=127.0.0.1:${l.addr.port} body=abcd`);
    assert.equal(r.trailers?.["x-sum"], "4");
    assert.equal(r.trailers?.["grpc-status"], "0");
    assert.equal(r.rstCode, constants.NGHTTP2_NO_ERROR);
  });
});

Deno.test("listenH2c serves HTTP/1.1 on the same port", async () => {
  await withListener(echo, async (l, base) => {
    const get = await fetch(`${base}/a`);
    assert.equal(get.status, 200);
    assert.deepEqual(get.headers.getSetCookie(), ["a=1", "b=2"]);
    assert.equal(await get.text(), `GET http://127.0.0.1:${l.addr.port}/a host=127.0.0.1:${l.addr.port} body=`);
    const post = await fetch(`${base}/b`, { method: "POST", body: "hello" });
    assert.equal(await post.text(), `POST http://127.0.0.1:${l.addr.port}/b host=127.0.0.1:${l.addr.port} body=hello`);
    const streamed = await fetch(`${base}/c`, {
      method: "PUT",
      body: new Blob(["x".repeat(200_000)]).stream(),
    });
    assert.match(await streamed.text(), /body=x{200000}$/);
  });
});

Deno.test("listenH2c with curl: h2 prior knowledge and HTTP/1.1 chunked trailers", async () => {
  await withListener(echo, async (_l, base) => {
    const h2 = await curl(["-sv", "--http2-prior-knowledge", "--data-binary", "xyz", `${base}/c`]);
    if (h2 === undefined) return;
    assert.equal(h2.code, 0, h2.stderr);
    assert.match(h2.stdout, /^POST .*\/c host=.* body=xyz$/);
    assert.match(h2.stderr, /< HTTP\/2 200/);
    assert.match(h2.stderr, /< x-sum: 3/);
    assert.match(h2.stderr, /< grpc-status: 0/);
    const h1 = await curl(["-s", "--raw", "--http1.1", `${base}/d`]);
    assert.ok(h1);
    assert.equal(h1.code, 0, h1.stderr);
    // Chunked body, then the trailers after the last chunk.
    assert.match(h1.stdout, /\r\n0\r\n(x-sum: 0\r\ngrpc-status: 0|grpc-status: 0\r\nx-sum: 0)\r\n\r\n$/i);
    // curl --http2 on a plain URL asks for an h2c upgrade: ignored, served as HTTP/1.1.
    const upgrade = await curl(["-s", "--http2", `${base}/e`]);
    assert.ok(upgrade);
    assert.equal(upgrade.code, 0);
    assert.match(upgrade.stdout, /^GET .*\/e/);
  });
});

Deno.test("listenH2c sends no trailers when the response has none, and empty trailers cleanly", async () => {
  await withListener((req) => {
    const res = new Response("plain");
    return fromFetchResponse(
      res,
      new URL(req.url).pathname === "/empty" ? Promise.resolve(new Headers()) : undefined,
    );
  }, async (_l, base) => {
    const a = await h2request(base, { ":path": "/none" });
    assert.equal(a.body, "plain");
    assert.equal(a.trailers, undefined);
    assert.equal(a.rstCode, constants.NGHTTP2_NO_ERROR);
    const b = await h2request(base, { ":path": "/empty" });
    assert.equal(b.body, "plain");
    assert.equal(b.rstCode, constants.NGHTTP2_NO_ERROR);
    const c = await curl(["-s", "--http2-prior-knowledge", `${base}/empty`]);
    if (c) {
      assert.equal(c.code, 0, c.stderr);
      assert.equal(c.stdout, "plain");
    }
    const h1 = await fetch(`${base}/empty`);
    assert.equal(await h1.text(), "plain");
  });
});

Deno.test("listenH2c: HEAD, 204 and 304 send no body", async () => {
  await withListener((req) => {
    const path = new URL(req.url).pathname;
    if (path === "/204") return fromFetchResponse(new Response(null, { status: 204 }));
    if (path === "/304") return fromFetchResponse(new Response(null, { status: 304 }));
    return fromFetchResponse(new Response("body", { headers: { "x-h": "1" } }));
  }, async (_l, base) => {
    const head = await h2request(base, { ":method": "HEAD", ":path": "/" });
    assert.equal(head.headers[":status"], 200);
    assert.equal(head.body, "");
    const nc = await h2request(base, { ":path": "/204" });
    assert.equal(nc.headers[":status"], 204);
    const h1 = await fetch(`${base}/304`);
    assert.equal(h1.status, 304);
    await h1.body?.cancel();
    const h1head = await fetch(`${base}/`, { method: "HEAD" });
    assert.equal(h1head.headers.get("x-h"), "1");
    assert.equal(await h1head.text(), "");
  });
});

Deno.test("listenH2c aborts the request signal when the h2 client resets the stream", async () => {
  const aborted = Promise.withResolvers<void>();
  await withListener((req) => {
    req.signal.addEventListener("abort", () => aborted.resolve());
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode("first"));
      },
    });
    return fromFetchResponse(new Response(body));
  }, async (_l, base) => {
    const session = connect(base);
    session.on("error", () => {});
    const stream = session.request({ ":path": "/" }, { endStream: true });
    stream.on("error", () => {});
    await new Promise((resolve) => stream.once("data", resolve));
    stream.close(constants.NGHTTP2_CANCEL);
    await aborted.promise;
    session.destroy();
  });
});

Deno.test("listenH2c resets the h2 stream and cuts HTTP/1.1 when the response body fails", async () => {
  await withListener(() => {
    let n = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (n++ === 0) c.enqueue(new TextEncoder().encode("partial"));
        else {
          await new Promise((r) => setTimeout(r, 10));
          c.error(new Error("upstream broke"));
        }
      },
    });
    return fromFetchResponse(new Response(body));
  }, async (_l, base) => {
    const r = await h2request(base, { ":path": "/" });
    assert.equal(r.body, "partial");
    assert.notEqual(r.rstCode, constants.NGHTTP2_NO_ERROR);
    const res = await fetch(base);
    await assert.rejects(res.text());
  });
});

Deno.test("listenH2c answers a WebSocket upgrade with 501", async () => {
  await withListener(echo, async (_l, base) => {
    const res = await fetch(base, { headers: { upgrade: "websocket", connection: "upgrade" } });
    assert.equal(res.status, 501);
    await res.body?.cancel();
  });
});

Deno.test("listenH2c turns a handler exception into 500", async () => {
  const l = await listenH2c(
    { hostname: "127.0.0.1", port: 0, onError: () => fromFetchResponse(new Response("oops", { status: 503 })) },
    () => {
      throw new Error("boom");
    },
  );
  try {
    const res = await fetch(`http://127.0.0.1:${l.addr.port}/`);
    assert.equal(res.status, 503);
    assert.equal(await res.text(), "oops");
  } finally {
    await l.shutdown();
  }
});

Deno.test("listenH2c shutdown lets in-flight requests finish, then refuses connections", async () => {
  const release = Promise.withResolvers<void>();
  const started = Promise.withResolvers<void>();
  const l = await listenH2c({ hostname: "127.0.0.1", port: 0 }, async () => {
    started.resolve();
    await release.promise;
    return fromFetchResponse(new Response("late"));
  });
  const base = `http://127.0.0.1:${l.addr.port}`;
  const h2 = h2request(base, { ":path": "/" });
  const h1 = fetch(base).then((r) => r.text());
  await started.promise;
  await new Promise((r) => setTimeout(r, 50));
  const down = l.shutdown(5000);
  await new Promise((r) => setTimeout(r, 20));
  await assert.rejects(fetch(base));
  release.resolve();
  assert.equal((await h2).body, "late");
  assert.equal(await h1, "late");
  await down;
});

Deno.test("listenH2c keeps a gRPC trailers-only answer as one HEADERS frame with END_STREAM", async () => {
  await withListener(() => {
    // What the h2 upstream client yields for a trailers-only answer: status in the head, empty body and trailers.
    const res = new Response(new ReadableStream({ start: (c) => c.close() }), {
      headers: { "content-type": "application/grpc", "grpc-status": "5", "grpc-message": "missing" },
    });
    return fromFetchResponse(res, Promise.resolve(new Headers()));
  }, async (_l, base) => {
    const r = await h2request(base, { ":method": "POST", ":path": "/svc/M", "content-type": "application/grpc" }, []);
    assert.equal(r.headers["grpc-status"], "5");
    assert.equal(r.headers["grpc-message"], "missing");
    assert.equal(r.trailers, undefined);
    assert.equal(r.body, "");
    assert.equal(r.rstCode, constants.NGHTTP2_NO_ERROR);
  });
});

Deno.test("listenH2c sends gRPC trailers after the messages", async () => {
  await withListener(() => {
    const res = new Response("\u0000\u0000\u0000\u0000\u0002{}", { headers: { "content-type": "application/grpc" } });
    return fromFetchResponse(res, Promise.resolve(new Headers({ "grpc-status": "0" })));
  }, async (_l, base) => {
    const r = await h2request(base, { ":method": "POST", ":path": "/svc/M", "content-type": "application/grpc" }, []);
    assert.equal(r.headers["grpc-status"], undefined);
    assert.equal(r.body.length, 7);
    assert.equal(r.trailers?.["grpc-status"], "0");
  });
});

Deno.test("listenH2c keeps HTTP/1.1 connections alive across requests", async () => {
  await withListener(echo, async (l) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: l.addr.port });
    try {
      const buf = new Uint8Array(64 * 1024);
      for (let i = 0; i < 3; i++) {
        await conn.write(new TextEncoder().encode(`GET /k${i} HTTP/1.1\r\nHost: k\r\n\r\n`));
        let got = "";
        // Chunked (trailers follow the body): read up to the blank line after the trailers.
        while (!got.includes("\r\n0\r\n") || !got.endsWith("\r\n\r\n")) {
          const n = await conn.read(buf);
          assert.notEqual(n, null, `connection closed after ${i} responses`);
          got += decoder.decode(buf.subarray(0, n!));
        }
        assert.match(got, /^HTTP\/1\.1 200 /);
        assert.match(got, new RegExp(`GET http://k/k${i} host=k body=`));
      }
    } finally {
      conn.close();
    }
  });
});

/** Sends `bytes` on a new connection and reads until the listener closes it (at most 10 s). */
async function rawH1(port: number, bytes: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => conn.close(), 10_000);
  let got = "";
  try {
    await conn.write(new TextEncoder().encode(bytes));
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      got += decoder.decode(buf.subarray(0, n));
    }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed */ }
  }
  return got;
}

Deno.test("listenH2c (HTTP/1.1) refuses a GET body, two Hosts, no Host and a Host that holds a path; none reaches the handler", async () => {
  const seen: string[] = [];
  const handler: H2cHandler = (req) => {
    seen.push(`${req.method} ${req.url}`);
    return fromFetchResponse(new Response("ok"));
  };
  await withListener(handler, async (l) => {
    const cases = [
      "GET / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
      "GET / HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\nConnection: close\r\n\r\n",
      "GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
      "GET /x HTTP/1.1\r\nHost: a.test/admin?\r\nConnection: close\r\n\r\n",
      "GET /x HTTP/1.1\r\nHost: u@a.test\r\nConnection: close\r\n\r\n",
    ];
    for (const c of cases) assert.match(await rawH1(l.addr.port, c), /^HTTP\/1\.1 400 /, JSON.stringify(c));
    assert.deepEqual(seen, []);
    // Still served: a plain request, and an absolute-form one, whose host wins over Host.
    assert.match(
      await rawH1(l.addr.port, "GET /x HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n"),
      /^HTTP\/1\.1 200 /,
    );
    const abs = "GET http://b.test/y HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n";
    assert.match(await rawH1(l.addr.port, abs), /^HTTP\/1\.1 200 /);
    assert.deepEqual(seen, ["GET http://a.test/x", "GET http://b.test/y"]);
  });
});

Deno.test("listenH2c (HTTP/1.1) hands pipelined requests to the handler in order, one at a time", async () => {
  const seen: string[] = [];
  let inFlight = 0;
  let most = 0;
  const handler: H2cHandler = async (req) => {
    inFlight++;
    most = Math.max(most, inFlight);
    const path = new URL(req.url).pathname;
    seen.push(path);
    // The first takes longest: a handler run at once for each would record them out of order.
    await new Promise((r) => setTimeout(r, path === "/1" ? 300 : 10));
    inFlight--;
    return fromFetchResponse(new Response(path));
  };
  await withListener(handler, async (l) => {
    let bytes = "";
    for (let i = 1; i <= 5; i++) {
      bytes += `GET /${i} HTTP/1.1\r\nHost: a.test\r\n${i === 5 ? "Connection: close\r\n" : ""}\r\n`;
    }
    const got = await rawH1(l.addr.port, bytes);
    assert.deepEqual(seen, ["/1", "/2", "/3", "/4", "/5"]);
    assert.equal(most, 1);
    assert.deepEqual([...got.matchAll(/\r\n(\/\d)\r\n/g)].map((m) => m[1]), ["/1", "/2", "/3", "/4", "/5"]);
  });
});
