/**
 * The request path as routing sees it: percent-escapes of printable ASCII decoded, dot segments removed (also
 * written `%2e`), duplicate slashes merged — as nginx builds `$uri` and Pingap 0.16 routes. Without it
 * `/private/../public` or `/public/..%2fprivate` reaches a location its prefix does not name (an auth bypass).
 *
 * @module
 */

/** Hex digit value, or -1. */
function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  c |= 32;
  return c >= 97 && c <= 102 ? c - 87 : -1;
}

/**
 * Does this `%XX` decode to a character that can stand in a path as itself? Printable ASCII except `%`, `?` and
 * `#` (which would change what the target means): those, controls, space and bytes past ASCII stay escaped.
 */
function decodable(code: number): boolean {
  return code > 32 && code < 127 && code !== 37 && code !== 63 && code !== 35;
}

/**
 * Normalises a request path (origin-form, without the query). Costs one scan for a path with no `%`, no `/.` and no
 * `//` (nearly all), which is returned as it is.
 *
 * - `%XX` of printable ASCII other than `%`, `?`, `#` is decoded (`%2e` → `.`, `%2F` → `/`, as nginx);
 * - `.` segments are removed, `..` removes the segment before it (never above the root);
 * - runs of `/` become one.
 *
 * A path ending in a dot segment ends in `/` (`/a/..` → `/`). Other characters, raw UTF-8 included, are kept.
 *
 * @param path Starts with `/`.
 * @returns The normalised path, `path` itself when nothing changes.
 */
export function normalizePath(path: string): string {
  const n = path.length;
  let i = 0;
  for (; i < n; i++) {
    const c = path.charCodeAt(i);
    if (c === 37) break;
    if (c === 47 && i + 1 < n) {
      const d = path.charCodeAt(i + 1);
      if (d === 47 || d === 46) break;
    }
  }
  if (i === n) return path;
  return removeDots(decodePrintable(path));
}

/** Decodes the `%XX` escapes {@linkcode decodable} allows; the rest as it is. */
function decodePrintable(path: string): string {
  let out = "";
  let from = 0;
  for (let i = path.indexOf("%"); i >= 0 && i + 2 < path.length; i = path.indexOf("%", i + 1)) {
    const hi = hex(path.charCodeAt(i + 1));
    const lo = hex(path.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) continue;
    const code = hi * 16 + lo;
    if (!decodable(code)) continue;
    out += path.slice(from, i) + String.fromCharCode(code);
    from = i + 3;
    i += 2;
  }
  return from === 0 ? path : out + path.slice(from);
}

/** Removes dot segments and empty segments (RFC 3986 §5.2.4, plus merging slashes). */
function removeDots(path: string): string {
  const parts = path.split("/");
  const out: string[] = [];
  // parts[0] is "" (the path starts with "/").
  let trailing = false;
  for (let k = 1; k < parts.length; k++) {
    const seg = parts[k]!;
    const last = k === parts.length - 1;
    if (seg === "" || seg === ".") {
      if (last) trailing = true;
      continue;
    }
    if (seg === "..") {
      out.pop();
      if (last) trailing = true;
      continue;
    }
    out.push(seg);
    trailing = false;
  }
  if (out.length === 0) return "/";
  return "/" + out.join("/") + (trailing ? "/" : "");
}
