/**
 * Knowing when a response is done: the same response, whose body reports
 * each chunk's size and calls `done` once when it ends, fails or is
 * cancelled. Used by `max_processing` (a download holds its slot until it
 * ends) and by the metrics (bytes sent, request finished). Trailers
 * recorded for the response follow it.
 *
 * @module
 */
import { responseTrailers } from "./trailers.ts";
import { responseWith } from "./response_build.ts";

/** Hooks of {@linkcode watchBody}. */
export interface BodyWatch {
  /** Each chunk's byte length, as it is passed on. */
  chunk?(bytes: number): void;
  /** Once: the body ended, failed or was cancelled. */
  done(): void;
}

/**
 * Wraps `res`'s body; a response without body calls `done` at once and is
 * returned as is.
 *
 * @example Usage
 * ```ts
 * import { watchBody } from "./body_end.ts";
 * let bytes = 0, ended = false;
 * const res = watchBody(new Response("hello"), { chunk: (n) => bytes += n, done: () => ended = true });
 * await res.text();
 * if (bytes !== 5 || !ended) throw new Error();
 * ```
 */
export function watchBody(res: Response, watch: BodyWatch): Response {
  let pending = true;
  const finish = () => {
    if (pending) {
      pending = false;
      watch.done();
    }
  };
  if (res.body === null) {
    finish();
    return res;
  }
  const reader = res.body.getReader();
  const chunk = watch.chunk;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (e) {
        finish();
        throw e;
      }
      if (r.done) {
        finish();
        controller.close();
      } else {
        chunk?.(r.value.byteLength);
        controller.enqueue(r.value);
      }
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
  const out = responseWith(body, { status: res.status, statusText: res.statusText }, res.headers);
  const trailers = responseTrailers.get(res);
  if (trailers) responseTrailers.set(out, trailers);
  return out;
}
