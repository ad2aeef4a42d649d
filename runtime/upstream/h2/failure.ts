/**
 * The error an h2 upstream exchange fails with, from how its stream ended: a time limit, an abort, or a stream the
 * backend did not process ({@linkcode StreamNotProcessed}: refused, above a GOAWAY's last stream id, or on a pooled
 * connection that closed before any answer; the client may send it again) before any "protocol" error.
 *
 * @module
 */
import { errorName, NO_ERROR, REFUSED_STREAM } from "../../listen/h2/frames.ts";
import { UpstreamError } from "../types.ts";
import { ABOVE_GOAWAY, CONNECTION_LOST, StreamNotProcessed } from "./stream_handler.ts";

/** How a stream ended. */
export interface StreamEnd {
  /** Our reason, when we ended it. */
  readonly reason: "timeout" | "aborted" | undefined;
  /** RST_STREAM's code, or CONNECTION_LOST / ABOVE_GOAWAY. */
  readonly code: number;
  readonly detail: string;
  /** No byte of the request body was read (it can be sent again). */
  readonly untouched: boolean;
  /** The connection came from the pool. */
  readonly reused: boolean;
}

/** The error for a stream that ended as `end` while reading the response head or body. */
export function streamFailure(what: "read response head" | "read response body", end: StreamEnd): Error {
  const { code, detail, untouched } = end;
  if (end.reason === "timeout") return new UpstreamError("timeout", `Cannot ${what}: timed out`, true);
  if (end.reason === "aborted") return new UpstreamError("aborted", `Cannot ${what}: aborted`, true);
  if (what === "read response head") {
    if (code === REFUSED_STREAM) {
      return new StreamNotProcessed("Stream refused by the backend (REFUSED_STREAM)", untouched);
    }
    if (code === ABOVE_GOAWAY) {
      return new StreamNotProcessed("Stream not processed: the backend sent GOAWAY", untouched);
    }
    if (code === CONNECTION_LOST && end.reused) {
      return new StreamNotProcessed(`Stream not processed: ${detail}`, untouched);
    }
  }
  const why = code === CONNECTION_LOST || code === ABOVE_GOAWAY
    ? detail
    : code === NO_ERROR
    ? detail || "stream closed"
    : `stream reset (${errorName(code)}${detail ? `: ${detail}` : ""})`;
  return new UpstreamError("protocol", `Cannot ${what}: ${why}`, true);
}
