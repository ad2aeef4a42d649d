/** `jwt` (HS256 on its secret) through a compiled Plan without sockets (runtime/proxy/harness.ts). */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { planHarness } from "../proxy/harness.ts";
import { echo, planOf } from "./_test_utils.ts";

const SECRET = "harness-secret";

function b64url(data: string | Uint8Array): string {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** An HS256 token of `claims` signed with `secret`. */
function token(claims: Record<string, unknown>, secret: string, alg = "HS256"): string {
  const head = `${b64url(JSON.stringify({ alg, typ: "JWT" }))}.${b64url(JSON.stringify(claims))}`;
  const sig = createHmac("sha256", secret).update(head).digest();
  return `${head}.${b64url(new Uint8Array(sig))}`;
}

const plan = planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["api"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.api]
upstream = "u"
plugins = ["jwt"]
[plugins.jwt]
category = "jwt"
header = "Authorization"
secret = "${SECRET}"
`);

Deno.test("jwt: a token signed with the secret passes; none, a forged one, an expired one and alg none are 401", async () => {
  const h = planHarness(plan, { upstream: echo });
  const now = Math.floor(Date.now() / 1000);
  const send = (t?: string) => h.request("http://a.test/x", t ? { headers: { authorization: `Bearer ${t}` } } : {});
  try {
    const ok = await send(token({ sub: "u1", exp: now + 60 }, SECRET));
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    for (
      const [label, t] of [
        ["none", undefined],
        ["forged", token({ sub: "u1", exp: now + 60 }, "another-secret")],
        ["expired", token({ sub: "u1", exp: now - 3600 }, SECRET)],
        ["alg none", `${b64url('{"alg":"none","typ":"JWT"}')}.${b64url(`{"exp":${now + 60}}`)}.`],
      ] as const
    ) {
      const res = await send(t);
      assert.equal(res.status, 401, label);
      await res.body?.cancel();
    }
  } finally {
    await h.dispose();
  }
});
