/**
 * `UpstreamClient.drain`: a retired client (a reload replaced its upstream)
 * takes no new request, but a response still streaming keeps its
 * connection until its body ends; past the grace period what is left is
 * cut. HTTP/1.1 against a Deno.serve origin, HTTP/2 (h2c) against a
 * node:http2 origin.
 */
import assert from "node:assert/strict";
import { createServer, type Http2Session, type ServerHttp2Stream } from "node:http2";
import { createHttp1Client } from "./http1/client.ts";
import { createH2Client } from "./h2/client.ts";
import { backendAt, delay, get, options, rejection } from "./_test_utils.ts";
import type { Backend, UpstreamClient } from "./types.ts";

const encoder = new TextEncoder();

/** Reads `body` to its end; resolves with the text, or rejects with what cut it. */
async function readAll(body: ReadableStream<Uint8Array> | null): Promise<string> {
  assert.ok(body);
  let out = "";
  const decoder = new TextDecoder();
  for await (const part of body) out += decoder.decode(part, { stream: true });
  return out;
}

/** A Deno.serve origin answering `/slow` with `parts` chunks, one every 50 ms (forever with Infinity). */
async function http1Origin(parts: number): Promise<{ backend: Backend; close(): Promise<void> }> {
  const ready = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: (a) => ready.resolve(a) }, () => {
    let i = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    return new Response(
      new ReadableStream<Uint8Array>({
        pull: (c) =>
          new Promise<void>((resolve) => {
            timer = setTimeout(() => {
              if (i === parts) c.close();
              else c.enqueue(encoder.encode(`${i++};`));
              resolve();
            }, 50);
          }),
        cancel: () => clearTimeout(timer),
      }),
    );
  });
  const addr = await ready.promise;
  return {
    backend: backendAt(addr.port),
    async close() {
      await server.shutdown();
    },
  };
}

/** A node:http2 h2c origin streaming `parts` chunks, one every 50 ms. */
async function h2Origin(parts: number): Promise<{ backend: Backend; close(): Promise<void> }> {
  const sessions = new Set<Http2Session>();
  const server = createServer();
  server.on("session", (s: Http2Session) => {
    sessions.add(s);
    s.on("error", () => {});
    s.once("close", () => sessions.delete(s));
  });
  server.on("stream", (stream: ServerHttp2Stream) => {
    stream.on("error", () => {});
    stream.respond({ ":status": 200 });
    let i = 0;
    const timer = setInterval(() => {
      if (stream.destroyed) return clearInterval(timer);
      if (i === parts) {
        clearInterval(timer);
        stream.end();
      } else stream.write(`${i++};`);
    }, 50);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    backend: backendAt((server.address() as { port: number }).port),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sessions) s.destroy();
      await closed;
    },
  };
}

const WHOLE = Array.from({ length: 10 }, (_, i) => `${i};`).join("");

for (
  const [kind, start, client] of [
    ["http1", http1Origin, () => createHttp1Client(options())],
    ["h2", h2Origin, () => createH2Client(options(), 4)],
  ] as const
) {
  Deno.test(`drain (${kind}): a streaming response ends whole, a new request is refused, then it resolves`, async () => {
    const origin = await start(10);
    const c: UpstreamClient = client();
    try {
      const res = await c.request(origin.backend, get("/slow"));
      const body = readAll(res.body);
      let drained = false;
      const draining = c.drain!(10_000).then(() => void (drained = true));
      const refused = await rejection(c.request(origin.backend, get("/next")));
      assert.equal(refused.kind, "connect", "a drained client takes no new request");
      await delay(100);
      assert.equal(drained, false, "not drained while the body streams");
      assert.equal(await body, WHOLE, "the body arrives whole");
      await draining;
    } finally {
      c.close();
      await origin.close();
    }
  });

  Deno.test(`drain (${kind}): past the grace period a response still streaming is cut`, async () => {
    const origin = await start(1_000);
    const c: UpstreamClient = client();
    try {
      const res = await c.request(origin.backend, get("/slow"));
      const body = readAll(res.body).then(() => "ended", () => "cut");
      await c.drain!(200);
      assert.equal(await body, "cut");
    } finally {
      c.close();
      await origin.close();
    }
  });

  Deno.test(`drain (${kind}): close() while draining cuts at once and settles the drain`, async () => {
    const origin = await start(1_000);
    const c: UpstreamClient = client();
    try {
      const res = await c.request(origin.backend, get("/slow"));
      const body = readAll(res.body).then(() => "ended", () => "cut");
      const draining = c.drain!(60_000);
      c.close();
      await draining;
      assert.equal(await body, "cut");
    } finally {
      c.close();
      await origin.close();
    }
  });
}
