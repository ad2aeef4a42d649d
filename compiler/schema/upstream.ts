/**
 * `[upstreams.<name>]`: backends, balancing, health and connection options.
 *
 * @module
 */
import { isIPv4, isIPv6, upstreamAddr } from "../values/addr.ts";
import { healthCheck } from "../values/health_check.ts";
import { includes, remark } from "./common.ts";
import { diag } from "../diagnostic.ts";
import { atLeast } from "./refine.ts";
import { h2Window, keepaliveTime, probeCount } from "./server.ts";
import { array, bool, duration, field, int, list, oneOf, parsed, size, str, table } from "./types.ts";
import type { Parsed, Type } from "./types.ts";

/**
 * Why `tcp_fast_open` is not applied: the other upstream socket options are set on the connection's socket right
 * after it connected (runtime/upstream/socket_options.ts), which is too late for this one.
 */
const NO_FAST_OPEN =
  "TCP Fast Open on connect needs TCP_FASTOPEN_CONNECT set on the socket before connect(); Deno's connect and " +
  "node:net create and connect the socket in one call, so the proxy only gets the socket once it is connected";

/** A load-balancing algorithm. */
export type Algo =
  /** `stickyCookie`: Pingap's `sticky:<cookie>`: round robin, then the backend the client's cookie names. */
  | { readonly kind: "round_robin"; readonly stickyCookie?: string }
  | { readonly kind: "least_conn" }
  | { readonly kind: "hash"; readonly by: "url" | "ip" | "path" }
  | { readonly kind: "hash"; readonly by: "header" | "cookie" | "query"; readonly name: string };

/** Parses `algo`. */
export function algo(text: string): Parsed<Algo> {
  const t = text.trim();
  if (t === "round_robin" || t === "") return { ok: true, value: { kind: "round_robin" } };
  if (t === "least_conn") return { ok: true, value: { kind: "least_conn" } };
  if (t.startsWith("sticky:") || t === "sticky") {
    const cookie = t.slice(7).trim();
    if (!/^[A-Za-z0-9_.-]+$/.test(cookie)) {
      return {
        ok: false,
        message: `Algorithm ${JSON.stringify(text)} needs a cookie name`,
        hint: 'Write "sticky:NAME", e.g. "sticky:backend" (letters, digits, "-", "_" and "." as Pingap)',
      };
    }
    return { ok: true, value: { kind: "round_robin", stickyCookie: cookie } };
  }
  if (t === "hash") {
    return {
      ok: false,
      message: 'Algorithm "hash" needs a key: Pingap treats it as round robin',
      hint: 'Write "hash:url", "hash:ip", "hash:header:NAME", "hash:cookie:NAME", "hash:query:NAME", or "hash:path"',
    };
  }
  const m = /^hash:([a-z_]+)(?::(.+))?$/.exec(t);
  if (!m) {
    return {
      ok: false,
      message: `Unknown algorithm ${JSON.stringify(text)}`,
      hint:
        'Use "round_robin", "least_conn", "sticky:COOKIE" or "hash:<url|ip|path|header:NAME|cookie:NAME|query:NAME>"',
    };
  }
  const by = m[1]!;
  if (by === "header" || by === "cookie" || by === "query") {
    if (!m[2]) {
      return {
        ok: false,
        message: `Algorithm ${JSON.stringify(text)} needs a ${by} name`,
        hint: `Write "hash:${by}:NAME"`,
      };
    }
    return { ok: true, value: { kind: "hash", by, name: by === "header" ? m[2].toLowerCase() : m[2] } };
  }
  if (by === "url" || by === "ip") return { ok: true, value: { kind: "hash", by } };
  return { ok: true, value: { kind: "hash", by: "path" } };
}

/**
 * A comma list whose every item must pass `valid`: the runtime skips (or
 * fails on) any other item, so one is an error at the key, naming them.
 */
