/**
 * `[servers.<name>]`: listeners and what they serve.
 *
 * @module
 */
import { accessLog } from "../values/access_log.ts";
import { listenAddrs } from "../values/addr.ts";
import { queryDurations } from "../values/query_durations.ts";
import { includes, remark } from "./common.ts";
import { array, bool, duration, field, int, oneOf, parsed, str, table } from "./types.ts";

/** TLS versions; `tlsv1.2` (Pingap's spelling) and `tls1.2` both accepted. */
export const tlsVersion = oneOf(["tlsv1.1", "tlsv1.2", "tlsv1.3"], {
  aliases: {
    "tls1.1": "tlsv1.1",
    "tls1.2": "tlsv1.2",
    "tls1.3": "tlsv1.3",
    "1.1": "tlsv1.1",
    "1.2": "tlsv1.2",
    "1.3": "tlsv1.3",
  },
});

/** The duration parameters of `otlp_exporter`. */
const OTLP_DURATIONS = ["timeout", "scheduled_delay", "max_export_timeout"] as const;

/** The `[servers.<name>]` table. */
export const serverSchema = table({
  title: "[servers.<name>]",
  doc: "A server listens on one or more addresses and routes each request to the first of its locations that matches.",
  aliases: { tcp_fast_open: "tcp_fastopen" },
  fields: {
    addr: field(parsed("listen addresses", listenAddrs, { examples: ["0.0.0.0:80", "0.0.0.0:80,[::]:80"] }), {
      doc: "Listen addresses, comma separated: `ip:port`, IPv6 as `[::]:80`.",
      required: true,
    }),
    access_log: field(
      parsed("access log format", accessLog, {
        examples: ["tiny", "combined", "/var/log/access.log?rolling=hourly {when} {method} {uri} {status}"],
      }),
      {
        doc:
          "Access log: a preset (`tiny`, `short`, `common`, `combined`) or a `{tag}` template, to the application log; or preceded by a file path and a space, to that file (`?rolling=daily|hourly|minutely|never`, `channel_buffer=1000`). Off when unset. See docs/observability.md.",
      },
    ),
    locations: field(array(str()), {
      doc: "Names of the locations this server serves; tried by weight, highest first.",
      default: [],
    }),
    threads: field(int({ min: 0, max: 1024 }), {
      doc: "Worker isolates for this server; 0 means one per CPU core.",
      defaultText: "basic.threads",
      unit: "workers",
    }),
    tls_cipher_list: field(str(), {
      unapplied: "the TLS layer serves its default suites and cannot restrict them (docs/tls.md)",
      doc: "OpenSSL cipher list for TLS ≤ 1.2.",
    }),
    tls_ciphersuites: field(str(), {
      unapplied: "the TLS layer serves its default suites and cannot restrict them (docs/tls.md)",
      doc: "TLS 1.3 cipher suites.",
    }),
    tls_min_version: field(tlsVersion, {
      doc: "Lowest TLS version accepted: `tlsv1.2` or `tlsv1.3` (`tls1.2` also accepted); `tlsv1.1` means 1.2.",
    }),
    tls_max_version: field(tlsVersion, { doc: "Highest TLS version accepted." }),
    global_certificates: field(bool(), {
      doc: "Terminate TLS on every address with the certificates of `[certificates]`, chosen by SNI.",
      default: false,
    }),
    enabled_h2: field(bool(), {
      doc: "HTTP/2: by ALPN over TLS, and h2c with prior knowledge on plain listeners.",
      default: false,
    }),
    tcp_idle: field(duration(), {
      unapplied: "Deno sets no TCP keep-alive options on accepted connections (the Pingap parity work applies it)",
      doc: "TCP keep-alive idle time before probes.",
    }),
    tcp_interval: field(duration(), {
      unapplied: "Deno sets no TCP keep-alive options on accepted connections (the Pingap parity work applies it)",
      doc: "TCP keep-alive probe interval.",
    }),
    tcp_probe_count: field(int({ min: 1, max: 16 }), {
      unapplied: "Deno sets no TCP keep-alive options on accepted connections (the Pingap parity work applies it)",
      doc: "TCP keep-alive probes before the connection is dropped.",
    }),
    tcp_user_timeout: field(duration(), {
      unapplied: "Deno sets no TCP keep-alive options on accepted connections (the Pingap parity work applies it)",
      doc: "TCP_USER_TIMEOUT (Linux).",
    }),
    tcp_fastopen: field(int({ min: 0, max: 65535 }), {
      unapplied: "Deno cannot set TCP_FASTOPEN on a listener",
      doc: "TCP Fast Open backlog (`tcp_fast_open` also accepted).",
    }),
    reuse_port: field(bool(), {
      unapplied: "this version chooses: SO_REUSEPORT is always on for plain listeners, so `--upgrade` can take over",
      doc: "SO_REUSEPORT on the listeners.",
    }),
    downstream_read_timeout: field(duration(), { doc: "Time limit to read a request from the client." }),
    downstream_write_timeout: field(duration(), { doc: "Time limit to write a response to the client." }),
    prometheus_metrics: field(parsed("string", (s) => queryDurations(s, ["interval"])), {
      doc: "A path (e.g. `/metrics`) serving Prometheus metrics, or a Pushgateway URL (contains `://`) to push to.",
    }),
    otlp_exporter: field(parsed("string", (s) => queryDurations(s, OTLP_DURATIONS)), {
      doc:
        "OTLP/HTTP endpoint that receives traces, e.g. `http://127.0.0.1:4318` (spans are posted to `/v1/traces`); parameters `timeout`, `max_queue_size`, `scheduled_delay`, `max_export_batch_size`, `max_export_timeout`.",
    }),
    modules: field(array(oneOf(["grpc-web"])), {
      unapplied:
        "there is no gRPC-Web bridge yet; gRPC-Web requests are proxied unchanged (the Pingap parity work applies it)",
      doc: "Server modules; only `grpc-web` exists.",
    }),
    enable_server_timing: field(bool(), {
      doc: "Add a `Server-Timing` response header with upstream, cache and plugin times.",
      default: false,
    }),
    includes,
    remark,
  },
});
