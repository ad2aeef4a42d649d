/**
 * The gRPC-Web bridge of a location with `grpc_web = true` (its server lists `modules = ["grpc-web"]`; `check` refuses
 * the location otherwise): a browser's `application/grpc-web` (`+proto`, …) or `application/grpc-web-text` request
 * goes to the upstream as gRPC over HTTP/2 (`application/grpc…`, `te: trailers`, the text decoded from base64), and
 * the gRPC answer comes back as gRPC-Web: its content type `application/grpc-web…` again (`-text` for a text request,
 * its body then base64), its trailers (`grpc-status`, `grpc-message`, metadata) in a trailer frame at the end of the
 * body. A trailers-only answer (`grpc-status` among the headers, no body) gets its status in that frame too, so that a
 * cross-origin page reads it without `Access-Control-Expose-Headers`. The body goes chunk by chunk: a server-streaming
 * call's messages reach the browser as they come.
 *
 * As Pingora's bridge: a request of another type, and an answer that is not gRPC, pass unchanged. Unlike it (text mode
 * is not bridged there), `-text` is decoded and encoded. CORS is the `cors` plugin's job.
 *
 * @module
 */
import type { RequestContext } from "./context.ts";
import { ProxyError } from "./errors.ts";
import type { HttpResponse } from "../http/message.ts";
import { BuiltResponse, editable } from "../http/response_build.ts";
import { base64Bytes, Base64Decoder, trailerFrame } from "./grpc_web_codec.ts";

const GRPC = "application/grpc";
const GRPC_WEB = "application/grpc-web";
const GRPC_WEB_TEXT = "application/grpc-web-text";

/** The gRPC status fields a trailers-only answer carries among its headers. */
const STATUS_FIELDS = ["grpc-status", "grpc-message", "grpc-status-details-bin"] as const;

/**
 * The upstream content type for a gRPC-Web request's `contentType` (`application/grpc` plus its suffix, lower case),
 * and whether it is the text (base64) form; undefined when it is no gRPC-Web type.
 *
 * @example Usage
 * ```ts
 * import { grpcWebRequestType } from "./grpc_web.ts";
 * const t = grpcWebRequestType("application/grpc-web-text+proto");
 * if (t?.type !== "application/grpc+proto" || !t.text) throw new Error();
 * ```
 *
 * @param contentType The request's `content-type`.
 * @returns The type to send upstream and the mode, or undefined.
 */
export function grpcWebRequestType(contentType: string): { type: string; text: boolean } | undefined {
  const lower = contentType.trim().toLowerCase();
  if (!lower.startsWith(GRPC_WEB)) return undefined;
  const text = lower.startsWith(GRPC_WEB_TEXT);
  const rest = lower.slice(text ? GRPC_WEB_TEXT.length : GRPC_WEB.length);
  // `application/grpc-web`, `…+proto`, `…; charset=…`: not `application/grpc-webfoo`.
  if (rest !== "" && rest[0] !== "+" && rest[0] !== ";") return undefined;
  return { type: GRPC + rest, text };
}

/**
 * Bridges this request when it is a gRPC-Web one: the upstream request gets the gRPC type, `te: trailers` and (text)
 * the decoded body; the answer is turned back into gRPC-Web. Called on a `grpc_web` location just before the request
 * goes upstream, after the request plugins (which saw the client's own request; a body filter of theirs, `hmac_auth`
 * or `mirror`, sees the client's own body too), and before the answer's hooks.
 *
 * @param ctx The request.
 */
export function bridgeGrpcWeb(ctx: RequestContext): void {
  const contentType = ctx.header("content-type");
  const web = contentType === null ? undefined : grpcWebRequestType(contentType);
  if (web === undefined) return;
  const text = web.text;
  ctx.replaceRequestHeader("content-type", web.type);
  ctx.setUpstreamHeader("te", "trailers");
  if (text) {
    // The decoded body is shorter; HTTP/2 ends it with the stream.
    ctx.replaceRequestHeader("content-length", null);
    const before = ctx.bodyFilter;
    ctx.bodyFilter = before ? (body) => decodeTextBody(before(body)) : decodeTextBody;
  }
  const after = ctx.answerFilter;
  ctx.answerFilter = after
    ? async (res) => toGrpcWeb(await after(res), text)
    : (res) => Promise.resolve(toGrpcWeb(res, text));
}

