import assert from "node:assert/strict";
import { compileSources, type Plan } from "../../compiler/mod.ts";
import { BuiltResponse } from "../http/response_build.ts";
import { grpcWebRequestType, toGrpcWeb } from "./grpc_web.ts";
import { Base64Decoder, trailerFrame } from "./grpc_web_codec.ts";
import { planRequest } from "./harness.ts";

/** A gRPC length-prefixed message frame. */
function frame(payload: string): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(payload);
  const out = new Uint8Array(5 + bytes.byteLength);
  new DataView(out.buffer).setUint32(1, bytes.byteLength);
  out.set(bytes, 5);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let i = 0;
  for (const p of parts) {
    out.set(p, i);
    i += p.byteLength;
  }
  return out;
}

/** A stream of `bytes` in the pieces the cut points make. */
function cutStream(bytes: Uint8Array, cuts: readonly number[]): ReadableStream<Uint8Array> {
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const at of [...cuts, bytes.byteLength]) {
    pieces.push(bytes.slice(from, at));
    from = at;
  }
  return ReadableStream.from(pieces);
}

/** A gRPC answer as the h2 upstream client gives it. */
function grpcAnswer(body: ReadableStream<Uint8Array>, trailers: Record<string, string>, head = {}): BuiltResponse {
  return new BuiltResponse(
    200,
    "",
    new Headers({ "content-type": "application/grpc+proto", "content-length": "99", ...head }),
    body,
    Promise.resolve(new Headers(trailers)),
  );
}

async function bytesOf(body: ReadableStream<Uint8Array> | null): Promise<Uint8Array> {
  return new Uint8Array(await new Response(body).arrayBuffer());
}

function decodeText(text: Uint8Array): Uint8Array {
  const d = new Base64Decoder();
  return concat(d.push(text), d.end());
}

Deno.test("grpcWebRequestType() maps gRPC-Web types to gRPC ones and leaves others alone", () => {
  assert.deepEqual(grpcWebRequestType("application/grpc-web"), { type: "application/grpc", text: false });
  assert.deepEqual(grpcWebRequestType("Application/gRPC-Web+proto"), { type: "application/grpc+proto", text: false });
  assert.deepEqual(grpcWebRequestType("application/grpc-web-text"), { type: "application/grpc", text: true });
  assert.deepEqual(grpcWebRequestType("application/grpc-web-text+proto"), {
    type: "application/grpc+proto",
    text: true,
  });
  // Pingora's bridge tests: a mixed-case type with another codec, and a type one letter short.
  assert.deepEqual(grpcWebRequestType("application/gRPC-web+thrift"), { type: "application/grpc+thrift", text: false });
  assert.equal(grpcWebRequestType("application/grpc-we"), undefined);
  for (const other of ["application/grpc", "application/grpc+proto", "application/grpc-webx", "text/plain", ""]) {
    assert.equal(grpcWebRequestType(other), undefined, other);
  }
});

Deno.test("toGrpcWeb() passes the body cut at every byte boundary and ends it with the trailer frame", async () => {
  const body = concat(frame("one"), frame("two"));
  const trailers = { "grpc-status": "0", "grpc-message": "", "x-origin-trailer": "t1" };
  const expected = concat(body, trailerFrame(new Headers(trailers)));
  for (let i = 0; i <= body.byteLength; i++) {
    const res = toGrpcWeb(grpcAnswer(cutStream(body, [i]), trailers), false);
    assert.equal(res.headers.get("content-type"), "application/grpc-web+proto");
    assert.equal(res.headers.get("content-length"), null);
    assert.equal(res.trailers, undefined, "the trailers go in the body, not after it");
    assert.deepEqual(await bytesOf(res.body), expected, `cut at ${i}`);
  }
});

Deno.test("toGrpcWeb() in text mode sends each chunk as padded base64 that decodes to frames and trailers", async () => {
  const body = concat(frame("one"), frame("two!"));
  const trailers = { "grpc-status": "0" };
  const expected = concat(body, trailerFrame([["grpc-status", "0"]]));
  for (let i = 0; i <= body.byteLength; i++) {
    const res = toGrpcWeb(grpcAnswer(cutStream(body, [i]), trailers), true);
    assert.equal(res.headers.get("content-type"), "application/grpc-web-text+proto");
    const text = await bytesOf(res.body);
    assert.match(new TextDecoder().decode(text), /^[A-Za-z0-9+/=]+$/);
    assert.deepEqual(decodeText(text), expected, `cut at ${i}`);
  }
});

