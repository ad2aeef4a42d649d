/**
 * `directory`: serves files from a local directory, as Pingap does (inventory §1.7, §10.9): the request path (after
 * `rewrite`) is looked up under `path`; a directory answers with its `index` file, or its listing with `autoindex`;
 * `Range` (one range), weak `ETag` with `If-None-Match`, `Last-Modified` with `If-Modified-Since`, `Cache-Control` from
 * `max_age`/`private` (never a max age for HTML), `download`, `charset` and extra `headers`. A file up to 1 MiB is read
 * whole and kept in memory by request path, trusted for a second before the file is looked at again
 * (directory_cache.ts, as nginx's `open_file_cache`); a larger one streams in `chunk_size` pieces, and its handle is
 * closed when the body ends, fails or the client leaves. Nothing outside the root is ever opened: see
 * {@linkcode fileUnder} and `follow_symlinks`.
 *
 * @module
 */
import mime from "mime-types";
import { type PlanOf, PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { responseWith } from "../http/response_build.ts";
import { StaticAnswer } from "../http/static_answer.ts";
import type { RequestContext } from "../proxy/context.ts";
import { appLog } from "../observe/log/app_log.ts";
import { type ByteRange, cacheControl, etagMatches, parseRange, weakEtag } from "./directory_http.ts";
import { type CachedFile, FileCache } from "./directory_cache.ts";
import { listingHtml, readListing } from "./directory_listing.ts";
import { fileUnder, isInside } from "./directory_path.ts";
import { runtimePlugin } from "./contract.ts";

type DirectoryPlan = PlanOf<typeof PLUGIN_DEFINITIONS.directory>;

const NO_STORE = "private, no-store";
const TEXT = "text/plain; charset=utf-8";

/** A short answer of the plugin's own: text, never stored by caches. */
function refusal(status: number, text: string): Response {
  return responseWith(text, { status }, { "content-type": TEXT, "cache-control": NO_STORE });
}

/** The root as the requests see it: `~/` expanded, symbolic links of the root itself resolved when it exists. */
export function resolveRoot(path: string): string {
  let root = path;
  if (root === "~" || root.startsWith("~/")) root = (Deno.env.get("HOME") ?? "") + root.slice(1);
  if (!root.startsWith("/")) root = `${Deno.cwd()}/${root}`;
  try {
    root = Deno.realPathSync(root);
  } catch {
    // Not there yet: the literal path; every request then finds nothing (404) until it is made.
  }
  return root.length > 1 && root.endsWith("/") ? root.slice(0, -1) : root;
}

/** `Date` as an HTTP date (RFC 9110 §5.6.7). */
function httpDate(date: Date): string {
  return date.toUTCString();
}

/** The status of an error from the file system: 404 for a missing file, else 500 (the error is logged, not echoed). */
function ioError(error: unknown, file: string): Response {
  if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
    return refusal(404, "Not Found");
  }
  appLog("warn", `directory: cannot read ${file}: ${(error as Error).message}`);
  return refusal(500, "File access error");
}

/** The body of `file` from `start`, `length` bytes, in `chunk`-byte pieces; the handle closes however it ends. */
function fileStream(file: Deno.FsFile, start: number, length: number, chunk: number): ReadableStream<Uint8Array> {
  let left = length;
  let positioned = start === 0;
  const close = () => {
    try {
      file.close();
    } catch {
      // already closed
    }
  };
  return new ReadableStream<Uint8Array>({
    type: "bytes",
    async pull(controller) {
      try {
        if (!positioned) {
          await file.seek(start, Deno.SeekMode.Start);
          positioned = true;
        }
        const buf = new Uint8Array(Math.min(chunk, left));
        const n = await file.read(buf);
        if (n === null || n === 0) throw new Error("file ended before its size");
        left -= n;
        controller.enqueue(n === buf.byteLength ? buf : buf.subarray(0, n));
        if (left === 0) {
          close();
          controller.close();
        }
      } catch (error) {
        close();
        controller.error(error);
      }
    },
    cancel: close,
  });
}

