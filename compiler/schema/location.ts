/**
 * `[locations.<name>]`: what a request matches and where it goes.
 *
 * @module
 */
import { headerLine } from "../values/header.ts";
import { condition, hostMatches, pathMatch } from "../values/location_match.ts";
import { rewrite } from "../values/rewrite.ts";
import { includes, remark } from "./common.ts";
import { atLeast } from "./refine.ts";
import { array, bool, duration, field, int, parsed, size, str, table } from "./types.ts";

/** A duration above zero (`<name> must be greater than zero`). */
const positiveDuration = (name: string) => atLeast(duration(), 1, `${name} must be greater than zero`);

/** The `[locations.<name>]` table. */
export const locationSchema = table({
  title: "[locations.<name>]",
  doc:
    "A location matches requests by path, host and optional conditions, then runs its plugins and proxies to its upstream.",
  fields: {
    upstream: field(str(), {
      doc: "Upstream name, or `$name` to take it from a named capture of `path`, `host` or `rewrite`.",
    }),
    path: field(parsed("path selector", pathMatch, { examples: ["/api", "=/health", "~^/users/(?<id>\\d+)"] }), {
      doc:
        "`=/exact`, `~regex` (Rust syntax, unanchored), or a plain prefix (`/api` also matches `/apis`). Any path when unset.",
    }),
    host: field(
      parsed("host selectors", hostMatches, {
        examples: ["example.com", "*.example.com", "~^(?<app>.+)\\.example\\.com$"],
      }),
      {
        doc: "Comma list of exact hosts, `*.suffix` (subdomains only) or `~regex`. Any host when unset.",
      },
    ),
    match_headers: field(array(parsed("condition", condition)), {
      doc: 'Request headers that must be present (`"name"`) or equal (`"name:value"`).',
    }),
    match_query: field(array(parsed("condition", condition)), {
      doc: "Query parameters that must be present or equal (raw, not URL-decoded).",
    }),
    match_cookies: field(array(parsed("condition", condition)), { doc: "Cookies that must be present or equal." }),
    proxy_set_headers: field(array(parsed("header line", headerLine)), {
      doc:
        'Headers set on the upstream request, `"Name:value"`; the value may be a variable such as `$remote_addr`, `$client_ip` or `$http_origin`.',
    }),
    proxy_add_headers: field(array(parsed("header line", headerLine)), {
      doc: "Headers appended to the upstream request.",
    }),
    rewrite: field(parsed("rewrite rule", rewrite, { examples: ["^/api/(.*) /$1"] }), {
      doc:
        'Path rewrite, `"<regex> <replacement>"`; `$1`, `$name`, `${name}` refer to groups. The query string is kept.',
    }),
    weight: field(int({ min: 0, max: 65535 }), {
      doc: "Priority; replaces the computed one (exact path 1024+, prefix 512+, regex 256+, plain host +128).",
    }),
    plugins: field(array(str()), { doc: "Plugin names (yours or `pingap:*` built-ins), run in this order." }),
    client_max_body_size: field(size(), {
      doc: "Largest request body; larger gets 413, also while streaming. Unlimited when unset or 0 (as in Pingap).",
    }),
    max_processing: field(int({ min: 0 }), {
      doc: "Requests in flight at once; more get 429. 0 means unlimited.",
      default: 0,
      unit: "requests",
    }),
    grpc_web: field(bool(), {
      doc:
        'Bridge gRPC-Web to gRPC: a browser\'s `application/grpc-web` (`+proto`) and `application/grpc-web-text` requests go to the upstream as gRPC over HTTP/2, the answer\'s trailers come back in the body. The server needs `modules = ["grpc-web"]`, the upstream `alpn = "H2"`.',
      default: false,
    }),
    enable_reverse_proxy_headers: field(bool(), {
      doc:
        "Set `X-Real-IP`, `X-Forwarded-For`, `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Forwarded-Port` on the upstream request.",
      default: false,
    }),
    max_retries: field(int({ min: 0, max: 255 }), {
      doc: "Retries on another backend when connecting fails. No retry when unset.",
    }),
    max_retry_window: field(duration(), { doc: "No retry once the request is older than this." }),
    connection_timeout: field(positiveDuration("connection_timeout"), {
      doc: "Connect time limit of the connections opened for this location's requests, instead of the upstream's " +
        "(a pooled connection is reused as it is; a WebSocket connect keeps the upstream's).",
    }),
    read_timeout: field(positiveDuration("read_timeout"), {
      doc: "Time limit of each read from the backend for this location's requests, instead of the upstream's.",
    }),
    write_timeout: field(positiveDuration("write_timeout"), {
      doc: "Time limit of each write to the backend for this location's requests, instead of the upstream's.",
    }),
    includes,
    remark,
  },
});
