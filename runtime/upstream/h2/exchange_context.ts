/**
 * What one exchange of the h2 upstream client (exchange.ts) needs from the client (client.ts): its connection, the
 * time limits, the timings so far, and whether the client was closed.
 *
 * @module
 */
import type { HeaderPolicy } from "../../../compiler/mod.ts";
import type { Backend, ConnectOptions } from "../types.ts";
import type { H2Session } from "./session.ts";

/** What one exchange needs from the client. */
export interface H2ExchangeContext {
  readonly options: ConnectOptions;
  readonly backend: Backend;
  readonly session: H2Session;
  readonly reused: boolean;
  readonly connectTime: number;
  /** The TLS handshake's part of `connectTime`, ms. */
  readonly tlsTime: number;
  /** When the request started (performance.now()). */
  readonly started: number;
  /** True once the client was closed (not merely drained): its streams end as "aborted", never as whole. */
  readonly closed: () => boolean;
  /** The upstream's request-header options when one is off. */
  readonly headerPolicy?: HeaderPolicy | undefined;
}
