import assert from "node:assert/strict";
import { StaticAnswer } from "./static_answer.ts";
import { RequestContext } from "../proxy/context.ts";
import { ping } from "../plugins/ping.ts";
import { mock } from "../plugins/mock.ts";
import type { PluginPlan } from "../../compiler/mod.ts";
import { FetchRequest, toFetchResponse } from "./fetch_adapter.ts";
import { editable } from "./response_build.ts";
import type { HttpResponse } from "./message.ts";

/** A fixed answer: its head as bytes, shared by every request (changes go to a copy). */
function isFixed(a: unknown): a is StaticAnswer {
  const r = a as HttpResponse | undefined;
  return r !== undefined && r.rawHead !== undefined && r.editable === false && r.whole instanceof Uint8Array;
}

const decode = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("StaticAnswer: the head is made once as bytes; the body is whole", () => {
  const a = new StaticAnswer(201, [["X-One", "1"], ["content-type", "application/json"]], '{"a":"é"}');
  const { bytes, ranges, size, dated, contentLength } = a.rawHead;
  assert.equal(
    decode(bytes.subarray(ranges[0], ranges[1])),
    " 201 Created\r\nx-one: 1\r\ncontent-type: application/json\r\n",
  );
  assert.equal(size, 8 + bytes.byteLength);
  assert.equal(dated, false);
  assert.equal(contentLength, 10);
  assert.deepEqual(a.fields, ["x-one", "1", "content-type", "application/json"]);
  assert.equal(decode(a.whole), '{"a":"é"}');
});

Deno.test("StaticAnswer: an editable copy and headers are fresh each time, with the same status, fields and body", async () => {
  const a = new StaticAnswer(200, [["cache-control", "no-cache"], ["content-type", "text/plain"]], "pong");
  const r1 = toFetchResponse(editable(a));
  const r2 = toFetchResponse(editable(a));
  assert.notEqual(r1, r2);
  r1.headers.set("x-changed", "1");
  assert.equal(r2.headers.get("x-changed"), null, "a hook changing one Response leaves the next alone");
  assert.equal(r2.status, 200);
  assert.equal(r2.headers.get("cache-control"), "no-cache");
  assert.equal(r2.headers.get("content-type"), "text/plain");
  assert.equal(await r2.text(), "pong");
  a.headers.set("x-changed", "1");
  assert.equal(a.headers.get("x-changed"), null);
  assert.equal(await new Response(a.body).text(), "pong");
  assert.equal(await new Response(a.body).text(), "pong", "a new stream each time");
});

Deno.test("StaticAnswer: 204 has no body", async () => {
  const a = new StaticAnswer(204, [], null);
  assert.equal(a.body, null);
  assert.equal(a.rawHead.contentLength, 0);
  const r = toFetchResponse(editable(a));
  assert.equal(r.status, 204);
  assert.equal(r.body, null);
  assert.equal(await r.text(), "");
});

function contextFor(path: string): RequestContext {
  return new RequestContext(new FetchRequest(new Request(`http://t${path}`)), "127.0.0.1", 1, "127.0.0.1", 2, "http");
}

function plan(category: string, config: Record<string, unknown>): PluginPlan {
  return { name: category, category, step: "request", config } as unknown as PluginPlan;
}

Deno.test("ping and mock answer with one fixed answer, made when the plugin is", async () => {
  const p = ping.create(plan("ping", { path: "/ping" }), { stats: () => ({}) });
  const a = p.request!(contextFor("/ping"));
  assert.ok(isFixed(a));
  assert.equal(p.request!(contextFor("/ping")), a, "the same answer for every request");
  assert.equal(p.request!(contextFor("/pong")), undefined);
  assert.equal(decode(a.whole), "pong");
  assert.equal(toFetchResponse(editable(a)).headers.get("cache-control"), "private, no-cache");

  const m = mock.create(plan("mock", { path: "", status: 503, headers: [["X-Mock", "1"]], data: "down" }), {
    stats: () => ({}),
  });
  const b = await m.request!(contextFor("/any"));
  assert.ok(isFixed(b));
  assert.equal(b.status, 503);
  assert.deepEqual(b.fields, ["x-mock", "1"]);
  assert.equal(decode(b.whole), "down");
});
