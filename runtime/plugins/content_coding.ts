/**
 * Content codings as the compression plugins read them: whether a client's
 * `Accept-Encoding` accepts a coding, which response may be compressed, and
 * the streaming encoders and decoders (node:zlib, which has gzip, brotli and
 * zstd here) as web `TransformStream`s that never hold a whole body.
 *
 * @module
 */
import {
  constants,
  createBrotliCompress,
  createBrotliDecompress,
  createGunzip,
  createGzip,
  createInflate,
  createZstdCompress,
  createZstdDecompress,
} from "node:zlib";

/** The codings this proxy makes, in Pingap's order of preference. */
export type Coding = "zstd" | "br" | "gzip";

/**
 * Whether `header` (an `Accept-Encoding` value) accepts `coding`: a list item whose token equals it (ASCII case
 * ignored; `x-gzip` and `gzipx` are other tokens) with a `q` above 0 (no `q` is 1; one that is not a number is 0).
 */
export function acceptsEncoding(header: string, coding: string): boolean {
  let start = 0;
  while (start <= header.length) {
    let end = header.indexOf(",", start);
    if (end < 0) end = header.length;
    const item = header.slice(start, end);
    start = end + 1;
    const semi = item.indexOf(";");
    const token = (semi < 0 ? item : item.slice(0, semi)).trim();
    if (token.length !== coding.length || token.toLowerCase() !== coding) continue;
    if (semi < 0) return true;
    for (const param of item.slice(semi + 1).split(";")) {
      const eq = param.indexOf("=");
      if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== "q") continue;
      const q = Number(param.slice(eq + 1).trim());
      return q > 0;
    }
    return true;
  }
  return false;
}

/** Whether `value` (a `Vary` value) already names `Accept-Encoding`, or is `*`. */
export function variesByAcceptEncoding(value: string | null): boolean {
  if (value === null) return false;
  for (const name of value.split(",")) {
    const n = name.trim().toLowerCase();
    if (n === "*" || n === "accept-encoding") return true;
  }
  return false;
}

/** Adds `Accept-Encoding` to the response's `Vary` unless it is there (or `*`). */
export function addVary(headers: Headers): void {
  if (!variesByAcceptEncoding(headers.get("vary"))) headers.append("vary", "Accept-Encoding");
}

