/**
 * Knowing when a response is done: the same response, whose body reports
 * each chunk's size and calls `done` once when it ends, fails or is
 * cancelled. Used by `max_processing` (a download holds its slot until it
 * ends) and by the metrics (bytes sent, request finished). The
 * response's trailers follow it.
 *
 * @module
 */
import type { HttpResponse } from "./message.ts";
import { BuiltResponse } from "./response_build.ts";

/** Hooks of {@linkcode watchBody}. */
export interface BodyWatch {
  /** Each chunk's byte length, as it is passed on. */
  chunk?(bytes: number): void;
  /** Once: the body ended, failed or was cancelled. */
  done(): void;
}

/**
 * Wraps `res`'s body; a response without body calls `done` at once and is
 * returned as is. The fields go on as a raw list when `res` has one (its head's bytes and buffer lease stay behind).
 *
 * @example Usage
 * ```ts
 * import { watchBody } from "./body_end.ts";
 * import { responseWith } from "./response_build.ts";
 * let bytes = 0, ended = false;
 * const res = watchBody(responseWith("hello", {}), { chunk: (n) => bytes += n, done: () => ended = true });
 * await new Response(res.body).text();
 * if (bytes !== 5 || !ended) throw new Error();
 * ```
 */
export function watchBody(res: HttpResponse, watch: BodyWatch): HttpResponse {
  let pending = true;
  const finish = () => {
    if (pending) {
      pending = false;
      watch.done();
    }
  };
  const source = res.body;
  if (source === null) {
    finish();
    return res;
  }
  const reader = source.getReader();
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
  return new BuiltResponse(res.status, res.statusText, res.fields ?? res.headers, body, res.trailers);
}
