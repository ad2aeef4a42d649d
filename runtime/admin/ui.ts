/**
 * The admin web UI's files (built from admin_ui/ by `deno task ui` into ui_assets.gen.ts), served without
 * authentication (the login page must load before the user logs in; every API call carries the token). Each file is
 * compressed once, on first use, with brotli or gzip as the browser accepts, and carries an ETag; nothing is fetched
 * from another host (the page's CSP, set by plugin.ts, says `default-src 'self'`).
 *
 * @module
 */
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { acceptsEncoding } from "../plugins/content_coding.ts";
import { UI_ASSETS } from "./ui_assets.gen.ts";

const TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
};

interface Encoded {
  readonly identity: Uint8Array;
  readonly br: Uint8Array;
  readonly gzip: Uint8Array;
  readonly etag: string;
}

const encoded = new Map<string, Encoded>();

function encode(name: string, text: string): Encoded {
  let e = encoded.get(name);
  if (!e) {
    const identity = new TextEncoder().encode(text);
    let hash = 0x811c9dc5;
    for (const b of identity) hash = Math.imul(hash ^ b, 0x01000193);
    e = {
      identity,
      br: brotliCompressSync(identity, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
      gzip: gzipSync(identity, { level: 9 }),
      etag: `"${(hash >>> 0).toString(16)}-${identity.length}"`,
    };
    encoded.set(name, e);
  }
  return e;
}

/**
 * The file at `path` (below the mount), compressed as `acceptEncoding` allows, or a 404; `ifNoneMatch` answered
 * with 304 when it names the file's ETag.
 */
export function uiAsset(path: string, _mount: string, acceptEncoding = "", ifNoneMatch = ""): Response {
  const name = path === "/" ? "index.html" : path.slice(1);
  const text = UI_ASSETS[name];
  if (text === undefined || name.includes("/")) {
    return new Response("Not Found", { status: 404, headers: { "content-type": "text/plain; charset=utf-8" } });
  }
  const e = encode(name, text);
  const headers: Record<string, string> = {
    "content-type": TYPES[name.slice(name.lastIndexOf(".") + 1)] ?? "application/octet-stream",
    // The page is checked each load; the script and stylesheet too (their names do not change with their content).
    "cache-control": "no-cache",
    etag: e.etag,
    vary: "Accept-Encoding",
  };
  if (ifNoneMatch.split(",").some((t) => t.trim() === e.etag)) return new Response(null, { status: 304, headers });
  let body = e.identity;
  if (acceptsEncoding(acceptEncoding, "br")) {
    body = e.br;
    headers["content-encoding"] = "br";
  } else if (acceptsEncoding(acceptEncoding, "gzip")) {
    body = e.gzip;
    headers["content-encoding"] = "gzip";
  }
  return new Response(body as Uint8Array<ArrayBuffer>, { headers });
}
