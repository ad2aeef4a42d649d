/**
 * The JWKS cache against a real HTTP server (the clock is a parameter): keys fetched once and reused within the TTL,
 * an unknown `kid` refetches only after the cooldown, rotated keys are picked up, and a server that went down leaves
 * the keys already fetched in use (Pingap's behaviour).
 */
import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, type GenerateKeyPairResult, SignJWT } from "jose";
import { JwksSource } from "./jwks_source.ts";

Deno.test("jwks source: TTL, cooldown, rotation, and stale keys kept when the server is down", async () => {
  const k1 = await generateKeyPair("ES256", { extractable: true });
  const k2 = await generateKeyPair("ES256", { extractable: true });
  const jwk = async (kp: GenerateKeyPairResult, kid: string) => ({
    ...await exportJWK(kp.publicKey),
    kid,
    alg: "ES256",
  });
  let keys = [await jwk(k1, "k1")];
  const ready = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: (a) => ready.resolve(a as Deno.NetAddr) },
    () => Response.json({ keys }),
  );
  const addr = await ready.promise;
  let now = 1_000_000;
  const source = new JwksSource(`http://127.0.0.1:${addr.port}/jwks`, {
    ttl: 60_000,
    cooldown: 10_000,
    timeout: 2_000,
    now: () => now,
  });
  const token = (kp: GenerateKeyPairResult, kid: string) =>
    new SignJWT({ sub: kid, exp: Math.floor(Date.now() / 1000) + 3600 }).setProtectedHeader({ alg: "ES256", kid })
      .sign(kp.privateKey);
  const options = { algorithms: ["ES256"], requiredClaims: ["exp"] };
  const t1 = await token(k1, "k1");
  const t2 = await token(k2, "k2");
  let down = false;
  try {
    assert.equal((await source.verify(t1, options))?.sub, "k1");
    assert.equal(source.fetches, 1);
    now += 1_000;
    assert.equal((await source.verify(t1, options))?.sub, "k1");
    assert.equal(source.fetches, 1, "fresh keys are reused");
    // k2 is not published yet, and it is within the cooldown: no fetch.
    assert.equal(await source.verify(t2, options), undefined);
    assert.equal(source.fetches, 1);
    // Rotated in; after the cooldown an unknown kid fetches again.
    keys = [await jwk(k1, "k1"), await jwk(k2, "k2")];
    now += 10_000;
    assert.equal((await source.verify(t2, options))?.sub, "k2");
    assert.equal(source.fetches, 2);
    // The server goes away; past the TTL a fetch fails and the keys already there still verify.
    await server.shutdown();
    down = true;
    now += 61_000;
    assert.equal((await source.verify(t1, options))?.sub, "k1");
    assert.equal(source.fetches, 3);
    assert.equal((await source.verify(t2, options))?.sub, "k2");
    assert.equal(source.fetches, 3, "the failed attempt starts a cooldown too");
    // A token signed by no key of the set is refused.
    const stranger = await generateKeyPair("ES256");
    assert.equal(await source.verify(await token(stranger, "k1"), options), undefined);
  } finally {
    if (!down) await server.shutdown();
  }
});
