/**
 * The sealed cookies of `oidc`: JSON encrypted and authenticated with AES-256-GCM under the plugin's key (SHA-256 of
 * `cookie_secret`, issuer and client id, made by the compiler), as `base64url(nonce ‖ ciphertext ‖ tag)`. Anything
 * changed, cut off or sealed under another key opens to undefined.
 *
 * @module
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { Buffer } from "node:buffer";

const NONCE = 12;
const TAG = 16;

/**
 * `value` as JSON, sealed under `key` (32 bytes); a fresh nonce each time, so never the same text twice.
 *
 * @example Usage
 * ```ts
 * import { seal, unseal } from "./oidc_seal.ts";
 * const key = new Uint8Array(32);
 * if ((unseal(key, seal(key, { a: 1 })) as { a: number }).a !== 1) throw new Error();
 * ```
 */
export function seal(key: Uint8Array, value: unknown): string {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  const body = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final(), cipher.getAuthTag()]);
  return Buffer.concat([nonce, body]).toString("base64url");
}

/** What {@linkcode seal} sealed under `key`, or undefined for anything else. */
export function unseal(key: Uint8Array, text: string): unknown {
  try {
    const bytes = Buffer.from(text, "base64url");
    // Node decodes leniently (other characters skipped, spare bits ignored): only the canonical text is ours.
    if (bytes.length < NONCE + TAG || bytes.toString("base64url") !== text) return undefined;
    const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, NONCE));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG));
    const plain = Buffer.concat([decipher.update(bytes.subarray(NONCE, bytes.length - TAG)), decipher.final()]);
    return JSON.parse(plain.toString("utf8"));
  } catch {
    return undefined;
  }
}
