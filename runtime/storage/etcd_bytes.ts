/**
 * etcd's JSON gateway sends keys and values as base64 of their bytes; a
 * prefix is read as a key range whose end is computed on those bytes.
 *
 * @module
 */

const encoder = new TextEncoder();

/** Base64 of a string's UTF-8 bytes (or of bytes). */
export function b64(value: string | Uint8Array): string {
  const bytes = typeof value === "string" ? encoder.encode(value) : value;
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Bytes of a base64 string. */
export function unb64(value: string): Uint8Array {
  const s = atob(value);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** The end of the key range of everything starting with `prefix` (base64). */
export function prefixRangeEnd(prefix: string): string {
  const bytes = [...encoder.encode(prefix)];
  while (bytes.length) {
    const last = bytes.pop()!;
    if (last < 0xff) {
      bytes.push(last + 1);
      return b64(new Uint8Array(bytes));
    }
  }
  return b64(new Uint8Array([0])); // all keys from the prefix on
}