/** Reads `length` bytes of `file` from `start` whole. */
async function readWhole(file: Deno.FsFile, start: number, length: number): Promise<Uint8Array<ArrayBuffer>> {
  if (start > 0) await file.seek(start, Deno.SeekMode.Start);
  const out = new Uint8Array(length);
  let at = 0;
  while (at < length) {
    const n = await file.read(out.subarray(at));
    if (n === null || n === 0) throw new Error("file ended before its size");
    at += n;
  }
  return out;
}

/** A regular file a request path led to. */
interface Found {
  readonly path: string;
  readonly info: Deno.FileInfo;
}

/**
 * Where a request leads under the root: a regular file, or the answer itself (a refusal, a redirect to the
 * directory's `/`, a listing, 404).
 */
async function locate(c: DirectoryPlan, root: string, ctx: RequestContext): Promise<Found | Response> {
  const target = fileUnder(root, ctx.path);
  if (!target.ok) {
    appLog("warn", `directory: refused ${JSON.stringify(ctx.path)}: ${target.reason}`);
    return refusal(403, `You do not have permission to access this resource, file: ${ctx.path}`);
  }
  let path = target.path;
  if (!c.followSymlinks) {
    let real: string | undefined;
    try {
      real = await Deno.realPath(path);
    } catch {
      // Nothing there: it cannot lead anywhere; the stat below answers 404.
    }
    if (real !== undefined && !isInside(root, real)) {
      appLog("warn", `directory: refused ${JSON.stringify(ctx.path)}: a symbolic link leads outside the root`);
      return refusal(403, `You do not have permission to access this resource, file: ${ctx.path}`);
    }
  }
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
    if (info.isDirectory) {
      if (!ctx.path.endsWith("/")) {
        // Relative links of the listing and of an index page resolve against the directory only with its `/`.
        const query = ctx.rawQuery ? `?${ctx.rawQuery}` : "";
        return responseWith(null, { status: 301 }, { location: `${ctx.path}/${query}`, "cache-control": NO_STORE });
      }
      if (c.autoindex) {
        return responseWith(listingHtml(await readListing(path)), { status: 200 }, {
          "content-type": "text/html; charset=utf-8",
          "cache-control": "private, no-cache",
        });
      }
      path = `${path === "/" ? "" : path}${c.index}`;
      info = await Deno.stat(path);
    }
    if (!info.isFile) return refusal(404, "Not Found");
  } catch (error) {
    return ioError(error, path);
  }
  return { path, info };
}

/** The response fields of a file that depend on the file only, and its ETag. */
function fileFields(c: DirectoryPlan, found: Found): { fields: [string, string][]; etag: string | undefined } {
  const { path, info } = found;
  const name = path.slice(path.lastIndexOf("/") + 1);
  let type = mime.lookup(name) || "application/octet-stream";
  if (c.charset !== undefined && type.startsWith("text/")) type += `; charset=${c.charset}`;
  const cacheable = !type.includes("text/html");
  const fields: [string, string][] = [["content-type", type]];
  const etag = weakEtag(info.size, info.mtime);
  if (etag) fields.push(["etag", etag]);
  if (info.mtime) fields.push(["last-modified", httpDate(info.mtime)]);
  fields.push(["accept-ranges", "bytes"]);
  fields.push(["cache-control", cacheControl(cacheable ? c.maxAge : undefined, c.private)]);
  if (c.download) fields.push(["content-disposition", `attachment; filename="${name.replace(/["\\\r\n]/g, "_")}"`]);
  for (const [n, v] of c.headers) fields.push([n, v]);
  return { fields, etag };
}

/** 304 when the client's copy is current (`If-None-Match`, else `If-Modified-Since`). */
function notModified(ctx: RequestContext, etag: string | undefined, mtimeMs: number | undefined): boolean {
  const inm = ctx.header("if-none-match");
  if (inm !== null) return etag !== undefined && etagMatches(inm, etag);
  const ims = ctx.header("if-modified-since");
  return ims !== null && mtimeMs !== undefined && Math.floor(mtimeMs / 1000) * 1000 <= Date.parse(ims);
}

/** The byte range to send, 416 when the `Range` field cannot be served, or the whole file. */
function rangeOf(ctx: RequestContext, size: number): ByteRange | "unsatisfiable" | undefined {
  const field = ctx.header("range");
  if (field === null) return undefined;
  return parseRange(field, size) ?? "unsatisfiable";
}

