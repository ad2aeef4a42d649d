/**
 * What an access-log line is built from: the request context and the
 * response as it was sent, taken when its body ended.
 *
 * @module
 */
import type { RequestContext } from "../../proxy/context.ts";
import type { ConnectionInfo } from "./connections.ts";

/** One finished request. */
export interface AccessRecord {
  readonly ctx: RequestContext;
  readonly status: number;
  /** The response sent (its `headers` are read only by the `{<name}` keys: an upstream's answer makes them then). */
  readonly response: { readonly headers: Headers };
  /** Response body bytes sent (counted as they streamed). */
  readonly size: number;
  /** Requests in flight on the process when this one started (`{:processing}`). */
  readonly processing: number;
  /** Wall clock when the line is written (`Date.now()`). */
  readonly now: number;
  /** Milliseconds from the request's start to now. */
  readonly elapsed: number;
  /** Filled on first use by the `{:connection_*}` keys. */
  conn?: ConnectionInfo;
}
