/**
 * The two plugin phases after the response hooks: the response-body
 * transform (compression, sub_filter, cache writes) and logging (once, when
 * the response is done). The pipeline calls these only for a location whose
 * chain has such a plugin, so other locations pay nothing.
 *
 * @module
 */
import type { PluginInstance } from "../plugins/mod.ts";
import type { RequestContext } from "./context.ts";
import { BuiltResponse } from "../http/response_build.ts";
import type { HttpResponse } from "../http/message.ts";

/**
 * `res` with its body piped through the transforms the plugins return, in chain order; `res` itself when none does
 * (or it has no body, or answers a HEAD). The hooks see a copy of the headers, which the new response gets (without
 * `content-length`: the transformed length is not known).
 */
export function transformBody(
  plugins: readonly PluginInstance[],
  ctx: RequestContext,
  res: HttpResponse,
): HttpResponse {
  // A whole body is a body; asking for `body` only when there is none would turn a whole one into a stream.
  if ((res.whole === undefined && res.body === null) || ctx.method === "HEAD") return res;
  const headers = new Headers(res.headers);
  let body: ReadableStream<Uint8Array> | undefined;
  for (const p of plugins) {
    const t = p.responseBody!(ctx, headers, res.status);
    if (t !== undefined) body = (body ?? res.body!).pipeThrough(t);
  }
  if (body === undefined) return res;
  headers.delete("content-length");
  return new BuiltResponse(res.status, res.statusText, headers, body, res.trailers);
}

/** Calls each plugin's logging hook once; one that throws is logged and the others still run. */
export function logDone(plugins: readonly PluginInstance[], ctx: RequestContext, status: number): void {
  const done = { status, elapsedMs: ctx.elapsed() };
  for (const p of plugins) {
    try {
      p.logging!(ctx, done);
    } catch (e) {
      console.error(`plugin "${p.name}": logging failed`, e);
    }
  }
}
