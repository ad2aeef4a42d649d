import assert from "node:assert/strict";
import { editable, knownBodySize, responseWith, upstreamAnswer } from "./response_build.ts";
import { fetchUpstreamAnswer, toFetchResponse } from "./fetch_adapter.ts";
import { headersOf } from "../upstream/http1/head_fields.ts";
import { UpstreamError } from "../upstream/types.ts";
import type { HttpResponse } from "./message.ts";

Deno.test("responseWith() appends after construction: one content-type, set-cookie fields apart", async () => {
  const res = responseWith("<p>x</p>", { status: 404 }, {
    "content-type": "text/html",
    "set-cookie": "a=1",
    "x-a": "1",
  });
  assert.equal(res.status, 404);
  assert.equal(res.headers.get("content-type"), "text/html");
  assert.equal(await toFetchResponse(res).text(), "<p>x</p>");

  const source = new Headers([["set-cookie", "a=1"], ["set-cookie", "b=2"], ["x-b", "2"]]);
  const copy = responseWith(null, { status: 204, statusText: "Nothing" }, source);
  assert.deepEqual(copy.headers.getSetCookie(), ["a=1", "b=2"]);
  assert.equal(copy.headers.get("x-b"), "2");
  assert.equal(copy.statusText, "Nothing");

  const pairs = responseWith("ok", {}, [["X-Mock", "1"], ["Content-Type", "application/json"]]);
  assert.equal(pairs.headers.get("x-mock"), "1");
  assert.equal(pairs.headers.get("content-type"), "application/json");
  // A text body without a content-type gets the one `new Response(text)` gives.
  assert.equal(responseWith("t", {}).headers.get("content-type"), "text/plain;charset=UTF-8");
  assert.equal(toFetchResponse(responseWith("t", {})).headers.get("content-type"), "text/plain;charset=UTF-8");
});

Deno.test("toFetchResponse() takes raw fields in order, or the Headers without them", async () => {
  const fields = ["Server", "origin", "Set-Cookie", "a=1", "Set-Cookie", "b=2", "Content-Type", "text/plain"];
  const body = new TextEncoder().encode("hello");
  const res = toFetchResponse({
    status: 201,
    statusText: "Made",
    get headers(): Headers {
      throw new Error("the Headers must not be built when the fields are there");
    },
    fields,
    body: null,
    whole: body,
    editable: false,
  });
  assert.equal(res.status, 201);
  assert.equal(res.statusText, "Made");
  assert.equal(res.headers.get("server"), "origin");
  assert.deepEqual(res.headers.getSetCookie(), ["a=1", "b=2"]);
  assert.equal(res.headers.get("content-type"), "text/plain");
  assert.equal(await res.text(), "hello");

  const fromHeaders = toFetchResponse({
    status: 200,
    statusText: "",
    headers: new Headers({ "x-h": "1" }),
    body: null,
    editable: true,
  });
  assert.equal(fromHeaders.headers.get("x-h"), "1");
});

Deno.test("upstreamAnswer() refuses a field that is no header: a protocol error, the body cancelled", () => {
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    cancel() {
      cancelled = true;
    },
  });
  const fields = ["x-ok", "1", "x-bad", "a\0b"];
  const res: HttpResponse = {
    status: 200,
    statusText: "OK",
    // As an HTTP/1.1 upstream's head makes them: from the raw fields, on first use.
    get headers(): Headers {
      return headersOf(fields);
    },
    fields,
    body,
    editable: false,
  };
  assert.throws(() => upstreamAnswer(res), (e) => e instanceof UpstreamError && e.kind === "protocol");
  assert.equal(cancelled, true);
});

Deno.test("editable() copies a response that may not be changed, and only that one", () => {
  const own = responseWith("x", {});
  assert.equal(editable(own), own);
  const shared: HttpResponse = {
    status: 200,
    statusText: "",
    get headers(): Headers {
      return new Headers({ "x-a": "1" });
    },
    body: null,
    whole: new Uint8Array(3),
    editable: false,
  };
  const copy = editable(shared);
  assert.notEqual(copy, shared);
  copy.headers.set("x-b", "2");
  assert.equal(copy.headers.get("x-b"), "2", "a change to the copy stays");
  assert.equal(copy.headers.get("x-a"), "1");
  assert.equal(knownBodySize(copy), 3);
});

Deno.test("knownBodySize() gives the byte size of a string or bytes body for the observer", () => {
  for (const text of ["pong", "", "café", "😀 x", "lone \ud800 surrogate", "€".repeat(10)]) {
    assert.equal(knownBodySize(responseWith(text, {})), new TextEncoder().encode(text).byteLength, text);
  }
  assert.equal(knownBodySize(responseWith(new Uint8Array(7), {})), 7);
  assert.equal(knownBodySize(responseWith(new ReadableStream(), {})), undefined);
  assert.equal(knownBodySize(responseWith(new ReadableStream(), {}, { "content-length": "12" })), 12);
});

Deno.test("fetchUpstreamAnswer() refuses a field that is no header: a protocol error, the body cancelled", () => {
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    cancel() {
      cancelled = true;
    },
  });
  const res: HttpResponse = {
    status: 200,
    statusText: "OK",
    headers: new Headers(),
    fields: ["x-ok", "1", "x-bad", "a\0b"],
    body,
    editable: false,
  };
  assert.throws(() => fetchUpstreamAnswer(res), (e) => e instanceof UpstreamError && e.kind === "protocol");
  assert.equal(cancelled, true);
});

Deno.test("fetchUpstreamAnswer() is the Response Deno.serve gets: hooks change it in place, trailers ride along", () => {
  const trailers = Promise.resolve(new Headers({ "grpc-status": "0" }));
  const whole = new TextEncoder().encode("hi");
  const res = fetchUpstreamAnswer({
    status: 200,
    statusText: "",
    headers: new Headers(),
    fields: ["x-a", "1"],
    body: null,
    whole,
    editable: false,
    trailers,
  });
  assert.ok(res.editable);
  res.headers.set("x-b", "2");
  const out = toFetchResponse(res);
  assert.equal(out, res.fetch);
  assert.equal(out.headers.get("x-a"), "1");
  assert.equal(out.headers.get("x-b"), "2");
  assert.equal(res.trailers, trailers);
  assert.equal(knownBodySize(res), 2, "the size is known without reading the body");
});
