/**
 * Polite draining before a shutdown. Closing an idle keep-alive connection
 * races with a client that is sending its next request on it, which then
 * fails. So a stopping server first answers every request with
 * `Connection: close` (the client opens a new connection, which lands on the
 * process that took over the port), and only closes what is left once no
 * request has arrived for a moment.
 *
 * @module
 */
import type { HttpResponse } from "../http/message.ts";
import { editable } from "../http/response_build.ts";

/** The same response with `Connection: close` (a copy when `res` may not be changed). */
export function closeAfter(res: HttpResponse): HttpResponse {
  const out = editable(res);
  out.headers.set("connection", "close");
  return out;
}

/** Activity counters of the serving plan. */
export interface Activity {
  readonly processing: number;
  readonly accepted: number;
}

/**
 * Resolves once nothing is in flight and no request arrived for `quietMs`,
 * or after `maxMs` at the latest.
 */
export async function waitQuiet(
  activity: () => Activity,
  options: { quietMs: number; maxMs: number; stepMs?: number },
): Promise<void> {
  const step = options.stepMs ?? 50;
  const start = Date.now();
  let seen = activity().accepted;
  let quietSince = Date.now();
  while (Date.now() - start < options.maxMs) {
    await new Promise((r) => setTimeout(r, step));
    const now = activity();
    if (now.accepted !== seen || now.processing > 0) {
      seen = now.accepted;
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= options.quietMs) return;
  }
}
