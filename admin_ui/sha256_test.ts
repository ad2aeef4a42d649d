import assert from "node:assert/strict";
import { sha256Hex } from "./sha256.js";
import { sha256Hex as serverSha256 } from "../runtime/admin/token.ts";

Deno.test("sha256Hex: the standard vectors, and the server's digest for texts across block boundaries", async () => {
  assert.equal(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  for (const n of [55, 56, 63, 64, 65, 119, 120, 1000]) {
    const text = "用户:p".repeat(n).slice(0, n);
    assert.equal(sha256Hex(text), await serverSha256(text), `length ${n}`);
  }
});
