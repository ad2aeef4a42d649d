/** Pingap's AES-256-GCM-SIV for secrets: round trip, its key rule, a fixed answer, and refusals. */
import assert from "node:assert/strict";
import { gcmsiv } from "@noble/ciphers/aes.js";
import { aesDecrypt, aesEncrypt } from "./aes_secret.ts";

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
