/**
 * gRPC-Web end to end, raw: a real `@grpc/grpc-js` server (h2c) behind the proxy (`modules = ["grpc-web"]`, a
 * `grpc_web` location, `alpn = "H2"`), and `fetch` sending gRPC-Web by hand over HTTP/1.1, reading the body's frames:
 * the message frames, then the trailer frame with the status and the origin's trailers; in binary and text mode, unary
 * and server streaming, an error status (which grpc-js sends trailers-only), and a streamed message read before the
 * server writes the next one.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type EchoReply, startGrpcOrigin } from "../_support/grpc_echo.ts";
import { startTestProxy, type TestProxy } from "../_support/proxy.ts";
import { Base64Decoder } from "../../runtime/proxy/grpc_web_codec.ts";

/** One gRPC-Web frame: a message (flag 0) or the trailers (flag 0x80) as `name → value`. */
type Frame = { readonly kind: "message"; readonly json: unknown } | {
  readonly kind: "trailers";
  readonly fields: Record<string, string>;
};

function messageFrame(value: unknown): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  const out = new Uint8Array(5 + bytes.byteLength);
  new DataView(out.buffer).setUint32(1, bytes.byteLength);
  out.set(bytes, 5);
  return out;
}

/** Splits a whole gRPC-Web body into frames; fails on a cut frame. */
function parseFrames(body: Uint8Array): Frame[] {
  const frames: Frame[] = [];
  let at = 0;
  while (at < body.byteLength) {
    assert.ok(at + 5 <= body.byteLength, "a whole frame head");
    const flag = body[at]!;
    const length = new DataView(body.buffer, body.byteOffset + at + 1, 4).getUint32(0);
    const payload = new TextDecoder().decode(body.subarray(at + 5, at + 5 + length));
    assert.equal(payload.length >= 0 && at + 5 + length <= body.byteLength, true, "a whole frame");
    if (flag === 0x80) {
      const fields: Record<string, string> = {};
      for (const line of payload.split("\r\n").filter((l) => l !== "")) {
        const colon = line.indexOf(":");
        fields[line.slice(0, colon)] = line.slice(colon + 1).trim();
      }
      frames.push({ kind: "trailers", fields });
    } else frames.push({ kind: "message", json: JSON.parse(payload) });
    at += 5 + length;
  }
  return frames;
}

