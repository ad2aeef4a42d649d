import assert from "node:assert/strict";
import { nominationRefusal, nominations, removableNominations } from "./nominations.ts";
import { ClientRequestError } from "./types.ts";

Deno.test("nominations() follows Pingora's rules on Connection tokens", () => {
  assert.equal(nominations("keep-alive", true, false), null);
  assert.equal(nominations("close, Keep-Alive", true, false), null);
  assert.deepEqual(nominations("close, Keep-Alive", true, true), ["close", "keep-alive"]);
  assert.deepEqual(nominations(" X-A ,, upgrade", true, false), ["x-a", "upgrade"]);
  // Content-Length frames the body: never removed.
  assert.equal(nominations("content-length", true, false), null);
  for (const refused of ["Host", "X-Forwarded-For", "x-forwarded-host", "X-FORWARDED-PROTO", ":authority", ":x"]) {
    assert.throws(() => nominations(refused, false, false), ClientRequestError, refused);
  }
  // Only those four are protected.
  assert.deepEqual(nominations("X-Forwarded-Port", true, false), ["x-forwarded-port"]);
  // The tenth token (any, `close` too) is refused.
  assert.throws(() => nominations("a,b,c,d,e,f,g,h,i,close", true, false), /too many/);
  assert.equal(nominations("a,b,c,d,e,f,g,h,i", true, false)?.length, 9);
  // Malformed: refused, or ignored when allowed.
  for (const bad of ['"x-a"', "x/a", "x@a", "x a", "é"]) {
    assert.throws(() => nominations(bad, true, false), /invalid token/, bad);
    assert.equal(nominations(`${bad}, x-b`, false, false)?.join(), "x-b", bad);
  }
});

Deno.test("removableNominations() never refuses; nominationRefusal() gives the refusal", () => {
  assert.deepEqual(removableNominations('Host, "x-a", X-B, content-length, keep-alive', false), ["x-b"]);
  assert.deepEqual(removableNominations("keep-alive, X-B", true), ["keep-alive", "x-b"]);
  assert.equal(nominationRefusal("x-a, keep-alive", true), undefined);
  assert.ok(nominationRefusal("host", true) instanceof ClientRequestError);
  assert.equal(nominationRefusal('"x"', false), undefined);
  assert.equal(nominationRefusal('"x"', true)?.status, 400);
});
