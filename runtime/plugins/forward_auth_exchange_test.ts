/**
 * The decisions of `forward_auth` without sockets, on Pingap's own test vectors
 * (`test_forward_auth_subrequest_headers`, `test_forward_auth_relays_rejection` in pingap-plugin/src/forward_auth.rs).
 */
import assert from "node:assert/strict";
import { authRequestHeaders, authTarget, copiedHeaders, relayedFields, verdictOf } from "./forward_auth_exchange.ts";

const FACTS = { method: "POST", uri: "/dashboard?x=1", host: "example.com", proto: "http", clientIp: "10.0.0.1" };

Deno.test("forward_auth: the subrequest keeps the client's headers but not its connection or body ones (Pingap vector)", () => {
  const fields = ["host", "example.com", "content-length", "5", "connection", "keep-alive", "cookie", "session=abc"];
  const h = authRequestHeaders(fields, [], FACTS, "127.0.0.1:9000");
  assert.equal(h.get("cookie"), "session=abc");
  assert.equal(h.get("x-forwarded-method"), "POST");
  assert.equal(h.get("x-forwarded-uri"), "/dashboard?x=1");
  assert.equal(h.get("x-forwarded-host"), "example.com");
  assert.equal(h.get("x-forwarded-proto"), "http");
  assert.equal(h.get("x-forwarded-for"), "10.0.0.1");
  assert.equal(h.get("host"), "127.0.0.1:9000");
  assert.equal(h.get("content-length"), null);
  assert.equal(h.get("connection"), null);
});

Deno.test("forward_auth: request_headers limits what is forwarded; a client cannot set X-Forwarded-*", () => {
  const fields = ["authorization", "Bearer x", "cookie", "s=1", "x-forwarded-uri", "/public", "expect", "100-continue"];
  const h = authRequestHeaders(fields, ["authorization", "x-forwarded-uri"], FACTS, "auth");
  assert.equal(h.get("authorization"), "Bearer x");
  assert.equal(h.get("cookie"), null);
  assert.equal(h.get("x-forwarded-uri"), "/dashboard?x=1");
  assert.equal(authRequestHeaders(fields, [], FACTS, "auth").get("expect"), null);
  assert.equal(authRequestHeaders(fields, [], FACTS, "auth", "Basic dTpw").get("authorization"), "Basic dTpw");
});

Deno.test("forward_auth: a rejection is relayed without framing or hop-by-hop headers (Pingap vector)", () => {
  assert.equal(verdictOf(302), "relay");
  const fields = ["location", "/login", "connection", "close", "content-length", "6"];
  assert.deepEqual(relayedFields(fields), [["location", "/login"]]);
});

Deno.test("forward_auth: 2xx passes, 3xx–5xx are relayed, anything else fails closed", () => {
  for (const s of [200, 204, 299]) assert.equal(verdictOf(s), "pass");
  for (const s of [300, 401, 403, 404, 500, 599]) assert.equal(verdictOf(s), "relay");
  for (const s of [101, 600, 999]) assert.equal(verdictOf(s), "fail");
});

Deno.test("forward_auth: add_headers takes the answer's value, or removes the client's", () => {
  assert.deepEqual(copiedHeaders(["x-user-id", "42", "x-other", "1"], ["x-user-id", "x-role"]), [
    ["x-user-id", "42"],
    ["x-role", null],
  ]);
  assert.deepEqual(copiedHeaders(["x-role", "a", "x-role", "b"], ["x-role"]), [["x-role", "a, b"]]);
});

Deno.test("forward_auth: auth_url is taken apart once", () => {
  assert.deepEqual(authTarget("http://127.0.0.1:9000/verify?a=1"), {
    host: "127.0.0.1",
    port: 9000,
    addr: "127.0.0.1:9000",
    tls: false,
    target: "/verify?a=1",
    hostHeader: "127.0.0.1:9000",
  });
  const v6 = authTarget("https://[::1]/v");
  assert.equal(v6.host, "::1");
  assert.equal(v6.addr, "[::1]:443");
  assert.equal(v6.hostHeader, "[::1]");
  assert.ok(v6.tls);
  assert.equal(authTarget("http://auth").target, "/");
  assert.equal(authTarget("http://u%C3%A9:p@auth/").authorization, `Basic ${btoa("u\u00c3\u00a9:p")}`);
});