/** Answers from a kept file: no file system access. */
function fromMemory(ctx: RequestContext, entry: CachedFile): Response {
  if (notModified(ctx, entry.etag, entry.mtimeMs)) return responseWith(null, { status: 304 }, entry.fields);
  const range = rangeOf(ctx, entry.size);
  if (range === "unsatisfiable") {
    return responseWith(null, { status: 416 }, [...entry.fields, ["content-range", `bytes */${entry.size}`]]);
  }
  if (range === undefined) {
    if (ctx.method === "HEAD") {
      return responseWith(null, { status: 200 }, [...entry.fields, ["content-length", String(entry.size)]]);
    }
    return responseWith(entry.body, { status: 200 }, entry.fields);
  }
  const fields = [...entry.fields, ["content-range", `bytes ${range.start}-${range.end}/${entry.size}`] as const];
  return responseWith(entry.body.subarray(range.start, range.end + 1), { status: 206 }, fields);
}

/** Whether a request wants the whole file as it is: a GET with no range and no validators. */
function plainGet(ctx: RequestContext): boolean {
  return ctx.method === "GET" && ctx.header("range") === null && ctx.header("if-none-match") === null &&
    ctx.header("if-modified-since") === null;
}

/** Serves one request under the plugin's root, looking at the file system (a kept file was missing or stale). */
async function serve(
  c: DirectoryPlan,
  root: string,
  cache: FileCache,
  ctx: RequestContext,
  kept: CachedFile | undefined,
): Promise<Response | StaticAnswer> {
  const now = Date.now();
  const found = await locate(c, root, ctx);
  if (found instanceof Response) {
    if (kept !== undefined) cache.delete(ctx.path);
    return found;
  }
  const { path, info } = found;
  const mtimeMs = info.mtime?.getTime() ?? 0;
  if (kept !== undefined && kept.path === path && kept.size === info.size && kept.mtimeMs === mtimeMs) {
    kept.checked = now;
    return kept.answer !== undefined && plainGet(ctx) ? kept.answer : fromMemory(ctx, kept);
  }
  const { fields, etag } = fileFields(c, found);
  if (info.size <= cache.maxFile) {
    // Small: read whole (one read, whatever chunk_size says) and kept for the next requests.
    let body: Uint8Array<ArrayBuffer>;
    try {
      const file = await Deno.open(path, { read: true });
      try {
        body = await readWhole(file, 0, info.size);
      } finally {
        file.close();
      }
    } catch (error) {
      return ioError(error, path);
    }
    const answer = new StaticAnswer(200, fields, body);
    const entry: CachedFile = {
      path,
      size: info.size,
      mtimeMs,
      fields,
      etag,
      body: answer.whole,
      answer,
      checked: now,
    };
    cache.set(ctx.path, entry);
    return plainGet(ctx) ? answer : fromMemory(ctx, entry);
  }
  if (notModified(ctx, etag, info.mtime ? mtimeMs : undefined)) return responseWith(null, { status: 304 }, fields);
  const r = rangeOf(ctx, info.size);
  if (r === "unsatisfiable") {
    return responseWith(null, { status: 416 }, [...fields, ["content-range", `bytes */${info.size}`]]);
  }
  const range = r ?? { start: 0, end: info.size - 1 };
  const status = r === undefined ? 200 : 206;
  if (r !== undefined) fields.push(["content-range", `bytes ${r.start}-${r.end}/${info.size}`]);
  const length = range.end - range.start + 1;
  fields.push(["content-length", String(length)]);
  if (ctx.method === "HEAD") return responseWith(null, { status }, fields);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    return ioError(error, path);
  }
  return responseWith(fileStream(file, range.start, length, c.chunkSize), { status }, fields);
}

/** The directory plugin. */
export const directory = runtimePlugin(PLUGIN_DEFINITIONS.directory, (c) => {
  const root = resolveRoot(c.path);
  const cache = new FileCache();
  return {
    request(ctx) {
      const kept = cache.get(ctx.path);
      if (kept !== undefined && cache.fresh(kept, Date.now())) {
        // The hot path: a kept file answers without a promise or a look at the file system.
        return kept.answer !== undefined && plainGet(ctx) ? kept.answer : fromMemory(ctx, kept);
      }
      return serve(c, root, cache, ctx, kept);
    },
  };
});
