/**
 * `directory`: serves files from a local directory, as Pingap does (inventory §1.7, §10.9): the request path (after
 * `rewrite`) is looked up under `path`; a directory answers with its `index` file, or its listing with `autoindex`;
 * `Range` (one range), weak `ETag` with `If-None-Match`, `Last-Modified` with `If-Modified-Since`, `Cache-Control` from
 * `max_age`/`private` (never a max age for HTML), `download`, `charset` and extra `headers`. A file up to `chunk_size`
 * is read whole; a larger one streams in `chunk_size` pieces, and its handle is closed when the body ends, fails or the
 * client leaves. Nothing outside the root is ever opened: see {@linkcode fileUnder} and `follow_symlinks`.
 *
 * @module
 */
import mime from "mime-types";
import { type PlanOf, PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { responseWith } from "../http/response_build.ts";
import type { RequestContext } from "../proxy/context.ts";
import { appLog } from "../observe/log/app_log.ts";
import { type ByteRange, cacheControl, etagMatches, parseRange, weakEtag } from "./directory_http.ts";
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

/** Serves one request under the plugin's root. */
async function serve(c: DirectoryPlan, root: string, ctx: RequestContext): Promise<Response> {
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
  const name = path.slice(path.lastIndexOf("/") + 1);
  let type = mime.lookup(name) || "application/octet-stream";
  if (c.charset !== undefined && type.startsWith("text/")) type += `; charset=${c.charset}`;
  const cacheable = !type.includes("text/html");
  const headers: [string, string][] = [["content-type", type]];
  const etag = weakEtag(info.size, info.mtime);
  if (etag) headers.push(["etag", etag]);
  if (info.mtime) headers.push(["last-modified", httpDate(info.mtime)]);
  headers.push(["accept-ranges", "bytes"]);
  headers.push(["cache-control", cacheControl(cacheable ? c.maxAge : undefined, c.private)]);
  if (c.download) headers.push(["content-disposition", `attachment; filename="${name.replace(/["\\\r\n]/g, "_")}"`]);
  for (const [n, v] of c.headers) headers.push([n, v]);

  const inm = ctx.header("if-none-match");
  const ims = inm === null ? ctx.header("if-modified-since") : null;
  if (
    (inm !== null && etag !== undefined && etagMatches(inm, etag)) ||
    (ims !== null && info.mtime !== null && Math.floor(info.mtime.getTime() / 1000) * 1000 <= Date.parse(ims))
  ) {
    return responseWith(null, { status: 304 }, headers);
  }

  const rangeField = ctx.header("range");
  let range: ByteRange = { start: 0, end: info.size - 1 };
  let status = 200;
  if (rangeField !== null) {
    const r = parseRange(rangeField, info.size);
    if (r === undefined) {
      headers.push(["content-range", `bytes */${info.size}`]);
      return responseWith(null, { status: 416 }, headers);
    }
    range = r;
    status = 206;
    headers.push(["content-range", `bytes ${r.start}-${r.end}/${info.size}`]);
  }
  const length = range.end - range.start + 1;
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    return ioError(error, path);
  }
  if (length <= c.chunkSize || ctx.method === "HEAD") {
    try {
      const body = ctx.method === "HEAD" ? null : await readWhole(file, range.start, length);
      if (body === null) headers.push(["content-length", String(length)]);
      return responseWith(body, { status }, headers);
    } catch (error) {
      return ioError(error, path);
    } finally {
      file.close();
    }
  }
  headers.push(["content-length", String(length)]);
  return responseWith(fileStream(file, range.start, length, c.chunkSize), { status }, headers);
}

/** The directory plugin. */
export const directory = runtimePlugin(PLUGIN_DEFINITIONS.directory, (c) => {
  const root = resolveRoot(c.path);
  return {
    request(ctx) {
      return serve(c, root, ctx);
    },
  };
});
