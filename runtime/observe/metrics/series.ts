/**
 * The per-request series of one `location` or `upstream` label value, in
 * `fast.ts` form: looked up once per label value, then written with plain
 * number operations on every request.
 *
 * @module
 */
import type { FastFamily, Hist, Scalar } from "./fast.ts";

/** The status classes of `pingap_http_responses_codes`, by {@linkcode codeIndex}. */
export const CODES = ["1xx", "2xx", "3xx", "4xx", "5xx", "unknown"] as const;

/** The index in {@linkcode CODES} of a status. */
export function codeIndex(status: number): number {
  return status >= 100 && status <= 599 ? Math.floor(status / 100) - 1 : 5;
}

/** Where the series find their families (a server's state). */
export interface SeriesFamilies {
  scalar(name: string): FastFamily<Scalar>;
  hist(name: string): FastFamily<Hist>;
}

/** The request series of one `location` label value. */
export class LocationSeries {
  readonly total: Scalar;
  readonly current: Scalar;
  readonly received: Hist;
  readonly receivedBytes: Scalar;
  readonly responseTime: Hist;
  readonly sent: Hist;
  readonly sentBytes: Scalar;
  readonly #codes: (Scalar | undefined)[] = [];
  /** `pingap_http_responses_status` series by status (100–599), made on first use. */
  readonly #statuses: (Scalar | undefined)[] = [];

  constructor(readonly state: SeriesFamilies, readonly location: string) {
    const labels = () => ({ location });
    this.total = state.scalar("pingap_http_requests_total").series(location, labels);
    this.current = state.scalar("pingap_http_requests_current").series(location, labels);
    this.received = state.hist("pingap_http_received").series(location, labels);
    this.receivedBytes = state.scalar("pingap_http_received_bytes").series(location, labels);
    this.responseTime = state.hist("pingap_http_response_time").series(location, labels);
    this.sent = state.hist("pingap_http_sent").series(location, labels);
    this.sentBytes = state.scalar("pingap_http_sent_bytes").series(location, labels);
  }

  /** Records a finished request with response status `status`. */
  finished(inBytes: number, seconds: number, sentBytes: number, status: number): void {
    const code = codeIndex(status);
    this.received.observe(inBytes / 1024);
    this.receivedBytes.add(inBytes);
    this.responseTime.observe(seconds);
    this.sent.observe(sentBytes / 1024);
    if (sentBytes > 0) this.sentBytes.add(sentBytes);
    let c = this.#codes[code];
    if (c === undefined) {
      const location = this.location;
      const label = CODES[code]!;
      c = this.state.scalar("pingap_http_responses_codes").series(`${location}\n${label}`, () => ({
        location,
        code: label,
      }));
      this.#codes[code] = c;
    }
    c.add();
    // Exact statuses only within 100–599, as Pingap.
    if (code === 5) return;
    let st = this.#statuses[status];
    if (st === undefined) {
      const location = this.location;
      const label = String(status);
      st = this.state.scalar("pingap_http_responses_status").series(`${location}\n${label}`, () => ({
        location,
        status: label,
      }));
      this.#statuses[status] = st;
    }
    st.add();
  }
}

/** The per-request series of one `upstream` label value. */
export class UpstreamSeries {
  readonly connect: Hist;
  readonly tls: Hist;
  readonly reuses: Scalar;
  readonly processing: Hist;
  readonly response: Hist;

  constructor(state: SeriesFamilies, upstream: string) {
    const labels = () => ({ upstream });
    this.connect = state.hist("pingap_upstream_tcp_connect_time").series(upstream, labels);
    this.tls = state.hist("pingap_upstream_tls_handshake_time").series(upstream, labels);
    this.reuses = state.scalar("pingap_upstream_reuses").series(upstream, labels);
    this.processing = state.hist("pingap_upstream_processing_time").series(upstream, labels);
    this.response = state.hist("pingap_upstream_response_time").series(upstream, labels);
  }
}
