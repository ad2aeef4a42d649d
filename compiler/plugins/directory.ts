/**
 * `directory`: serves static files from a local directory.
 *
 * @module
 */
import { SECONDS_LIMIT } from "../units.ts";
import { diag } from "../diagnostic.ts";
import { array, bool, duration, field, parsed, size, str } from "../schema/types.ts";
import { type HeaderLine, headerLine } from "../values/header.ts";
import { definePlugin } from "./define.ts";

/** Smallest streaming chunk; smaller values are raised to it. */
const MIN_CHUNK_SIZE = 4096;

/** Compiled `directory` config. */
export interface DirectoryPlan {
  /** Root directory as written; the runtime expands a leading `~/` and resolves it. */
  readonly path: string;
  /** File served for a directory when `autoindex` is off, with a leading `/`. */
  readonly index: string;
  /** List directories as HTML. */
  readonly autoindex: boolean;
  /** Streaming chunk size in bytes (files smaller than this are sent in one piece); at least 4096. */
  readonly chunkSize: number;
  /** `Cache-Control: max-age` in milliseconds (not sent for text/html). */
  readonly maxAge?: number;
  /** Mark `Cache-Control` private. */
  readonly private: boolean;
  /** Charset appended to `text/*` content types. */
  readonly charset?: string;
  /** Send `Content-Disposition: attachment`. */
  readonly download: boolean;
  /** Follow symbolic links; when false, real paths must stay under the root. */
  readonly followSymlinks: boolean;
  /** Extra response headers. */
  readonly headers: readonly HeaderLine[];
}

/** The `directory` plugin. */
export const directory = definePlugin({
  category: "directory",
  runtime: true,
  doc: "Serves files from a local directory, with Range support, ETag and Last-Modified revalidation, optional " +
    "directory listings and cache headers. The request path (after the location's `rewrite`) is looked up under " +
    "`path`; paths that would escape the root (`..`, NUL, backslashes, and with `follow_symlinks = false` links that " +
    "lead out) are refused with 403.",
  steps: { allowed: ["request", "proxy_upstream"], default: "request" },
  fields: {
    path: field(str({ nonEmpty: true }), {
      doc: "Root directory to serve. A leading `~/` stands for the home directory of the user running the proxy.",
      required: true,
    }),
    index: field(str({ nonEmpty: true }), {
      doc: "File served for a directory request when `autoindex` is off.",
      default: "index.html",
    }),
    autoindex: field(bool(), { doc: "List the files of a directory as HTML (hidden files left out).", default: false }),
    chunk_size: field(size(), {
      doc:
        "Size of the chunks a file is streamed in; files smaller than this are sent in one piece. Raised to 4096 if smaller.",
      default: MIN_CHUNK_SIZE,
    }),
    max_age: field(duration(SECONDS_LIMIT), { doc: "Sets `Cache-Control: max-age` on served files (HTML excepted)." }),
    private: field(bool(), { doc: "Marks the `Cache-Control` header `private`.", default: false }),
    charset: field(str({ nonEmpty: true }), { doc: "Charset appended to `text/*` content types, e.g. `utf-8`." }),
    download: field(bool(), {
      doc: "Sends `Content-Disposition: attachment` so browsers download files instead of showing them.",
      default: false,
    }),
    follow_symlinks: field(bool(), {
      doc: "Follow symbolic links. When `false`, a file whose real path lies outside the root is refused.",
      default: true,
    }),
    headers: field(array(parsed("header line", headerLine)), {
      doc: 'Extra response headers, each `"Name:value"`.',
      default: [],
    }),
  },
  compile(config, ctx): DirectoryPlan {
    let chunkSize = config.chunk_size;
    if (chunkSize < MIN_CHUNK_SIZE) {
      ctx.diags.push(
        diag(
          "raised-value",
          [...ctx.path, "chunk_size"],
          `Chunk size ${chunkSize} is raised to ${MIN_CHUNK_SIZE} bytes`,
          {
            severity: "warning",
            hint: `Use at least ${MIN_CHUNK_SIZE}, e.g. "4kb" or "64kb"`,
          },
        ),
      );
      chunkSize = MIN_CHUNK_SIZE;
    }
    if (config.charset !== undefined && !/^[A-Za-z0-9._:-]+$/.test(config.charset)) {
      ctx.diags.push(
        diag("invalid-value", [...ctx.path, "charset"], `Charset ${JSON.stringify(config.charset)} is invalid`, {
          hint: 'Use a charset name such as "utf-8"',
        }),
      );
    }
    const index = config.index.startsWith("/") ? config.index : `/${config.index}`;
    return {
      path: config.path,
      index,
      autoindex: config.autoindex,
      chunkSize,
      ...(config.max_age !== undefined ? { maxAge: config.max_age } : {}),
      private: config.private,
      ...(config.charset !== undefined ? { charset: config.charset } : {}),
      download: config.download,
      followSymlinks: config.follow_symlinks,
      headers: config.headers,
    };
  },
});