/** The media type of a `Content-Type` value, lower case, without parameters ("" when none). */
export function mediaType(contentType: string | null): string {
  if (contentType === null) return "";
  const semi = contentType.indexOf(";");
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/**
 * The default mode's rule (Pingora's): text, `application/*` and `font/*`, SVG and icons; nothing whose type has
 * `zip` in it (gzip, zip archives), nor a response without a type, nor gRPC (whose messages carry their own coding
 * and must not get a `Content-Encoding`).
 */
export function isCompressibleDownstream(type: string): boolean {
  if (type === "" || type.includes("zip") || type.startsWith("application/grpc")) return false;
  return type.startsWith("text/") || type.startsWith("application/") || type.startsWith("font/") ||
    type === "image/svg+xml" || type === "image/x-icon" || type === "image/vnd.microsoft.icon";
}

/** The upstream mode's rule (Pingap's): `application/json`, `application/xml`, `text/html` and any `text/*`. */
export function isCompressibleUpstream(type: string): boolean {
  return type.startsWith("text/") || type === "application/json" || type === "application/xml";
}

/** Whether `type` (a media type, lower case) starts with one of `types` (`*`: any); no type matches nothing. */
export function matchesTypes(types: readonly string[], type: string): boolean {
  if (type === "") return false;
  for (const prefix of types) if (prefix === "*" || type.startsWith(prefix)) return true;
  return false;
}

/**
 * Responses passed on as they are: an event stream (a compressor would hold its events back) and whatever says
 * `Cache-Control: no-transform` (RFC 9111 §5.2.2.6).
 */
export function mustNotTransform(headers: Headers): boolean {
  if (mediaType(headers.get("content-type")) === "text/event-stream") return true;
  const cc = headers.get("cache-control");
  return cc !== null && /(?:^|,)\s*no-transform\s*(?:,|$)/i.test(cc);
}

/** Makes a strong `ETag` weak: the compressed bytes are not the ones it names. */
export function weakenEtag(headers: Headers): void {
  const etag = headers.get("etag");
  if (etag !== null && etag.startsWith('"')) headers.set("etag", `W/${etag}`);
}

/** What an encoder did: bytes in and out, and time spent waiting on zlib (ms). Filled as the body streams. */
export interface CompressionStat {
  in: number;
  out: number;
  ms: number;
}

/** A node:zlib stream, as far as the adapter uses it. */
interface ZlibStream {
  write(chunk: Uint8Array, cb: (error?: Error | null) => void): boolean;
  end(): void;
  destroy(): void;
  on(event: "data", listener: (chunk: Uint8Array) => void): this;
  on(event: "error", listener: (error: Error) => void): this;
  once(event: "end", listener: () => void): this;
}

/**
 * A node:zlib stream as a web transform. Each chunk is written and the next one asked for only once zlib has taken it,
 * and the transform's own backpressure holds the source while the client reads slowly: at most about a chunk is in
 * flight, whatever the body's size. A zlib error errors the body (never the process); a cancel frees zlib.
 */
function zlibTransform(make: () => ZlibStream, stat?: CompressionStat): TransformStream<Uint8Array, Uint8Array> {
  let z: ZlibStream | undefined;
  let failure: Error | undefined;
  return new TransformStream<Uint8Array, Uint8Array>({
    start(controller) {
      z = make();
      z.on("data", (chunk) => {
        if (stat !== undefined) stat.out += chunk.byteLength;
        try {
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        } catch {
          // The body was cancelled: nothing reads it any more.
        }
      });
      z.on("error", (e) => {
        failure = e;
        try {
          controller.error(e);
        } catch {
          // Already errored or closed.
        }
      });
    },
    transform(chunk) {
      if (failure) throw failure;
      if (chunk.byteLength === 0) return;
      if (stat !== undefined) {
        stat.in += chunk.byteLength;
        const t = performance.now();
        return new Promise<void>((resolve, reject) => {
          z!.write(chunk, (e) => {
            stat.ms += performance.now() - t;
            e ? reject(e) : resolve();
          });
        });
      }
      return new Promise<void>((resolve, reject) => {
        z!.write(chunk, (e) => e ? reject(e) : resolve());
      });
    },
    flush() {
      if (failure) throw failure;
      const t = stat === undefined ? 0 : performance.now();
      return new Promise<void>((resolve, reject) => {
        z!.once(
          "end",
          stat === undefined ? resolve : () => {
            stat.ms += performance.now() - t;
            resolve();
          },
        );
        z!.on("error", reject);
        z!.end();
      });
    },
    cancel() {
      z?.destroy();
    },
  });
}

/**
 * A streaming encoder of `coding` at `level` (gzip 1–9, brotli 1–11, zstd 1–22); with `stat`, what it does is counted
 * there.
 */
export function encoder(
  coding: Coding,
  level: number,
  stat?: CompressionStat,
): TransformStream<Uint8Array, Uint8Array> {
  switch (coding) {
    case "gzip":
      return zlibTransform(() => createGzip({ level }), stat);
    case "br":
      return zlibTransform(() => createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: level } }), stat);
    case "zstd":
      return zlibTransform(
        () => createZstdCompress({ params: { [constants.ZSTD_c_compressionLevel]: level } }),
        stat,
      );
  }
}

/** A streaming decoder of `coding` (gzip, x-gzip, deflate, br, zstd), or undefined for another coding. */
export function decoder(coding: string): TransformStream<Uint8Array, Uint8Array> | undefined {
  switch (coding) {
    case "gzip":
    case "x-gzip":
      return zlibTransform(() => createGunzip());
    case "deflate":
      return zlibTransform(() => createInflate());
    case "br":
      return zlibTransform(() => createBrotliDecompress());
    case "zstd":
      return zlibTransform(() => createZstdDecompress());
  }
  return undefined;
}
