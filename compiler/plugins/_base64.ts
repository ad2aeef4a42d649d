/**
 * Strict standard base64 (RFC 4648 alphabet, canonical `=` padding), as
 * Rust's `base64::STANDARD` engine decodes it. `atob` is too lenient (it
 * accepts missing padding and whitespace), so credentials that Pingap
 * rejects would pass.
 *
 * @module
 */

import { diag, type Diagnostic, type KeyPath } from "../diagnostic.ts";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** The decoded bytes, or why the text is not canonical base64. */
export type Base64Result = { ok: true; bytes: Uint8Array } | { ok: false; reason: string };

/**
 * Decodes canonical standard base64.
 *
 * @example Usage
 * ```ts
 * import { decodeBase64 } from "./_base64.ts";
 * const r = decodeBase64("YWRtaW46MTIzMTIz");
 * if (!r.ok || new TextDecoder().decode(r.bytes) !== "admin:123123") throw new Error();
 * if (decodeBase64("123").ok) throw new Error();
 * ```
 */
export function decodeBase64(text: string): Base64Result {
  const body = text.replace(/=+$/, "");
  const pad = text.length - body.length;
  for (let i = 0; i < body.length; i++) {
    if (!ALPHABET.includes(body[i]!)) {
      return { ok: false, reason: `invalid symbol ${JSON.stringify(body[i])} at offset ${i}` };
    }
  }
  const rem = body.length % 4;
  if (rem === 1) return { ok: false, reason: `invalid input length ${body.length}` };
  const wantPad = rem === 0 ? 0 : 4 - rem;
  if (pad !== wantPad) return { ok: false, reason: "invalid padding" };
  if (rem !== 0) {
    const last = ALPHABET.indexOf(body[body.length - 1]!);
    const unused = rem === 2 ? 0b1111 : 0b11;
    if ((last & unused) !== 0) return { ok: false, reason: "invalid last symbol" };
  }
  const bin = atob(text);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return { ok: true, bytes };
}

/**
 * An `authorizations` entry (base64 of `user:password`) decoded to its text, or undefined with an `invalid-base64`
 * error pushed at `at`.
 *
 * @example Usage
 * ```ts
 * import { decodeAuthorization } from "./_base64.ts";
 * const diags: import("../diagnostic.ts").Diagnostic[] = [];
 * if (decodeAuthorization("YWRtaW46MTIzMTIz", ["a"], diags) !== "admin:123123") throw new Error();
 * if (decodeAuthorization("123", ["a"], diags) !== undefined || diags.length !== 1) throw new Error();
 * ```
 */
export function decodeAuthorization(
  item: string,
  at: KeyPath,
  diags: Diagnostic[],
): string | undefined {
  const r = decodeBase64(item);
  if (r.ok) return new TextDecoder().decode(r.bytes);
  diags.push(
    diag("invalid-base64", at, `Authorization ${JSON.stringify(item)} is not valid base64: ${r.reason}`, {
      hint: 'Encode "user:password", e.g. echo -n "admin:secret" | base64',
    }),
  );
  return undefined;
}
