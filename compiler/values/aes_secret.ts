/**
 * Pingap's AES for secrets (a storage's `secret`, decrypted when an item `includes` it; the admin's `/aes`): AES-256-GCM-SIV (RFC 8452, @noble/ciphers)
 * with the fixed nonce `pingap nonce`, the key the UTF-8 bytes of the text key cut or zero-padded to 32, the cipher
 * text (with its tag) in standard base64. The same text under the same key is always the same cipher text: that is
 * Pingap's format, kept so that values move between the two.
 *
 * @module
 */
import { gcmsiv } from "@noble/ciphers/aes.js";

const NONCE = new TextEncoder().encode("pingap nonce");

/** The 32 key bytes of a text key: its UTF-8 bytes, cut or zero-padded. */
function keyBytes(key: string): Uint8Array {
  const out = new Uint8Array(32);
  out.set(new TextEncoder().encode(key).subarray(0, 32));
  return out;
}

/**
 * `data` encrypted under `key`, base64.
 *
 * @example Usage
 * ```ts
 * import { aesDecrypt, aesEncrypt } from "./aes_secret.ts";
 * const value = aesEncrypt("12345678901234567890123456789012", "hello");
 * if (aesDecrypt("12345678901234567890123456789012", value) !== "hello") throw new Error();
 * ```
 */
export function aesEncrypt(key: string, data: string): string {
  const sealed = gcmsiv(keyBytes(key), NONCE).encrypt(new TextEncoder().encode(data));
  return btoa(String.fromCharCode(...sealed));
}

/** The text of a base64 `value` encrypted under `key`; throws when it is no base64 or does not open with that key. */
export function aesDecrypt(key: string, value: string): string {
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(value.trim()), (c) => c.charCodeAt(0));
  } catch {
    throw new Error("the value is not base64");
  }
  let plain: Uint8Array;
  try {
    plain = gcmsiv(keyBytes(key), NONCE).decrypt(bytes);
  } catch {
    throw new Error("the value does not decrypt with this key");
  }
  return new TextDecoder().decode(plain);
}
