/**
 * What the cloud DNS providers share: the HMACs and hashes of their
 * request signatures (Web Crypto), RFC 3986 percent-encoding, the
 * `access_key_id` / `access_key_secret` of a `dns_service_url`, and the
 * zones a record name may belong to.
 *
 * @module
 */

const encoder = new TextEncoder();

/** Lower-case hex of bytes. */
export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Standard base64 of bytes. */
export function base64(bytes: ArrayBuffer): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)));
}

/** Hex SHA-256 of a UTF-8 string. */
export async function sha256Hex(text: string): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** HMAC of a UTF-8 message under `key` (a string is taken as UTF-8). */
export async function hmac(
  hash: "SHA-1" | "SHA-256",
  key: string | ArrayBuffer,
  message: string,
): Promise<ArrayBuffer> {
  const raw = typeof key === "string" ? encoder.encode(key) : key;
  const k = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash }, false, ["sign"]);
  return await crypto.subtle.sign("HMAC", k, encoder.encode(message));
}

/** Percent-encoding of RFC 3986: only `A-Z a-z 0-9 - _ . ~` stay as they are. */
export function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** An endpoint and its key pair, read from `https://host?access_key_id=&access_key_secret=`. */
export interface AccessKey {
  /** Scheme, host and port, no trailing slash. */
  readonly origin: string;
  /** Host (and port when not the default), as the `Host` header carries it. */
  readonly host: string;
  readonly id: string;
  readonly secret: string;
}

/** Reads an {@linkcode AccessKey}; throws `TypeError` naming `provider` when a part is missing. */
export function accessKeyOf(serviceUrl: string, provider: string): AccessKey {
  const u = new URL(serviceUrl);
  const id = u.searchParams.get("access_key_id") ?? "";
  const secret = u.searchParams.get("access_key_secret") ?? "";
  if (!id || !secret) {
    throw new TypeError(`dns_service_url for ${provider} needs ?access_key_id=<id>&access_key_secret=<secret>`);
  }
  return { origin: u.origin, host: u.host, id, secret };
}

/**
 * The zones `fqdn` may belong to, longest first, without the
 * `_acme-challenge` label and never a bare top-level label:
 * `_acme-challenge.a.example.com` → `a.example.com`, `example.com`.
 */
export function zoneCandidates(fqdn: string): string[] {
  const labels = fqdn.replace(/\.$/, "").replace(/^_acme-challenge\./, "").split(".");
  const out: string[] = [];
  for (let i = 0; i + 2 <= labels.length; i++) out.push(labels.slice(i).join("."));
  return out;
}

/** The part of `fqdn` in front of `zone` (the record's host label, `RR` / `SubDomain`). */
export function hostInZone(fqdn: string, zone: string): string {
  const name = fqdn.replace(/\.$/, "");
  return name === zone ? "@" : name.slice(0, name.length - zone.length - 1);
}
