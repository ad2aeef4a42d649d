/**
 * The node:http2 side of the HTTP/2 engine (h2_engine.ts): request bodies as Web streams that pause while the handler
 * does not read, and a message written out as an h2 response, trailers included.
 *
 * @module
 */
import type { OutgoingHttpHeaders, ServerHttp2Stream } from "node:http2";
import type { HttpResponse } from "../http/message.ts";

/** A request body being read: what the sweep needs to cut it when the client stalls. */
export interface BodyRead {
  /** When a byte of it last came, or the handler last asked for more. */
  last: number;
  /** Does the handler wait for more (false while it is paused because the handler does not read)? */
  waiting: boolean;
  /** Ends the exchange (resets the stream). */
  readonly cut: () => void;
}

/** Response headers HTTP/2 forbids (RFC 9113 §8.2.2). */
const H2_FORBIDDEN = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]);

/** Statuses whose responses have no body. */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** A Web stream over a node request body, paused while the consumer does not read; keeps `watch` current. */
export function nodeBody(
  source: ServerHttp2Stream,
  abort: () => void,
  watch?: BodyRead,
): ReadableStream<Uint8Array> {
  let ended = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      source.on("data", (chunk: Uint8Array) => {
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if (watch) watch.last = Date.now();
        if ((controller.desiredSize ?? 0) <= 0) {
          source.pause();
          if (watch) watch.waiting = false;
        }
      });
      source.once("end", () => {
        ended = true;
        controller.close();
      });
      source.once("close", () => {
        if (!ended) {
          ended = true;
          controller.error(new Deno.errors.ConnectionReset("The client closed the request body"));
        }
      });
    },
    pull() {
      if (watch && !watch.waiting) {
        watch.waiting = true;
        watch.last = Date.now();
      }
      source.resume();
    },
    cancel() {
      if (!ended) abort();
    },
  }, { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength });
}

function trailerObject(t: Headers): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of t) {
    if (H2_FORBIDDEN.has(k)) continue;
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/**
 * Sends `response` on an HTTP/2 stream, then its trailers; sets `state.finished` just before the stream's last frame
 * is queued (so a close after that is not a client reset).
 *
 * A gRPC answer (`content-type: application/grpc…`) with trailers waits for its first body chunk before the head
 * goes out: a trailers-only answer (status in the head, no body, no trailers) must stay one HEADERS frame with
 * END_STREAM, or clients read the empty trailers that follow as a missing status. gRPC servers send the head with the
 * first message anyway.
 */
export async function writeH2(
  response: HttpResponse,
  stream: ServerHttp2Stream,
  method: string,
  state: { finished: boolean },
): Promise<void> {
  const noBody = method === "HEAD" || NULL_BODY.has(response.status);
  const trailers = noBody ? undefined : response.trailers;
  const headers: OutgoingHttpHeaders = { ":status": response.status };
  for (const [k, v] of response.headers) {
    if (H2_FORBIDDEN.has(k) || k === "set-cookie") continue;
    headers[k] = v;
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length) headers["set-cookie"] = cookies;
  const body = response.body;
  if (noBody || stream.destroyed || stream.closed) body?.cancel().catch(ignore);
  if (stream.destroyed || stream.closed) return;
  const reader = body === null || noBody ? undefined : body.getReader();
  const onClose = () => reader?.cancel().catch(ignore);
  stream.once("close", onClose);
  try {
    let first: ReadableStreamReadResult<Uint8Array> | undefined;
    let known: Headers | undefined;
    if (trailers !== undefined && (reader === undefined || isGrpc(response.headers))) {
      if (reader !== undefined) first = await reader.read();
      if (reader === undefined || first?.done) known = await trailers;
      if (stream.destroyed || stream.closed) return;
    }
    const ended = reader === undefined || first?.done === true;
    const withTrailers = trailers !== undefined && !(known !== undefined && known.keys().next().done);
    if (withTrailers) {
      stream.once("wantTrailers", () => {
        trailers.then((t) => {
          if (stream.destroyed) return;
          state.finished = true;
          stream.sendTrailers(trailerObject(t));
        }, () => stream.destroy());
      });
    }
    const endStream = ended && !withTrailers;
    if (endStream) state.finished = true;
    stream.respond(headers, { endStream, waitForTrailers: withTrailers });
    if (ended) {
      if (withTrailers) stream.end();
      return;
    }
    if (first !== undefined && !first.done && !stream.write(first.value)) await drained(stream);
    for (;;) {
      const { done, value } = await reader!.read();
      if (done) break;
      if (stream.destroyed) return;
      if (!stream.write(value)) await drained(stream);
    }
    if (!withTrailers) state.finished = true;
    stream.end();
  } catch (error) {
    // The body failed midway: reset the stream (a close with a code would end it cleanly in Deno 2.9.6).
    state.finished = false;
    reader?.cancel(error).catch(ignore);
    if (!stream.destroyed) stream.destroy(error instanceof Error ? error : new Error(String(error)));
  } finally {
    stream.off("close", onClose);
  }
}

function isGrpc(headers: Headers): boolean {
  return (headers.get("content-type") ?? "").startsWith("application/grpc");
}

function drained(w: ServerHttp2Stream): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      w.off("drain", done);
      w.off("close", done);
      resolve();
    };
    w.once("drain", done);
    w.once("close", done);
  });
}

export function ignore(): void {}

/** Is `host` a host (and port) only: nothing that would end the authority of `http://${host}/…` early? */
export function hostOk(host: string): boolean {
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    // "/", "?", "#", "@", "\\", space and controls.
    if (c === 47 || c === 63 || c === 35 || c === 64 || c === 92 || c <= 32 || c === 127) return false;
  }
  return true;
}
