/**
 * Records a request once its response is done with (body sent, failed or
 * cancelled).
 *
 * @module
 */
import { watchBody } from "../../http/body_end.ts";
import type { HttpResponse } from "../../http/message.ts";
import type { Metrics, ObservedRequest } from "./handle.ts";

/**
 * Records a finished request once the response is done with: the same
 * response, its body wrapped to count the bytes sent, and when the body
 * ends, fails or is cancelled (at once for a response without body),
 * {@linkcode Metrics.observeRequest} then {@linkcode Metrics.requestFinished}
 * for `ctx.location`. Trailers recorded for the response follow it.
 */
export function trackResponse(
  metrics: Metrics,
  ctx: ObservedRequest,
  res: HttpResponse,
  receivedBytes?: number,
): HttpResponse {
  const location = ctx.location?.name ?? "";
  let sentBytes = 0;
  return watchBody(res, {
    chunk: (n) => sentBytes += n,
    done() {
      metrics.observeRequest(ctx, res, sentBytes, receivedBytes);
      metrics.requestFinished(location);
    },
  });
}