function checkedList(
  name: string,
  valid: (item: string) => boolean,
  what: string,
  hint: string,
): Type<readonly string[]> {
  const items = list(name);
  return {
    ...items,
    decode(value, path, diags) {
      const out = items.decode(value, path, diags);
      if (out === undefined) return undefined;
      const bad = out.filter((s) => !valid(s));
      if (bad.length === 0) return out;
      const shown = bad.map((s) => JSON.stringify(s)).join(", ");
      diags.push(diag("invalid-value", path, `${shown} ${bad.length > 1 ? "are" : "is"} not ${what}`, { hint }));
      return undefined;
    },
  };
}

/**
 * Statuses, each three digits from 100 to 999: the runtime skipped any
 * other item, and with none left counted every 5xx, so a typo (`5xx`,
 * `50`) changed which responses open the circuit without a word.
 */
const statusList = () =>
  checkedList(
    "statuses",
    (s) => /^[1-9]\d\d$/.test(s),
    "a status",
    'Write statuses 100–999, comma separated, e.g. "502,503,504"',
  );

/**
 * Name servers, each an IP with an optional port (`ip`, `ip:port`,
 * `[v6]:port`, a bare v6): with a host name every lookup through that
 * server failed ("invalid IP address syntax"), and a port is 1–65535.
 */
const nameServerList = () =>
  checkedList(
    "nameservers",
    validNameServer,
    "a name server IP",
    'Write IPs, e.g. "1.1.1.1, 8.8.8.8:53, [2001:4860:4860::8888]:53"',
  );

function validNameServer(text: string): boolean {
  const v6 = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text);
  const [ip, port] = v6 ? [v6[1]!, v6[2]] : isIPv6(text) ? [text, undefined] : text.split(":", 3);
  if (!isIPv4(ip!) && !isIPv6(ip!)) return false;
  if (!v6 && !isIPv6(text) && text.split(":").length > 2) return false;
  return port === undefined || (/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535);
}