Deno.test("toGrpcWeb() hands on a streamed message before the upstream sends the next one", async () => {
  let upstream!: ReadableStreamDefaultController<Uint8Array>;
  const source = new ReadableStream<Uint8Array>({ start: (c) => void (upstream = c) });
  const trailers = Promise.withResolvers<Headers>();
  const res = toGrpcWeb(
    new BuiltResponse(200, "", new Headers({ "content-type": "application/grpc" }), source, trailers.promise),
    false,
  );
  const reader = res.body!.getReader();
  upstream.enqueue(frame("first"));
  assert.deepEqual((await reader.read()).value, frame("first"));
  upstream.enqueue(frame("second"));
  assert.deepEqual((await reader.read()).value, frame("second"));
  upstream.close();
  trailers.resolve(new Headers({ "grpc-status": "0" }));
  assert.deepEqual((await reader.read()).value, trailerFrame([["grpc-status", "0"]]));
  assert.equal((await reader.read()).done, true);
});

Deno.test("toGrpcWeb() moves a trailers-only answer's status into the trailer frame", async () => {
  const res = toGrpcWeb(
    grpcAnswer(cutStream(new Uint8Array(0), []), {}, {
      "grpc-status": "5",
      "grpc-message": "no such thing",
      "x-meta": "kept",
    }),
    false,
  );
  assert.equal(res.headers.get("grpc-status"), null);
  assert.equal(res.headers.get("grpc-message"), null);
  assert.equal(res.headers.get("x-meta"), "kept");
  assert.deepEqual(
    await bytesOf(res.body),
    trailerFrame([["grpc-status", "5"], ["grpc-message", "no such thing"]]),
  );
});

Deno.test("toGrpcWeb() leaves an answer that is not gRPC as it is", () => {
  const html = new BuiltResponse(502, "", new Headers({ "content-type": "text/html" }), "<p>down</p>");
  assert.equal(toGrpcWeb(html, false), html);
  const none = new BuiltResponse(204, "", new Headers(), null);
  assert.equal(toGrpcWeb(none, true), none);
});

function bridgePlan(grpcWeb: boolean): Plan {
  const { plan, diagnostics } = compileSources([{
    file: "grpc_web.toml",
    text: `
[upstreams.grpc]
addrs = ["127.0.0.1:50051"]
alpn = "H2"

[locations.grpc]
upstream = "grpc"
grpc_web = ${grpcWeb}

[servers.s]
addr = "127.0.0.1:0"
modules = ["grpc-web"]
locations = ["grpc"]
`,
  }]);
  assert.deepEqual(diagnostics.filter((d) => d.severity === "error"), []);
  return plan!;
}

Deno.test("a grpc_web location sends a text request upstream as gRPC and answers gRPC-Web text", async () => {
  const message = frame("hello");
  const seen: { type?: string | null; te?: string | null; length?: string | null; body?: Uint8Array } = {};
  const res = await planRequest(bridgePlan(true), "http://t/test.Echo/Echo", {
    init: {
      method: "POST",
      headers: { "content-type": "application/grpc-web-text", "content-length": "16" },
      body: message.toBase64(),
    },
    upstream: async (req) => {
      seen.type = req.headers.get("content-type");
      seen.te = req.headers.get("te");
      seen.length = req.headers.get("content-length");
      seen.body = new Uint8Array(await req.arrayBuffer());
      // A fetch answer has no trailers: the status comes trailers-only, among the headers.
      return new Response(frame("reply"), {
        headers: { "content-type": "application/grpc", "grpc-status": "0" },
      });
    },
  });
  assert.equal(seen.type, "application/grpc");
  assert.equal(seen.te, "trailers");
  assert.equal(seen.length, null);
  assert.deepEqual(seen.body, message);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/grpc-web-text");
  assert.equal(res.headers.get("grpc-status"), null);
  const text = new Uint8Array(await res.arrayBuffer());
  assert.deepEqual(decodeText(text), concat(frame("reply"), trailerFrame([["grpc-status", "0"]])));
});

Deno.test("a grpc_web location answers 400 to a text body that is no base64", async () => {
  let reached = false;
  const res = await planRequest(bridgePlan(true), "http://t/test.Echo/Echo", {
    init: { method: "POST", headers: { "content-type": "application/grpc-web-text" }, body: "AAAA*AAA" },
    upstream: async (req) => {
      reached = true;
      await req.arrayBuffer();
      return new Response(null, { headers: { "content-type": "application/grpc", "grpc-status": "0" } });
    },
  });
  await res.body?.cancel();
  assert.equal(res.status, 400);
  assert.ok(reached);
});

Deno.test("a location without grpc_web proxies a gRPC-Web request unchanged", async () => {
  const res = await planRequest(bridgePlan(false), "http://t/test.Echo/Echo", {
    init: { method: "POST", headers: { "content-type": "application/grpc-web+proto" }, body: frame("x") },
    upstream: (req) =>
      new Response(null, {
        headers: { "content-type": "application/grpc", "x-seen": req.headers.get("content-type")! },
      }),
  });
  await res.body?.cancel();
  assert.equal(res.headers.get("x-seen"), "application/grpc-web+proto");
  assert.equal(res.headers.get("content-type"), "application/grpc");
});
