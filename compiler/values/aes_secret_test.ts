/** Pingap's AES-256-GCM-SIV for secrets: round trip, its key rule, a fixed answer, and refusals. */
import assert from "node:assert/strict";
import { gcmsiv } from "@noble/ciphers/aes.js";
import { aesDecrypt, aesEncrypt } from "./aes_secret.ts";
import { compileSources, formatPath } from "../mod.ts";

Deno.test("aes_secret: RFC 8452's AEAD_AES_256_GCM_SIV vector holds for the cipher used", () => {
  // RFC 8452 C.2, the first vector: key 01 00…, nonce 03 00…, no plain text.
  const key = new Uint8Array(32);
  key[0] = 1;
  const nonce = new Uint8Array(12);
  nonce[0] = 3;
  const tag = Array.from(gcmsiv(key, nonce).encrypt(new Uint8Array(0)), (b) => b.toString(16).padStart(2, "0"));
  assert.equal(tag.join(""), "07f5f4169bbf55a8400cd47ea6fd400f");
});

Deno.test("aes_secret: Pingap's format: fixed nonce, the key cut or zero-padded to 32 bytes", () => {
  const key = "12345678901234567890123456789012";
  const value = aesEncrypt(key, "hello");
  assert.equal(aesDecrypt(key, value), "hello");
  assert.equal(aesEncrypt(key, "hello"), value, "the fixed nonce: the same every time");
  // 5 bytes of text and a 16-byte tag.
  assert.equal(atob(value).length, 21);
  // What Pingap computes: the key's bytes zero-padded, the nonce the 12 bytes of "pingap nonce".
  const padded = new Uint8Array(32);
  padded.set(new TextEncoder().encode("short"));
  const expected = gcmsiv(padded, new TextEncoder().encode("pingap nonce")).encrypt(new TextEncoder().encode("hé"));
  assert.equal(aesEncrypt("short", "hé"), btoa(String.fromCharCode(...expected)));
  assert.equal(aesEncrypt(`${key}-and-more`, "x"), aesEncrypt(key, "x"), "past 32 bytes the key is cut");
  assert.throws(() => aesDecrypt("another key", value), /does not decrypt with this key/);
  assert.throws(() => aesDecrypt(key, "%%%"), /not base64/);
});

Deno.test("aes_secret: a storage with a secret is decrypted where an item includes it; a wrong secret is an error", () => {
  const key = "storage-key";
  const fragment = aesEncrypt(key, 'connection_timeout = "3s"');
  const compile = (secret: string) =>
    compileSources([{
      file: "t.toml",
      text: `[upstreams.u]\naddrs = ["127.0.0.1:8080"]\nincludes = ["tuning"]\n\n` +
        `[storages.tuning]\ncategory = "config"\nsecret = "${secret}"\nvalue = "${fragment}"\n`,
    }]);
  const ok = compile(key);
  assert.deepEqual(ok.diagnostics.filter((d) => d.severity === "error"), []);
  const u = ok.plan!.upstreams.find((x) => x.name === "u")!;
  assert.equal(u.connectionTimeout, 3000);
  const bad = compile("another key").diagnostics.filter((d) => d.severity === "error");
  assert.equal(bad.length, 1, JSON.stringify(bad));
  assert.equal(formatPath(bad[0]!.path), "storages.tuning.value");
  assert.match(bad[0]!.message, /does not decrypt with this key/);
  assert.match(bad[0]!.hint ?? "", /\/api\/aes/);
  assert.ok(!JSON.stringify(bad).includes(fragment), "the value is never quoted");
});
