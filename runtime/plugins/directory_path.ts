/**
 * Where a request path points under a `directory` plugin's root, without ever pointing outside it. The path is
 * decoded once more (routing already decoded printable escapes; `%25`, spaces and UTF-8 escapes are left to here), a
 * NUL or a backslash anywhere is refused, and `..` segments are resolved lexically: one that would climb above the root
 * is refused. Symbolic links are the caller's business (`follow_symlinks`), since only the file system knows them.
 *
 * @module
 */

/** Where a request path leads: a file system path under the root, or a refusal. */
export type FileTarget =
  | { readonly ok: true; readonly path: string }
  | { readonly ok: false; readonly status: 403; readonly reason: string };

/**
 * The file system path under `root` that `requestPath` names.
 *
 * @example Usage
 * ```ts
 * import { fileUnder } from "./directory_path.ts";
 * const t = fileUnder("/srv/www", "/docs/../a%20b.txt");
 * if (!t.ok || t.path !== "/srv/www/a b.txt") throw new Error();
 * if (fileUnder("/srv/www", "/..%2f..%2fetc/passwd").ok) throw new Error();
 * ```
 *
 * @param root The root, absolute, without a trailing `/` (unless it is `/` itself).
 * @param requestPath The request's path (starts with `/`, no query).
 * @returns The path, or a 403 refusal with its reason.
 */
export function fileUnder(root: string, requestPath: string): FileTarget {
  let decoded = requestPath;
  if (decoded.includes("%")) {
    try {
      decoded = decodeURIComponent(decoded);
    } catch {
      // An escape that is not UTF-8 stays as it was written (Pingap does the same); it names a file with a `%`.
    }
  }
  if (decoded.includes("\0")) return { ok: false, status: 403, reason: "NUL in path" };
  if (decoded.includes("\\")) return { ok: false, status: 403, reason: "backslash in path" };
  const parts: string[] = [];
  for (const segment of decoded.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (parts.length === 0) return { ok: false, status: 403, reason: "path climbs above the root" };
      parts.pop();
    } else parts.push(segment);
  }
  const base = root.endsWith("/") ? root : `${root}/`;
  return { ok: true, path: parts.length === 0 ? root : base + parts.join("/") };
}

/**
 * Whether `real` (a resolved path) is `root` or lies under it.
 *
 * @param root The root's resolved path.
 * @param real A resolved path.
 * @returns True when `real` is inside the root.
 */
export function isInside(root: string, real: string): boolean {
  return real === root || real.startsWith(root.endsWith("/") ? root : `${root}/`);
}
