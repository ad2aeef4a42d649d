/**
 * The HTTP parts of serving a file (`directory`): one byte range, weak ETags and their comparison, and
 * `Cache-Control` as Pingap writes it.
 *
 * @module
 */

/** An inclusive byte range of a file. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * The one range a `Range` field asks for, or undefined when it cannot be served (416). Forms: `bytes=a-b`,
 * `bytes=a-` and `bytes=-n`; of a list, the first is served (as Pingap); an end past the file is cut to it.
 *
 * @example Usage
 * ```ts
 * import { parseRange } from "./directory_http.ts";
 * const r = parseRange("bytes=-500", 1000);
 * if (r?.start !== 500 || r.end !== 999) throw new Error();
 * if (parseRange("bytes=1000-", 1000) !== undefined) throw new Error();
 * ```
 *
 * @param field The `Range` field's value.
 * @param size The file's size.
 * @returns The range, or undefined.
 */
export function parseRange(field: string, size: number): ByteRange | undefined {
  const value = field.trim();
  if (!value.startsWith("bytes=")) return undefined;
  const spec = value.slice(6).split(",")[0]!.trim();
  const dash = spec.indexOf("-");
  if (dash < 0 || spec.indexOf("-", dash + 1) >= 0) return undefined;
  const first = spec.slice(0, dash);
  const last = spec.slice(dash + 1);
  if (first === "") {
    const n = digits(last);
    if (n === undefined || n === 0 || n > size) return undefined;
    return { start: size - n, end: size - 1 };
  }
  const start = digits(first);
  if (start === undefined || start >= size) return undefined;
  let end = size - 1;
  if (last !== "") {
    const e = digits(last);
    if (e === undefined) return undefined;
    end = Math.min(e, size - 1);
  }
  return end < start ? undefined : { start, end };
}

function digits(text: string): number | undefined {
  if (!/^[0-9]{1,15}$/.test(text)) return undefined;
  return Number(text);
}

/**
 * The weak ETag of a file, `W/"<size hex>-<mtime seconds hex>"`, or undefined without a modification time.
 *
 * @param size The file's size.
 * @param mtime Its modification time.
 * @returns The tag.
 */
export function weakEtag(size: number, mtime: Date | null): string | undefined {
  const secs = mtime ? Math.floor(mtime.getTime() / 1000) : 0;
  return secs > 0 ? `W/"${size.toString(16)}-${secs.toString(16)}"` : undefined;
}

/**
 * Whether an `If-None-Match` value names `etag` under the weak comparison (RFC 9110 §8.8.3.2): `*`, or any listed
 * tag equal to it once `W/` is dropped from both.
 *
 * @param ifNoneMatch The field's value.
 * @param etag The file's tag.
 * @returns True when the client's copy is current.
 */
export function etagMatches(ifNoneMatch: string, etag: string): boolean {
  const strip = (tag: string) => {
    const t = tag.trim();
    return t.startsWith("W/") ? t.slice(2) : t;
  };
  if (ifNoneMatch.trim() === "*") return true;
  const want = strip(etag);
  return ifNoneMatch.split(",").some((candidate) => strip(candidate) === want);
}

/**
 * `Cache-Control` for a file: `private, no-cache` without a max age (or with 0), else `public, max-age=N` or
 * `private, max-age=N`.
 *
 * @param maxAgeMs The max age in milliseconds, if any.
 * @param isPrivate Whether caches in between may not keep it.
 * @returns The field's value.
 */
export function cacheControl(maxAgeMs: number | undefined, isPrivate: boolean): string {
  const secs = maxAgeMs === undefined ? 0 : Math.floor(maxAgeMs / 1000);
  return secs > 0 ? `${isPrivate ? "private" : "public"}, max-age=${secs}` : "private, no-cache";
}
