/**
 * The SNI choice, as Pingap makes it: the exact name, then the wildcard one
 * label up (`a.example.com` → `*.example.com`), then the default (`*`).
 *
 * @module
 */

/** The name a default certificate is registered under. */
export const DEFAULT_NAME = "*";

/**
 * Picks the entry serving `servername` from an index of lower-case names.
 *
 * @example Usage
 * ```ts
 * import { pickBySni } from "./sni.ts";
 * const index = new Map([["a.test", 1], ["*.test", 2], ["*", 3]]);
 * if (pickBySni(index, "A.test") !== 1 || pickBySni(index, "b.test") !== 2 || pickBySni(index, "") !== 3) {
 *   throw new Error();
 * }
 * ```
 *
 * @param index Names (`example.com`, `*.example.com`, `*`) to entries.
 * @param servername The client's SNI; empty or undefined when it sent none.
 * @returns The entry, or undefined when nothing matches (the handshake fails).
 */
export function pickBySni<T>(index: ReadonlyMap<string, T>, servername: string | undefined): T | undefined {
  if (servername) {
    const name = servername.toLowerCase();
    const exact = index.get(name);
    if (exact !== undefined) return exact;
    const dot = name.indexOf(".");
    if (dot > 0) {
      const wild = index.get("*" + name.slice(dot));
      if (wild !== undefined) return wild;
    }
  }
  return index.get(DEFAULT_NAME);
}

/**
 * The common name of a leaf minted for `servername` by a CA certificate
 * (`is_ca`): `*.` and the name minus its first label when it has more than
 * two labels, else the name itself.
 *
 * @example Usage
 * ```ts
 * import { mintedName } from "./sni.ts";
 * if (mintedName("a.b.example.com") !== "*.b.example.com" || mintedName("example.com") !== "example.com") {
 *   throw new Error();
 * }
 * ```
 */
export function mintedName(servername: string): string {
  const name = servername.toLowerCase();
  const labels = name.split(".");
  return labels.length > 2 ? "*." + labels.slice(1).join(".") : name;
}
