/**
 * `[servers.<name>]`: listeners and what they serve.
 *
 * @module
 */
import { accessLog } from "../values/access_log.ts";
import { listenAddrs } from "../values/addr.ts";
import { metricsTarget } from "../values/metrics_target.ts";
import { otlpExporter } from "../values/otlp_exporter.ts";
import { includes, remark } from "./common.ts";
import { atLeast, within } from "./refine.ts";
import { array, bool, duration, field, int, oneOf, parsed, size, str, table } from "./types.ts";

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

/** `tcp_idle` / `tcp_interval`: at least a second (Pingap's rule, for servers and upstreams). */
export const keepaliveTime = (what: string) => atLeast(duration(), 1000, `${what} should be at least 1s`);

/** `tcp_probe_count`: 1–16. */
export const probeCount = () => int({ min: 1, max: 16, hint: "tcp probe count should be greater than 0 (at most 16)" });

/** An HTTP/2 window size: 1 byte to 2 GiB − 1. */
export const h2Window = (what: string) =>
  within(size(), 1, 2 ** 31 - 1, `${what} should be between 1 and 2GiB - 1`, 'e.g. "1mb"');

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
        examples: [
          "tiny",
          "combined",
          "/var/log/access.log?rolling=hourly {when} {method} {uri} {status}",
          "stdout?min_status=500&sample=0.1 json",
        ],
      }),
      {
        doc:
          "Access log: a preset (`tiny`, `short`, `common`, `combined`, `json`) or a `{tag}` template, to the application log; or preceded by a target and a space: a file path (`?rolling=daily|hourly|minutely|never`), `stdout`, `/dev/stdout`, `stderr`, `/dev/stderr` (`stdout.log` is a file), or `syslog://[host[:port]][/socket][?format=3164|5424&process=pingap&facility=LOG_USER&protocol=udp|tcp]` (UDP by default, port 514; no host: the local daemon's socket). Every target takes `channel_buffer=1000` and the filters `skip=<regex on path and query>`, `min_status=<100-599>`, `min_latency=<duration>`, `sample=<0-1>` (with `min_*` and no `sample`, only those requests are logged). Off when unset. See docs/observability.md.",
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
      doc: "HTTP/2: by ALPN over TLS, and h2c on plain listeners (prior knowledge, or `Upgrade: h2c` without a body).",
      default: false,
    }),
    tcp_idle: field(keepaliveTime("tcp idle"), {
      doc: "TCP keep-alive idle time before probes. Any of the four keep-alive keys turns SO_KEEPALIVE on; one " +
        "left out takes the kernel's default (7200s, 75s, 9 probes, no user timeout). Set on the listening " +
        "socket, which accepted connections inherit (Linux; elsewhere the start logs that it is not applied).",
    }),
    tcp_interval: field(keepaliveTime("tcp interval"), {
      doc: "TCP keep-alive probe interval.",
    }),
    tcp_probe_count: field(probeCount(), {
      doc: "TCP keep-alive probes before the connection is dropped.",
    }),
    tcp_user_timeout: field(duration(), {
      doc: "TCP_USER_TIMEOUT (Linux).",
    }),
    tcp_fastopen: field(int({ min: 0, max: 65535 }), {
      doc: "TCP Fast Open queue length on the listening sockets (Linux; `tcp_fast_open` also accepted).",
    }),
    reuse_port: field(bool(), {
      unapplied: "this version chooses: SO_REUSEPORT is always on for plain listeners, so `--upgrade` can take over",
      doc: "SO_REUSEPORT on the listeners.",
    }),
    downstream_read_timeout: field(duration(), { doc: "Time limit to read a request from the client." }),
    downstream_write_timeout: field(duration(), { doc: "Time limit to write a response to the client." }),
    prometheus_metrics: field(parsed("string", metricsTarget), {
      doc: "A path (e.g. `/metrics`) serving Prometheus metrics, or a Pushgateway URL (contains `://`) to push to.",
    }),
    otlp_exporter: field(parsed("string", otlpExporter), {
      doc:
        "OTLP/HTTP endpoint that receives traces, e.g. `http://127.0.0.1:4318` (spans are posted to `/v1/traces`); parameters `timeout`, `max_queue_size`, `scheduled_delay`, `max_export_batch_size`, `max_export_timeout`.",
    }),
    modules: field(array(oneOf(["grpc-web"])), {
      doc: "Server modules; only `grpc-web` exists: it lets this server's locations set `grpc_web`.",
    }),
    enable_server_timing: field(bool(), {
      doc: "Add a `Server-Timing` response header with upstream, cache and plugin times.",
      default: false,
    }),
    tls_client_ca: field(str({ nonEmpty: true }), {
      doc: "CA (PEM text, base64 of PEM, or a file path) that client certificates must chain to (mutual TLS): " +
        "the handshake asks the client for a certificate and checks it against these. Needs a TLS listener " +
        "(`global_certificates = true`). A file is read at start and at each reload; `check --live` reads it too. " +
        "The certificate shown is in `{:tls_client_subject}`, `{:tls_client_fingerprint}`, `{:tls_client_serial}` " +
        "and `{:tls_client_verified}`.",
    }),
    tls_client_auth: field(oneOf(["require", "optional"]), {
      doc: "`require`: a client without a certificate is refused at the handshake; `optional`: it is let in. A " +
        "certificate that does not verify is refused either way (with `optional`, the connection is closed as " +
        "soon as its handshake ends, before any request is read). Needs `tls_client_ca`.",
      defaultText: "require",
    }),
    ja4: field(bool(), {
      doc: "Compute the JA4 fingerprint of each TLS ClientHello (`$ja4`, `{:ja4}`, `{:ja4_r}`, `{:ja4_o}`, " +
        "`{:ja4_ro}`): the TLS listener reads the hello off the connection (after its PROXY header, if any) before " +
        "the handshake. Needs a TLS listener.",
      default: false,
    }),
    proxy_protocol: field(bool(), {
      doc: "Read a PROXY protocol v1 or v2 header at the start of each connection from a peer in " +
        "`basic.trusted_proxies` (which it needs); its source address is then the client of every request on the " +
        "connection. A trusted peer without a valid header is disconnected; other peers are served without one. " +
        "On a TLS listener the header comes before the handshake; on a plain `enabled_h2` one it comes before the " +
        "h2c preface too.",
      default: false,
    }),
    h2_max_concurrent_streams: field(int({ min: 1, hint: "h2 max concurrent streams should be greater than 0" }), {
      doc: "Streams a client may have open at once on one HTTP/2 connection (SETTINGS_MAX_CONCURRENT_STREAMS); " +
        "more are refused with REFUSED_STREAM.",
      default: 100,
      unit: "streams",
    }),
    h2_max_header_list_size: field(
      within(size(), 1, 2 ** 32 - 1, "h2 max header list size should be between 1 and 4GiB - 1", 'e.g. "64kib"'),
      {
        doc: "Largest header list an HTTP/2 client may send (SETTINGS_MAX_HEADER_LIST_SIZE, counted as RFC 9113 " +
          "does: names, values and 32 bytes a field); a larger request gets 431.",
        default: "64kib",
      },
    ),
    h2_initial_window_size: field(h2Window("h2 initial window size"), {
      doc: "Initial flow-control window of each HTTP/2 stream (SETTINGS_INITIAL_WINDOW_SIZE): request body bytes a " +
        "client may send ahead of what the proxy read.",
      defaultText: "65535 bytes (Pingora's, the h2 crate's)",
    }),
    h2_initial_connection_window_size: field(h2Window("h2 initial connection window size"), {
      doc: "Initial flow-control window of each HTTP/2 connection, for all its streams together (never below the " +
        "protocol's 65535 bytes).",
      defaultText: "65535 bytes (Pingora's, the h2 crate's)",
    }),
    h2_idle_timeout: field(duration(), {
      doc: "An HTTP/2 connection that has had no stream open for this long gets GOAWAY and is closed (the shorter " +
        "of this and `downstream_read_timeout`, 60 s when neither is set).",
    }),
    h1_pipelining: field(bool(), {
      doc: "Answer pipelined HTTP/1.1 requests (sent before the previous answer) in order. When off, a request that " +
        "came with the next one's bytes behind it is answered with `Connection: close` and the connection closed: " +
        "the requests behind it are dropped unanswered, for the client to send again.",
      default: false,
    }),
    includes,
    remark,
  },
});
