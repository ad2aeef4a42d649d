/**
 * A stream's request made from its decoded head: checked (request_head.ts), then the message model's `WireRequest`
 * (version `HTTP/2.0`, fields as a list, the body streamed from the stream), or an answer the engine makes itself.
 *
 * @module
 */
import type { ConnectionFacts } from "../../http/message.ts";
import { WireRequest } from "../h1/request.ts";
import { END_STREAM, PROTOCOL_ERROR, STREAM_CLOSED, StreamError } from "./frames.ts";
import { requestHead } from "./request_head.ts";
import { badPath, validHost } from "../h1/target_check.ts";
import type { H2Stream } from "./stream.ts";

/**
 * Makes the request of `s` from `list` (undefined: the header list was too large).
 *
 * @param s The stream (its END_STREAM already noted).
 * @param list The decoded head.
 * @param facts The connection's facts.
 * @param served Streams served on the connection before this one.
 * @param authority The URL authority of a request that names none.
 * @returns 0 when `s.req` is made and the handler answers, else the status the engine answers with (431, 405, 400,
 *   200 for `OPTIONS *`).
 * @throws {StreamError} PROTOCOL_ERROR for a malformed request.
 */
export function openRequest(
  s: H2Stream,
  list: readonly string[] | undefined,
  facts: ConnectionFacts,
  served: number,
  authority: () => string,
): number {
  if (list === undefined) return 431;
  const head = requestHead(list);
  if (typeof head === "string") {
    if (head === "CONNECT") return 405;
    throw new StreamError(s.id, PROTOCOL_ERROR, `malformed request: ${head}`);
  }
  if (s.remoteEnded && head.contentLength > 0) {
    throw new StreamError(s.id, PROTOCOL_ERROR, "END_STREAM before the content-length");
  }
  s.contentLength = head.contentLength;
  s.expectContinue = head.expectContinue && !s.remoteEnded;
  const method = head.method;
  s.head = method === "HEAD";
  const host = head.authority === "" ? authority() : head.authority;
  const req = new WireRequest(
    method,
    head.path,
    host,
    head.fields,
    s.remoteEnded ? null : s.body(),
    s.watch,
    undefined,
    undefined,
    facts,
    "HTTP/2.0",
  );
  req.served = served;
  s.req = req;
  // As on HTTP/1.1 (and nginx): an authority that is no `host[:port]`, a path with a bad `%` escape, `%00` or a `..`
  // above the root, a GET or HEAD announcing a body, are refused.
  if (!validHost(host) || (head.path !== "*" && badPath(head.path))) return 400;
  // `OPTIONS *` asks about the server: answered here, as on HTTP/1.1.
  if (head.path === "*") return 200;
  if ((method === "GET" || method === "HEAD") && head.contentLength > 0) return 400;
  return 0;
}

/**
 * Checks trailers (a second header block) on `s`: they end the stream and hold no pseudo-header field.
 *
 * @throws {StreamError} When they do not.
 */
export function checkTrailers(s: H2Stream, flags: number, list: readonly string[] | undefined): void {
  if (s.remoteEnded) throw new StreamError(s.id, STREAM_CLOSED, "HEADERS after END_STREAM");
  if ((flags & END_STREAM) === 0) throw new StreamError(s.id, PROTOCOL_ERROR, "trailers without END_STREAM");
  if (list === undefined) throw new StreamError(s.id, PROTOCOL_ERROR, "trailers too large");
  for (let i = 0; i < list.length; i += 2) {
    if (list[i]!.charCodeAt(0) === 58) throw new StreamError(s.id, PROTOCOL_ERROR, "a pseudo-header in trailers");
  }
}
