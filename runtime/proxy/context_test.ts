import assert from "node:assert/strict";
import { RequestContext } from "./context.ts";
import { ClientWatch, WireRequest } from "../listen/h1/request.ts";
import { ipNet } from "../../compiler/mod.ts";
import { FetchRequest } from "../http/fetch_adapter.ts";

/** The same request as Deno.serve gives it and as the HTTP/1.1 front end does. */
function both(host: string, target: string, fields: string[] = []): [RequestContext, RequestContext] {
  const all = ["host", host, ...fields];
  const served = new Request(`http://${host}${target}`, { headers: Object.fromEntries(pairs(all)) });
  const wire = new WireRequest("GET", target, host, all, null, new ClientWatch());
  const at = ["127.0.0.1", 5000, "127.0.0.1", 80, "http"] as const;
  return [new RequestContext(new FetchRequest(served), ...at), new RequestContext(wire, ...at)];
}

function pairs(fields: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < fields.length; i += 2) out.push([fields[i]!, fields[i + 1]!]);
  return out;
}

Deno.test("RequestContext: a front end request gives the path, query, host and headers a Deno.serve one gives", () => {
  const cases: [string, string][] = [
    ["example.com", "/"],
    ["example.com:8080", "/a/b?x=1&y=%20"],
    ["[::1]:8080", "/v6?"],
    // (Not an upper-case host: `new Request` lower-cases its URL, Deno.serve and the front end do not.)
    ["h", "/p/?q"],
    ["h", "/a?b?c"],
  ];
  for (const [host, target] of cases) {
    const [served, wire] = both(host, target, ["x-forwarded-for", "10.0.0.1, 10.0.0.2", "cookie", "a=1; b=2"]);
    const label = `${host} ${target}`;
    assert.equal(wire.path, served.path, label);
    assert.equal(wire.rawQuery, served.rawQuery, label);
    assert.equal(wire.host, served.host, label);
    assert.equal(wire.uri, served.uri, label);
    assert.equal(wire.header("x-forwarded-for"), served.header("x-forwarded-for"), label);
    assert.equal(wire.cookie("b"), "2", label);
    assert.equal(wire.clientIp(), "127.0.0.1", `${label}: no trusted proxies, the peer`);
    for (const ctx of [served, wire]) {
      const trusted = ipNet("127.0.0.0/8");
      assert.ok(trusted.ok);
      // A new context: the first answer is kept.
      const again = new RequestContext(ctx.req, "127.0.0.1", 5000, "127.0.0.1", 80, "http");
      again.trustedProxies = [trusted.value];
      assert.equal(again.clientIp(), "10.0.0.2", `${label}: the rightmost untrusted entry`);
    }
    assert.equal(wire.req.url, served.req.url, label);
  }
});

Deno.test("RequestContext: a replaced request header is what later readers and the upstream see; null removes it", () => {
  for (const ctx of both("h", "/", ["accept-encoding", "gzip, br", "x-keep", "1"])) {
    assert.equal(ctx.header("accept-encoding"), "gzip, br");
    ctx.replaceRequestHeader("accept-encoding", "br");
    assert.equal(ctx.header("accept-encoding"), "br");
    assert.equal(ctx.outgoingHeaders.get("accept-encoding"), "br");
    assert.equal(ctx.outgoingFields, undefined, "the client's raw fields no longer go upstream as they are");
    ctx.replaceRequestHeader("accept-encoding", null);
    assert.equal(ctx.header("accept-encoding"), null);
    assert.equal(ctx.outgoingHeaders.has("accept-encoding"), false);
    assert.equal(ctx.outgoingHeaders.get("x-keep"), "1", "the other headers are kept");
  }
});

Deno.test("RequestContext: several Cookie fields (as HTTP/2 clients send them) are one list of cookies", () => {
  const fields = ["host", "h", "cookie", "a=1", "x-other", "y", "cookie", "b=2; c=3", "cookie", "sid=s, t"];
  const headers = new Headers(pairs(fields));
  assert.equal(headers.get("cookie"), "a=1, b=2; c=3, sid=s, t", "what Headers gives: joined by a comma");
  const at = ["127.0.0.1", 5000, "127.0.0.1", 80, "http"] as const;
  const wire = new RequestContext(new WireRequest("GET", "/", "h", fields, null, new ClientWatch()), ...at);
  const served = new RequestContext(new FetchRequest(new Request("http://h/", { headers })), ...at);
  for (const [label, ctx] of [["fields", wire], ["Headers", served]] as const) {
    assert.equal(ctx.cookieHeader(), "a=1; b=2; c=3; sid=s, t", label);
    assert.equal(ctx.cookie("a"), "1", label);
    assert.equal(ctx.cookie("b"), "2", label);
    assert.equal(ctx.cookie("c"), "3", label);
    assert.equal(ctx.cookie("sid"), "s, t", `${label}: a comma not before a name stays in the value`);
  }
  const none = new RequestContext(new WireRequest("GET", "/", "h", ["host", "h"], null, new ClientWatch()), ...at);
  assert.equal(none.cookieHeader(), null);
  assert.equal(none.cookie("a"), undefined);
});