function decodeText(text: Uint8Array): Uint8Array {
  const d = new Base64Decoder();
  const a = d.push(text), b = d.end();
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

async function withBridge(
  fn: (proxy: TestProxy, release: () => void) => Promise<void>,
  server = "",
): Promise<void> {
  const origin = await startGrpcOrigin();
  const proxy = await startTestProxy(`
[upstreams.grpc]
addrs = ["127.0.0.1:${origin.port}"]
alpn = "H2"
max_h2_streams = 100

[locations.grpc]
path = "/test.Echo/"
upstream = "grpc"
grpc_web = true

[servers.web]
addr = "127.0.0.1:0"
modules = ["grpc-web"]
locations = ["grpc"]
${server}
`);
  try {
    await fn(proxy, () => origin.release());
  } finally {
    await proxy.close();
    await origin.close();
  }
}

function call(proxy: TestProxy, method: string, type: string, body: BodyInit, meta?: string): Promise<Response> {
  return fetch(`${proxy.url}/test.Echo/${method}`, {
    method: "POST",
    headers: { "content-type": type, "x-grpc-web": "1", ...(meta ? { "x-client-meta": meta } : {}) },
    body,
  });
}

Deno.test("grpc-web: a unary call in binary mode gets its message frame and a trailer frame with the trailers", async () => {
  await withBridge(async (proxy) => {
    const res = await call(proxy, "Echo", "application/grpc-web+proto", messageFrame({ message: "hi" }), "m1");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/grpc-web+proto");
    assert.equal(res.headers.get("grpc-status"), null);
    const frames = parseFrames(new Uint8Array(await res.arrayBuffer()));
    assert.deepEqual(frames, [
      { kind: "message", json: { message: "hi", meta: ["m1"] } },
      { kind: "trailers", fields: { "grpc-message": "OK", "grpc-status": "0", "x-origin-trailer": "t1" } },
    ]);
  });
});

Deno.test("grpc-web: a server-streaming call in text mode gets base64 frames, one per message, then the trailers", async () => {
  await withBridge(async (proxy) => {
    const res = await call(
      proxy,
      "Many",
      "application/grpc-web-text",
      messageFrame({ message: "s", count: 4 }).toBase64(),
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/grpc-web-text+proto");
    const text = new Uint8Array(await res.arrayBuffer());
    assert.match(new TextDecoder().decode(text), /^[A-Za-z0-9+/=]+$/);
    const frames = parseFrames(decodeText(text));
    assert.deepEqual(
      frames.map((f) => f.kind === "message" ? (f.json as EchoReply).index : f.fields["grpc-status"]),
      [0, 1, 2, 3, "0"],
    );
  });
});

Deno.test("grpc-web: an error status (sent trailers-only by grpc-js) arrives in the trailer frame", async () => {
  await withBridge(async (proxy) => {
    const res = await call(proxy, "Echo", "application/grpc-web", messageFrame({ message: "x", fail: true }));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("grpc-status"), null, "the status is in the body, readable cross-origin");
    assert.deepEqual(parseFrames(new Uint8Array(await res.arrayBuffer())), [
      { kind: "trailers", fields: { "grpc-status": "5", "grpc-message": "no%20such%20thing:%20x" } },
    ]);
    const text = await call(
      proxy,
      "Echo",
      "application/grpc-web-text",
      messageFrame({ message: "y", fail: true }).toBase64(),
    );
    const frames = parseFrames(decodeText(new Uint8Array(await text.arrayBuffer())));
    assert.deepEqual(frames, [{
      kind: "trailers",
      fields: { "grpc-status": "5", "grpc-message": "no%20such%20thing:%20y" },
    }]);
  });
});

Deno.test("grpc-web: a streamed message reaches the client before the server writes the next one", async () => {
  await withBridge(async (proxy, release) => {
    const res = await call(proxy, "Many", "application/grpc-web", messageFrame({ message: "h", count: 2, hold: true }));
    const reader = res.body!.getReader();
    // The server holds after its first message: that message must come through on its own.
    let got: Uint8Array = new Uint8Array(0);
    while (parseWhole(got) < 1) {
      const r = await reader.read();
      assert.ok(!r.done, "the first message came before the end");
      got = join(got, r.value);
    }
    assert.deepEqual(parseFrames(got), [{ kind: "message", json: { message: "h", meta: [], index: 0 } }]);
    release();
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      got = join(got, r.value);
    }
    assert.deepEqual(parseFrames(got).map((f) => f.kind), ["message", "message", "trailers"]);
  });
});

/** How many whole frames `bytes` holds (and nothing cut after them). */
function parseWhole(bytes: Uint8Array): number {
  let at = 0, n = 0;
  while (at + 5 <= bytes.byteLength) {
    const length = new DataView(bytes.buffer, bytes.byteOffset + at + 1, 4).getUint32(0);
    if (at + 5 + length > bytes.byteLength) return n;
    at += 5 + length;
    n++;
  }
  return n;
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

Deno.test("grpc-web: an enabled_h2 server (its node:http2 listener, for the HTTP/2 upstream) bridges the same", async () => {
  await withBridge(async (proxy) => {
    const res = await call(proxy, "Echo", "application/grpc-web+proto", messageFrame({ message: "h2" }), "m2");
    assert.equal(res.headers.get("content-type"), "application/grpc-web+proto");
    assert.deepEqual(parseFrames(new Uint8Array(await res.arrayBuffer())), [
      { kind: "message", json: { message: "h2", meta: ["m2"] } },
      { kind: "trailers", fields: { "grpc-message": "OK", "grpc-status": "0", "x-origin-trailer": "t1" } },
    ]);
    const error = await call(
      proxy,
      "Echo",
      "application/grpc-web-text",
      messageFrame({ message: "z", fail: true }).toBase64(),
    );
    assert.equal(error.headers.get("content-type"), "application/grpc-web-text+proto");
    assert.deepEqual(parseFrames(decodeText(new Uint8Array(await error.arrayBuffer()))), [
      { kind: "trailers", fields: { "grpc-status": "5", "grpc-message": "no%20such%20thing:%20z" } },
    ]);
  }, "enabled_h2 = true");
});
