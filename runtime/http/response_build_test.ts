import assert from "node:assert/strict";
import { bodySize, responseWith, upstreamResponse } from "./response_build.ts";
import { UpstreamError } from "../upstream/types.ts";
import type { HttpResponse } from "./message.ts";

const timing = { reused: false, connectTime: 0, responseTime: 0 };

Deno.test("responseWith() appends after construction: one content-type, set-cookie fields apart", async () => {
  const res = responseWith("<p>x</p>", { status: 404 }, {
    "content-type": "text/html",
    "set-cookie": "a=1",
    "x-a": "1",
  });
  assert.equal(res.status, 404);
  assert.equal(res.headers.get("content-type"), "text/html");
  assert.equal(await res.text(), "<p>x</p>");

  const source = new Headers([["set-cookie", "a=1"], ["set-cookie", "b=2"], ["x-b", "2"]]);
  const copy = responseWith(null, { status: 204, statusText: "Nothing" }, source);
  assert.deepEqual(copy.headers.getSetCookie(), ["a=1", "b=2"]);
  assert.equal(copy.headers.get("x-b"), "2");
  assert.equal(copy.statusText, "Nothing");

  const pairs = responseWith("ok", {}, [["X-Mock", "1"], ["Content-Type", "application/json"]]);
  assert.equal(pairs.headers.get("x-mock"), "1");
  assert.equal(pairs.headers.get("content-type"), "application/json");
});

Deno.test("upstreamResponse() takes raw fields in order, or the Headers without them", async () => {
  const fields = ["Server", "origin", "Set-Cookie", "a=1", "Set-Cookie", "b=2", "Content-Type", "text/plain"];
  const body = new TextEncoder().encode("hello");
  const res = upstreamResponse({
    status: 201,
    statusText: "Made",
    get headers(): Headers {
      throw new Error("the Headers must not be built when the fields are there");
    },
    fields,
    body: null,
    whole: body,
    ...timing,
  });
  assert.equal(res.status, 201);
  assert.equal(res.statusText, "Made");
  assert.equal(res.headers.get("server"), "origin");
  assert.deepEqual(res.headers.getSetCookie(), ["a=1", "b=2"]);
  assert.equal(res.headers.get("content-type"), "text/plain");
  assert.equal(await res.text(), "hello");

  const fromHeaders = upstreamResponse({
    status: 200,
    statusText: "",
    headers: new Headers({ "x-h": "1" }),
    body: null,
    ...timing,
  });
  assert.equal(fromHeaders.headers.get("x-h"), "1");
});

Deno.test("upstreamResponse() refuses a field that is no header: a protocol error, the body cancelled", () => {
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
    ...timing,
  };
  assert.throws(() => upstreamResponse(res), (e) => e instanceof UpstreamError && e.kind === "protocol");
  assert.equal(cancelled, true);
});

Deno.test("responseWith() records the byte size of a string or bytes body for the observer", () => {
  for (const text of ["pong", "", "café", "😀 x", "lone \ud800 surrogate", "€".repeat(10)]) {
    assert.equal(bodySize(responseWith(text, {})), new TextEncoder().encode(text).byteLength, text);
  }
  assert.equal(bodySize(responseWith(new Uint8Array(7), {})), 7);
  assert.equal(bodySize(responseWith(new ReadableStream(), {})), undefined);
});
