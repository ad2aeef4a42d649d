/**
 * The HTTP/2 engine (engine.ts) on its own: h2c connections accepted by a bare `Deno.listen` and handed whole to
 * {@linkcode H2Engine.serveStream}, as the HTTP/1.1 engine hands them after reading the preface.
 *
 * @module
 */
import assert from "node:assert/strict";
import { connect, constants, type IncomingHttpHeaders } from "node:http2";
import { createH2Engine, type H2Engine, type H2EngineOptions, type H2Handler } from "./engine.ts";
import { fromFetchResponse } from "../../http/fetch_adapter.ts";
import { requireComponent } from "../../../tests/components.ts";

const decoder = new TextDecoder();

/** Echoes method, url, host and body, with trailers `x-sum` (body length) and `grpc-status`. */
const echo: H2Handler = async (req, client) => {
  const body = req.body ? await new Response(req.body).text() : "";
  const res = new Response(`${req.method} ${req.url} host=${req.headers.get("host")} body=${body}`, {
    status: 200,
    headers: { "x-remote": client.hostname, "set-cookie": "a=1" },
  });
  res.headers.append("set-cookie", "b=2");
  return fromFetchResponse(res, Promise.resolve(new Headers({ "x-sum": String(body.length), "grpc-status": "0" })));
};

/** An engine fed by a `Deno.listen` on loopback. */
interface Served {
  readonly engine: H2Engine;
  readonly port: number;
  /** Stops accepting. */
  close(): void;
}

function serveEngine(handler: H2Handler, options: Partial<H2EngineOptions> = {}): Served {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  const engine = createH2Engine({ authority: () => `127.0.0.1:${port}`, ...options }, handler);
  (async () => {
    for await (const c of l) {
      const peer = c.remoteAddr as Deno.NetAddr;
      void engine.serveStream(c, new Uint8Array(0), { hostname: peer.hostname, port: peer.port });
    }
  })().catch(() => {});
  return { engine, port, close: () => l.close() };
}

async function withListener(handler: H2Handler, fn: (l: { addr: { port: number } }, base: string) => Promise<void>) {
  const s = serveEngine(handler);
  try {
    await fn({ addr: { port: s.port } }, `http://127.0.0.1:${s.port}`);
  } finally {
    s.close();
    await s.engine.shutdown(1000);
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
      console.warn("\n!!! curl is not installed: the curl checks of h2_engine_test.ts are SKIPPED !!!\n");
      return undefined;
    }
    throw error;
  }
}

Deno.test("h2 engine serves h2c prior knowledge with streamed body and trailers", async () => {
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

Deno.test("h2 engine with curl: h2 prior knowledge with trailers", async () => {
  await withListener(echo, async (_l, base) => {
    const h2 = await curl(["-sv", "--http2-prior-knowledge", "--data-binary", "xyz", `${base}/c`]);
    if (h2 === undefined) return;
    assert.equal(h2.code, 0, h2.stderr);
    assert.match(h2.stdout, /^POST .*\/c host=.* body=xyz$/);
    assert.match(h2.stderr, /< HTTP\/2 200/);
    assert.match(h2.stderr, /< x-sum: 3/);
    assert.match(h2.stderr, /< grpc-status: 0/);
  });
});

Deno.test("h2 engine sends no trailers when the response has none, and empty trailers cleanly", async () => {
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
  });
});

Deno.test("h2 engine: HEAD, 204 and 304 send no body", async () => {
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
    const nm = await h2request(base, { ":path": "/304" });
    assert.equal(nm.headers[":status"], 304);
    assert.equal(nm.body, "");
  });
});

Deno.test("h2 engine aborts the request signal when the h2 client resets the stream", async () => {
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

Deno.test("h2 engine resets the h2 stream when the response body fails", async () => {
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
  });
});

Deno.test("h2 engine turns a handler exception into onError's answer", async () => {
  const l = serveEngine(() => {
    throw new Error("boom");
  }, { onError: () => fromFetchResponse(new Response("oops", { status: 503 })) });
  try {
    const r = await h2request(`http://127.0.0.1:${l.port}`, { ":path": "/" });
    assert.equal(r.headers[":status"], 503);
    assert.equal(r.body, "oops");
  } finally {
    l.close();
    await l.engine.shutdown();
  }
});

Deno.test("h2 engine shutdown sends GOAWAY, lets in-flight streams finish, then closes", async () => {
  const release = Promise.withResolvers<void>();
  const started = Promise.withResolvers<void>();
  const l = serveEngine(async () => {
    started.resolve();
    await release.promise;
    return fromFetchResponse(new Response("late"));
  });
  const base = `http://127.0.0.1:${l.port}`;
  const session = connect(base);
  session.on("error", () => {});
  const goaway = new Promise<void>((resolve) => session.once("goaway", () => resolve()));
  const stream = session.request({ ":path": "/" }, { endStream: true });
  stream.setEncoding("utf8");
  let body = "";
  stream.on("data", (d: string) => body += d);
  const closed = new Promise((resolve) => stream.once("close", resolve));
  await started.promise;
  const down = l.engine.shutdown(5000);
  await goaway;
  assert.equal(l.engine.sessions, 1, "the session stays while its stream is open");
  release.resolve();
  await closed;
  assert.equal(body, "late");
  await down;
  assert.equal(l.engine.sessions, 0);
  l.close();
  session.destroy();
});

Deno.test("h2 engine keeps a gRPC trailers-only answer as one HEADERS frame with END_STREAM", async () => {
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

Deno.test("h2 engine sends gRPC trailers after the messages", async () => {
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

const h2load = await requireComponent("h2load", { binaries: ["h2load"], aptPackages: ["nghttp2-client"] });

Deno.test({
  name:
    "h2 engine: h2load on h2c through serveStream gets every answer and the process lives (small and 4 MiB answers)",
  ignore: !h2load,
  async fn() {
    const big = new Uint8Array(4 << 20);
    const l = serveEngine((req) => fromFetchResponse(new Response(new URL(req.url).pathname === "/big" ? big : "hi")));
    try {
      for (
        const [path, args] of [
          ["/", ["-n", "5000", "-c", "10", "-m", "5"]],
          // Windows of 1 GiB: node:http2 may send far more than the connection can take at once.
          ["/big", ["-n", "40", "-c", "4", "-m", "4", "-w", "30", "-W", "30"]],
        ] as const
      ) {
        const out = await new Deno.Command(h2load!.h2load, {
          args: [...args, `http://127.0.0.1:${l.port}${path}`],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const text = decoder.decode(out.stdout);
        assert.match(text, new RegExp(`${args[1]} succeeded`), text);
      }
    } finally {
      l.close();
      await l.engine.shutdown(1000);
    }
  },
});
