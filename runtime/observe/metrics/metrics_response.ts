/**
 * The answer to a scrape of a server's pull path.
 *
 * @module
 */
import { responseWith } from "../../http/response_build.ts";
import type { HttpResponse } from "../../http/message.ts";
import type { Metrics } from "./handle.ts";
import { TEXT_CONTENT_TYPE } from "./push.ts";

/** The answer to a scrape of the pull path: 200 with the text exposition format, or 500 if collecting failed. */
export async function metricsResponse(
  metrics: Pick<Metrics, "text">,
  log: (...data: unknown[]) => void = console.error,
): Promise<HttpResponse> {
  try {
    const body = await metrics.text();
    return responseWith(body, { status: 200 }, { "content-type": TEXT_CONTENT_TYPE });
  } catch (e) {
    log("metrics: collecting failed", e);
    return responseWith("metrics collection failed", { status: 500 }, { "content-type": "text/plain; charset=utf-8" });
  }
}
