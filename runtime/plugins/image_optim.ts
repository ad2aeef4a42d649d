/**
 * `image_optim` (Pingap's): the upstream's `200` answers of type `image/png` or `image/jpeg` to a GET with an `Accept`
 * header are converted to the first of `output_types` whose `image/<type>` the `Accept` contains (a substring test,
 * as Pingap), else re-encoded in their own format and sent only when smaller. The answer is read whole (up to
 * {@linkcode MAX_IMAGE_BYTES}) through the context's answer filter, which runs before the upstream-response hooks,
 * so a `cache` on the same location stores the converted image under its own headers.
 *
 * Every such image answer gets `Vary: Accept` (converted or not: what a client gets depends on its `Accept`). A
 * converted one gets its `Content-Type` and `Content-Length`, and loses `ETag` (it named the original's bytes) and
 * `Accept-Ranges`. Anything the codec cannot do (not an image, corrupt, too many pixels, the codec missing) sends the
 * original bytes with the original headers: the request never fails because of the image.
 *
 * @module
 */
import { PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import type { HttpResponse } from "../http/message.ts";
import { joinChunks } from "../http/join_chunks.ts";
import { BuiltResponse } from "../http/response_build.ts";
import { mediaType, mustNotTransform } from "./content_coding.ts";
import { runtimePlugin } from "./contract.ts";
import { encodeImage, type ImageFormat } from "./image_codec.ts";

/** Bodies longer than this pass through as they came (never held whole). */
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;

/** The image types the plugin reads, by media type. */
const SOURCES: Readonly<Record<string, ImageFormat>> = { "image/png": "png", "image/jpeg": "jpeg" };

/** `Vary: Accept` added once. */
function varyByAccept(headers: Headers): void {
  const vary = headers.get("vary");
  if (vary === null) headers.set("vary", "Accept");
  else if (!/(?:^|,)\s*(?:accept|\*)\s*(?:,|$)/i.test(vary)) headers.set("vary", `${vary}, Accept`);
}

/** Body bytes read so far, and the rest when past the cap. */
interface Read {
  readonly chunks: Uint8Array[];
  readonly size: number;
  /** The reader, still open when the body passed {@linkcode MAX_IMAGE_BYTES}. */
  readonly rest?: ReadableStreamDefaultReader<Uint8Array>;
}

async function readUpTo(body: ReadableStream<Uint8Array>, max: number): Promise<Read> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { chunks, size };
    chunks.push(value.slice());
    size += value.byteLength;
    if (size > max) return { chunks, size, rest: reader };
  }
}

/** The chunks read, then the rest of the reader. */
function replay(chunks: Uint8Array[], rest: ReadableStreamDefaultReader<Uint8Array>): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    async pull(out) {
      if (i < chunks.length) return out.enqueue(chunks[i++]!);
      const { done, value } = await rest.read();
      if (done) out.close();
      else out.enqueue(value);
    },
    cancel: (reason) => rest.cancel(reason),
  });
}

/** The image_optim plugin. */
export const imageOptim = runtimePlugin(PLUGIN_DEFINITIONS.imageOptim, (plan) => {
  const targets = plan.outputTypes.map((type) => ({ type, mime: `image/${type}` }));

  /** The upstream's answer to `accept`, converted when it is an image this plugin optimises. */
  const optimise = async (res: HttpResponse, accept: string): Promise<HttpResponse> => {
    if (res.status !== 200) return res;
    const headers = res.headers;
    const source = SOURCES[mediaType(headers.get("content-type"))];
    if (source === undefined) return res;
    const coding = headers.get("content-encoding");
    if ((coding !== null && coding.trim().toLowerCase() !== "identity") || mustNotTransform(headers)) return res;
    varyByAccept(headers);
    const length = headers.get("content-length");
    if (length !== null && Number(length) > MAX_IMAGE_BYTES) return res;
    const whole = res.whole;
    let bytes: Uint8Array;
    if (whole !== undefined) bytes = typeof whole === "string" ? new TextEncoder().encode(whole) : whole;
    else {
      if (res.body === null) return res;
      const read = await readUpTo(res.body, MAX_IMAGE_BYTES);
      if (read.rest !== undefined) {
        return new BuiltResponse(200, res.statusText, headers, replay(read.chunks, read.rest));
      }
      bytes = joinChunks(read.chunks, read.size);
    }
    const target = targets.find((t) => accept.includes(t.mime))?.type ?? source;
    const out = await encodeImage(bytes, target, plan);
    // Re-encoding in its own format is worth it only when it saves bytes.
    if (out === undefined || (target === source && out.byteLength >= bytes.byteLength)) {
      headers.set("content-length", String(bytes.byteLength));
      return new BuiltResponse(200, res.statusText, headers, bytes);
    }
    headers.set("content-type", `image/${target}`);
    headers.set("content-length", String(out.byteLength));
    headers.delete("etag");
    headers.delete("accept-ranges");
    return new BuiltResponse(200, res.statusText, headers, out);
  };

  return {
    request(ctx) {
      if (ctx.method !== "GET") return undefined;
      const accept = ctx.header("accept") ?? "";
      // Without Accept the image goes as it came (Pingap), still marked `Vary: Accept`.
      const filter = (res: HttpResponse) => accept === "" ? markOnly(res) : optimise(res, accept);
      const before = ctx.answerFilter;
      ctx.answerFilter = before === undefined ? filter : (res) => before(res).then(filter);
      return undefined;
    },
  };
});

/** The answer unchanged, with `Vary: Accept` when it is an image the plugin would optimise for another client. */
function markOnly(res: HttpResponse): Promise<HttpResponse> {
  if (res.status === 200 && SOURCES[mediaType(res.headers.get("content-type"))] !== undefined) {
    varyByAccept(res.headers);
  }
  return Promise.resolve(res);
}
