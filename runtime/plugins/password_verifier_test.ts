/** The hash worker's queue: one hash at a time, a waiting one asked again at its turn, a bounded wait. */
import assert from "node:assert/strict";
import { holdPasswordVerifier, MAX_WAITING, releasePasswordVerifier, verifyPasswordHash } from "./password_verifier.ts";

/** bcrypt of "U*U" (OpenBSD's test vector). */
const BCRYPT = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
const password = (text: string) => new TextEncoder().encode(text);

Deno.test("password_verifier: a flood waits at most MAX_WAITING deep; the rest fail at once, closed", async () => {
  holdPasswordVerifier();
  try {
    const first = verifyPasswordHash("bcrypt", password("U*U"), BCRYPT);
    const waiting = Array.from(
      { length: MAX_WAITING + 5 },
      () => verifyPasswordHash("bcrypt", password("U*U"), BCRYPT, () => false),
    );
    assert.equal(await first, true);
    const results = await Promise.all(waiting);
    assert.deepEqual(new Set(results.slice(0, MAX_WAITING)), new Set([undefined]), "asked at their turn: not wanted");
    assert.deepEqual(results.slice(MAX_WAITING), [false, false, false, false, false], "past the bound: refused");
    assert.equal(await verifyPasswordHash("bcrypt", password("U*V"), BCRYPT), false);
  } finally {
    releasePasswordVerifier();
  }
});