/** A text request's body, base64-decoded as it streams; text that is no base64 ends it with a 400. */
function decodeTextBody(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const decoder = new Base64Decoder();
  const fail = (controller: TransformStreamDefaultController<Uint8Array>, e: unknown) =>
    controller.error(
      new ProxyError(400, "bad_request", `Cannot decode the gRPC-Web text body: ${(e as Error).message}`),
    );
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        try {
          const bytes = decoder.push(chunk);
          if (bytes.byteLength > 0) controller.enqueue(bytes);
        } catch (e) {
          fail(controller, e);
        }
      },
      flush(controller) {
        try {
          const bytes = decoder.end();
          if (bytes.byteLength > 0) controller.enqueue(bytes);
        } catch (e) {
          fail(controller, e);
        }
      },
    }),
  );
}

/**
 * The gRPC-Web answer for a gRPC one (`res` itself when it is not gRPC): the content type, no `content-length`, the
 * body with the trailer frame at its end, base64 for a text request. The trailers go in the body, not after it.
 *
 * @param res The upstream's answer.
 * @param text Whether the request was `application/grpc-web-text`.
 * @returns The answer for the browser.
 */
export function toGrpcWeb(res: HttpResponse, text: boolean): HttpResponse {
  const type = res.headers.get("content-type");
  if (type === null || !type.startsWith(GRPC) || type.startsWith(GRPC_WEB)) return res;
  const rest = type.slice(GRPC.length);
  if (rest !== "" && rest[0] !== "+" && rest[0] !== ";") return res;
  const out = editable(res);
  const headers = out.headers;
  headers.set("content-type", (text ? GRPC_WEB_TEXT : GRPC_WEB) + rest);
  headers.delete("content-length");
  // A trailers-only answer: its status fields move into the trailer frame.
  let early: [string, string][] | undefined;
  if (headers.has("grpc-status")) {
    early = [];
    for (const name of STATUS_FIELDS) {
      const value = headers.get(name);
      if (value === null) continue;
      early.push([name, value]);
      headers.delete(name);
    }
  }
  const body = grpcWebBody(out.whole ?? out.body, out.trailers, early, text);
  return new BuiltResponse(out.status, out.statusText, headers, body);
}

/** The body of a gRPC-Web answer: the gRPC body's chunks as they come (base64 each, for text), then the trailer frame. */
function grpcWebBody(
  source: ReadableStream<Uint8Array> | Uint8Array | string | null,
  trailers: Promise<Headers> | undefined,
  early: readonly [string, string][] | undefined,
  text: boolean,
): ReadableStream<Uint8Array> {
  const last = async (controller: TransformStreamDefaultController<Uint8Array>) => {
    const fields: [string, string][] = early ? [...early] : [];
    if (trailers !== undefined) { for (const entry of await trailers) fields.push(entry); }
    if (fields.length === 0) return; // The upstream sent no status: the client says so.
    const frame = trailerFrame(fields);
    controller.enqueue(text ? base64Bytes(frame) : frame);
  };
  const bridge = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      if (chunk.byteLength === 0) return;
      controller.enqueue(text ? base64Bytes(chunk) : chunk);
    },
    flush: last,
  });
  if (source instanceof ReadableStream) return source.pipeThrough(bridge);
  const writer = bridge.writable.getWriter();
  const bytes = typeof source === "string" ? new TextEncoder().encode(source) : source;
  if (bytes !== null && bytes.byteLength > 0) writer.write(bytes).catch(() => {});
  writer.close().catch(() => {});
  return bridge.readable;
}