/** The `[upstreams.<name>]` table. */
export const upstreamSchema = table({
  title: "[upstreams.<name>]",
  doc: "A group of backends with a balancing algorithm, health checks, timeouts and TLS options.",
  fields: {
    addrs: field(array(parsed("upstream address", upstreamAddr), { nonEmpty: true }), {
      doc:
        'Backends, `"host[:port] [weight]"`. Port 80 (443 with `sni`), weight 1. With `discovery = "docker"`, `host` is a label filter.',
      defaultText: 'required, except with discovery = "transparent"',
      examples: [["127.0.0.1:5000", "127.0.0.1:5001 10"]],
    }),
    discovery: field(oneOf(["static", "dns", "srv", "docker", "transparent"]), {
      doc:
        "How addresses become backends: `static` (resolved once), `dns` (re-resolved), `srv` (DNS SRV records of names such as `_http._tcp.api.internal`, re-read every `update_frequency`: the lowest priority's targets with their ports and weights), `docker` (by label), `transparent` (the request's own host).",
      defaultText: "dns if any host is not an IP, else static",
    }),
    dns_server: field(nameServerList(), {
      doc: "Nameserver IPs for `dns` discovery, comma separated.",
      defaultText: "system resolver",
    }),
    dns_domain: field(str(), { doc: "Resolver domain for `dns` discovery." }),
    dns_search: field(list("domains"), { doc: "Search domains for `dns` discovery, comma separated." }),
    update_frequency: field(duration(), {
      doc: "How often `dns`/`docker` discovery refreshes.",
      defaultText: "60s for dns and docker",
    }),
    algo: field(
      parsed("algorithm", algo, { examples: ["round_robin", "least_conn", "hash:ip", "hash:header:X-User"] }),
      {
        doc:
          "`round_robin` (smooth weighted), `least_conn` (fewest requests in flight per unit of weight), `sticky:COOKIE` (round robin, then a client stays on the backend its cookie `COOKIE` names while that one is healthy; the cookie is set on the first answer), or consistent hashing: `hash:url`, `hash:ip` (the client IP: see `basic.trusted_proxies`), `hash:path`, `hash:header:NAME`, `hash:cookie:NAME`, `hash:query:NAME`.",
        default: "round_robin",
      },
    ),
    sni: field(str(), {
      doc: "TLS server name; set means the backends speak HTTPS. `$host` uses the request's host (transparent).",
    }),
    verify_cert: field(bool(), { doc: "Verify the backend's certificate.", default: true }),
    health_check: field(
      parsed("health check URL", healthCheck, { examples: ["http://upstream/ping?check_frequency=5s&failure=3"] }),
      {
        doc:
          "`tcp://`, `http(s)://` or `grpc://` URL with `connection_timeout`, `read_timeout`, `check_frequency`, `success`, `failure`, `reuse`, `tls`, `service`, `parallel` parameters. A TCP connect check when unset.",
      },
    ),
    ipv4_only: field(bool(), { doc: "Ignore IPv6 addresses from discovery.", default: false }),
    enable_tracer: field(bool(), {
      doc: "Count live connections to this upstream (idle in the pool and in use): the " +
        "`pingap_upstream_connections` gauge and the `upstream_connected` access-log key; both stay empty when off.",
      default: false,
    }),
    enable_backend_stats: field(bool(), {
      doc: "Keep per-backend request and failure stats; needed by the circuit breaker.",
      default: false,
    }),
    backend_failure_status_code: field(statusList(), {
      doc: "Statuses counted as failures, comma separated.",
      defaultText: "5xx",
    }),
    backend_stats_interval: field(atLeast(duration(), 1, "backend stats interval should be at least 1ms"), {
      doc: "Window of backend stats.",
      default: "60s",
    }),
    circuit_break_max_consecutive_failures: field(int({ min: 0 }), {
      doc: "Open the circuit after this many failures in a row (0 = off).",
      default: 0,
    }),
    circuit_break_max_failure_percent: field(
      int({ min: 0, max: 100, hint: "circuit break max failure percent should be 0 to 100" }),
      {
        doc: "Open the circuit when the window's failure rate reaches this percent (0 = off).",
        default: 0,
        unit: "%",
      },
    ),
    circuit_break_min_requests_threshold: field(int({ min: 0 }), {
      doc: "Requests in the window before the percent rule applies.",
      default: 10,
    }),
    circuit_break_half_open_consecutive_success_threshold: field(int({ min: 1 }), {
      doc: "Successes in a row that close a half-open circuit (also its probe budget).",
      default: 5,
    }),
    circuit_break_open_duration: field(duration(), {
      doc: "How long an open circuit rejects the backend.",
      default: "10s",
    }),
    alpn: field(oneOf(["h1", "h2", "h2h1"]), {
      doc: "Protocol to the backends: `h1`, `h2` (h2c without TLS), `h2h1` (h2 preferred over TLS).",
      default: "h1",
    }),
    max_h2_streams: field(int({ min: 1 }), { doc: "Concurrent HTTP/2 streams per backend connection.", default: 1 }),
    connection_timeout: field(duration(), { doc: "TCP connect time limit." }),
    total_connection_timeout: field(duration(), { doc: "Connect time limit including the TLS handshake." }),
    read_timeout: field(duration(), { doc: "Time limit of each read from the backend." }),
    idle_timeout: field(duration(), { doc: "How long an idle pooled connection is kept.", default: "60s" }),
    write_timeout: field(duration(), { doc: "Time limit of each write to the backend." }),
    tcp_idle: field(keepaliveTime("tcp idle"), {
      doc: "TCP keep-alive idle time of backend connections. Any of the four keep-alive keys turns SO_KEEPALIVE on; " +
        "one left out takes the kernel's default (7200s, 75s, 9 probes, no user timeout). Set with setsockopt on " +
        "each new backend connection right after it connected (Linux, with FFI allowed; elsewhere a warning is " +
        "logged once per upstream).",
    }),
    tcp_interval: field(keepaliveTime("tcp interval"), {
      doc: "TCP keep-alive probe interval of backend connections.",
    }),
    tcp_probe_count: field(probeCount(), {
      doc: "TCP keep-alive probes before a backend connection is dropped.",
    }),
    tcp_user_timeout: field(duration(), {
      doc: "TCP_USER_TIMEOUT of backend connections (Linux).",
    }),
    tcp_recv_buf: field(size(), {
      doc: "SO_RCVBUF of backend connections, set once connected (the kernel doubles it; the window scale offered " +
        "in the SYN was chosen before).",
    }),
    tcp_fast_open: field(bool(), {
      unapplied: NO_FAST_OPEN,
      doc: "TCP Fast Open on connect.",
    }),
    fail_open: field(bool(), {
      doc: "When no backend is healthy or let through by the circuit breaker, pick one anyway instead of " +
        "answering 503.",
      default: false,
    }),
    strip_hop_by_hop: field(bool(), {
      doc: "Remove the hop-by-hop headers (Connection, Keep-Alive, Proxy-Connection, Proxy-Authenticate, " +
        "Proxy-Authorization, TE, Trailer, Transfer-Encoding, Upgrade, HTTP2-Settings) from what is forwarded. " +
        "Off, Keep-Alive, Proxy-Connection, Proxy-Authenticate, Proxy-Authorization, TE and Trailer go as sent " +
        "(over HTTP/2 only the Proxy-* and Trailer ones, the rest being forbidden there); Connection, Upgrade and " +
        "HTTP2-Settings still follow `h1_upgrade`, and the body is framed anew (the client's Transfer-Encoding is " +
        "never forwarded; `chunked` is written when the body has no Content-Length).",
      default: true,
    }),
    strip_connection_nominated: field(bool(), {
      doc: "Remove the headers that `Connection` names (Content-Length excepted: it frames the body). Naming Host, " +
        "X-Forwarded-For, X-Forwarded-Host, X-Forwarded-Proto or a pseudo-header (`:authority`), or a tenth name, " +
        "is answered 400. Off, the named headers go on and nothing is refused.",
      default: true,
    }),
    reject_malformed_connection_nominations: field(bool(), {
      doc: "Answer 400 to a `Connection` header that names something that is no header name (a quoted name, " +
        "`x/a`); off, such a token is ignored. Only with `strip_connection_nominated`.",
      default: true,
    }),
    h1_upgrade: field(oneOf(["websocket_only", "preserve", "deny"]), {
      doc: "HTTP/1.1 upgrades: `websocket_only` forwards valid WebSocket upgrades only (other upgrade requests go " +
        "as plain requests); `deny` forwards none; `preserve` forwards any upgrade as it is (the two " +
        "connections are spliced byte for byte after the upstream's 101).",
      default: "websocket_only",
    }),
    ca: field(str({ nonEmpty: true }), {
      doc: "CA (PEM text, base64 of PEM, or a file path) the backends' certificates are verified against (with " +
        "`sni` and `verify_cert`): besides the system roots over HTTP/1.1, instead of them over h2. A file is read at start and at the reload " +
        "that changes it; one that cannot be read fails that start or reload.",
      defaultText: "system roots",
    }),
    client_cert: field(str({ nonEmpty: true }), {
      doc: "Client certificate (PEM text, base64 of PEM, or a file path) presented to the backends (mutual TLS); " +
        "set together with `client_key`. Health checks present none. Read like `ca`.",
    }),
    client_key: field(str({ nonEmpty: true }), {
      doc: "Private key of `client_cert` (same forms).",
    }),
    h2_stream_window_size: field(h2Window("h2 stream window size"), {
      doc: "Flow-control window of each HTTP/2 stream to a backend (`alpn` h2 or h2h1), sent in SETTINGS.",
      defaultText: "the HTTP/2 default, 65535 bytes (Pingap: 8mib)",
    }),
    h2_connection_window_size: field(h2Window("h2 connection window size"), {
      doc: "Flow-control window of each HTTP/2 connection to a backend, raised by a WINDOW_UPDATE once connected.",
      defaultText: "the HTTP/2 default, 65535 bytes (Pingap: 8mib)",
    }),
    includes,
    remark,
  },
});
