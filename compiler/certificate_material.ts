/**
 * Certificate material as Pingap accepts it: PEM text, base64 of PEM, or a
 * file path (`~` expanded). Telling the forms apart is pure; reading a file
 * is done by the caller (`check --live`, or the runtime).
 *
 * @module
 */

/** How a `tls_cert` / `tls_key` value is given. */
export type Material =
  | { readonly kind: "pem"; readonly pem: string }
  | { readonly kind: "file"; readonly path: string };

/**
 * Classifies a value; `home` expands a leading `~`.
 *
 * @example Usage
 * ```ts
 * import { material } from "./certificate_material.ts";
 * const m = material("~/certs/a.pem", "/home/me");
 * if (m.kind !== "file" || m.path !== "/home/me/certs/a.pem") throw new Error();
 * ```
 */
export function material(value: string, home = ""): Material {
  const v = value.trim();
  if (v.includes("-----BEGIN ")) return { kind: "pem", pem: v };
  if (/^[A-Za-z0-9+/=\s]+$/.test(v) && v.length >= 64) {
    try {
      const text = atob(v.replace(/\s+/g, ""));
      if (text.includes("-----BEGIN ")) return { kind: "pem", pem: text };
    } catch {
      // Not base64: a path.
    }
  }
  return { kind: "file", path: v.startsWith("~/") ? home + v.slice(1) : v };
}
