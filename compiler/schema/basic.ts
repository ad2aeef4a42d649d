/**
 * `[basic]`: process-wide settings.
 *
 * @module
 */
import { isReference } from "../config_refs.ts";
import { ipNet } from "../values/ip.ts";
import { headerLine } from "../values/header.ts";
import { atLeast } from "./refine.ts";
import { array, bool, duration, field, int, oneOf, type Parsed, parsed, size, str, table } from "./types.ts";

/** Webhook event categories. */
export const WEBHOOK_EVENTS = [
  "backend_status",
  "upstream_status",
  "lets_encrypt",
  "parse_certificate_fail",
  "diff_config",
  "restart",
  "restart_fail",
  "reload_config",
  "reload_config_fail",
  "tls_validity",
  "service_discover_fail",
] as const;

/**
 * Webhook events this version accepts in `webhook_notifications` but never
 * sends, with why. Naming one is a `not-applied` warning.
 */
export const UNSENT_WEBHOOK_EVENTS: ReadonlyMap<string, string> = new Map([
  ["restart", "changes are applied in place, never by a restart: reload_config reports them"],
  ["restart_fail", "changes are applied in place, never by a restart: reload_config_fail reports a failure"],
]);

/** Why the offload thread pools of Pingora have no counterpart here. */
const NO_OFFLOAD_POOLS = "Deno runs TLS handshakes and connects on its own runtime threads, which cannot be sized " +
  "or dedicated from a script";

/** A `webhook_headers` item: `Name: value`. */
function webhookHeader(text: string): Parsed<readonly [string, string]> {
  const r = headerLine(text);
  if (r.ok && r.value[1] !== "") return r;
  return {
    ok: false,
    message: `webhook_headers: ${JSON.stringify(text.trim().split(/[\s:]/)[0] ?? "")} should be \`Name: value\``,
    hint: 'Write e.g. "Authorization: Bearer $TOKEN" as one item per header',
  };
}

/**
 * `webhook`: blank (no webhook) or an http(s) URL, so a typo is found by check rather than by each post. A
 * `$ENV:`/`$FILE:` reference left as written (a compile without a resolver) is checked where it is resolved.
 */
function webhookUrl(text: string): Parsed<string> {
  const t = text.trim();
  if (t === "" || isReference(t)) return { ok: true, value: text };
  let u: URL | undefined;
  try {
    u = new URL(t);
  } catch {
    u = undefined;
  }
  if (u && (u.protocol === "http:" || u.protocol === "https:")) return { ok: true, value: text };
  return {
    ok: false,
    message: `Webhook URL ${JSON.stringify(t)} is not an http(s) URL`,
    hint: 'Write the URL notifications are posted to, e.g. "https://hooks.example.com/pingap"',
  };
}

/** The `[basic]` table. */
export const basicSchema = table({
  title: "[basic]",
  doc: "Process-wide settings: name, error page, threads, shutdown timing, upstream pool size, webhooks and logging.",
  fields: {
    name: field(str(), { doc: "Instance name, shown in notifications and stats.", defaultText: "pingap" }),
    error_template: field(str(), {
      doc:
        "Body of error responses. `{{version}}`, `{{error_type}}` and `{{content}}` are replaced; a body starting with `{` is served as JSON.",
      defaultText: "built-in HTML page",
    }),
    pid_file: field(str(), {
      doc: "Where the process id is written; `--upgrade` reads it to find the process it replaces.",
      defaultText: "/run/pingap.pid, else /var/run/pingap.pid, else /tmp/pingap.pid",
    }),
    error_log: field(str(), {
      unapplied: "there is no daemon mode; stderr goes where the service manager sends it (or use `--log`)",
      doc: "File that receives stderr when running as a daemon.",
    }),
    upgrade_sock: field(str(), {
      unapplied: "no socket hands listeners over; `--upgrade` binds the same ports with SO_REUSEPORT",
      doc: "Unix socket Pingap uses to hand listeners to a new process.",
      default: "/tmp/pingap_upgrade.sock",
    }),
    user: field(str(), {
      unapplied: "the process does not switch user; set `User=` in the systemd unit (conf/pingap.service)",
      doc: "User to switch to after start.",
    }),
    group: field(str(), {
      unapplied: "the process does not switch group; set `Group=` in the systemd unit (conf/pingap.service)",
      doc: "Group to switch to after start.",
    }),
    threads: field(int({ min: 0, max: 1024 }), {
      doc: "Worker isolates per server, unless the server sets its own. 0 means one per CPU core.",
      default: 1,
      unit: "workers",
    }),
    work_stealing: field(bool(), {
      unapplied: "a Tokio setting; the Deno event loop has no equivalent",
      doc: "Tokio work stealing in Pingap.",
      default: true,
    }),
    listener_tasks_per_fd: field(int({ min: 1, max: 64 }), {
      unapplied: "a Pingora setting; each listener here has one accept loop",
      doc: "Parallel accept tasks per socket in Pingap.",
      default: 1,
    }),
    grace_period: field(duration(), {
      doc: "After SIGTERM/SIGQUIT, how long in-flight requests may take before the final shutdown step.",
      default: "5m",
    }),
    graceful_shutdown_timeout: field(duration(), { doc: "Time limit of the final shutdown step.", default: "5s" }),
    upstream_keepalive_pool_size: field(int({ min: 0, max: 1_000_000 }), {
      doc: "Idle keep-alive connections kept per upstream.",
      default: 128,
      unit: "connections",
    }),
    trusted_proxies: field(array(parsed("IP or CIDR", ipNet)), {
      doc:
        "IPs or CIDRs of the proxies in front of this one. `X-Forwarded-For` / `X-Real-IP` name the client (access log " +
        "`{client_ip}`, `$client_ip`, `hash:ip`) only on a connection from one of them; `X-Forwarded-For` is read " +
        "right to left, skipping these addresses. Unset: the client is always the connection's peer.",
    }),
    webhook: field(parsed("string", webhookUrl), { doc: "URL that receives notifications (POST JSON)." }),
    webhook_type: field(oneOf(["normal", "wecom", "dingtalk"]), {
      doc: "Payload format of the webhook.",
      default: "normal",
    }),
    webhook_notifications: field(array(oneOf(WEBHOOK_EVENTS)), {
      doc: `Events sent to the webhook; none when unset. Never sent by this version (accepted with a warning): ${
        [...UNSENT_WEBHOOK_EVENTS.keys()].map((e) => `\`${e}\``).join(", ")
      }.`,
    }),
    log_level: field(str(), {
      doc:
        "Application log level: `error`, `warn`, `info`, `debug`, `trace` (or tracing directives; the first level wins). Reloadable.",
      defaultText: "RUST_LOG, else info",
    }),
    log_buffered_size: field(size(), {
      unapplied: "the application log goes through a queue of lines written in batches as fast as the target takes " +
        "them; there is no byte buffer to size",
      doc: "Application log write buffer; used when at least 4 KiB.",
      default: 0,
    }),
    log_format_json: field(bool(), { doc: "Write application logs as JSON lines.", default: false }),
    sentry: field(str(), {
      unapplied: "errors are not reported to Sentry",
      doc: "Sentry DSN.",
    }),
    pyroscope: field(str(), {
      unapplied: "no continuous profiling is sent",
      doc: "Pyroscope URL.",
    }),
    auto_restart_check_interval: field(atLeast(duration(), 1000, "auto restart check interval should be at least 1s"), {
      unapplied: "`--autoreload` watches the config by file events (or the etcd watch), not by polling",
      doc: "How often the config is polled for changes when watching without file events.",
      default: "90s",
    }),
    log_compress_algorithm: field(oneOf(["gzip", "zstd"]), {
      doc:
        "Compress old rolled log files (`--log` and access-log files) with this algorithm, to `<file>.gz` or `<file>.zst`, removing the original; off when unset.",
    }),
    log_compress_level: field(int({ min: 0, max: 22 }), {
      doc: "Compression level of old logs: gzip 0 = 9 (best), else at most 9; zstd 0 = zstd's default, up to 22.",
      default: 0,
    }),
    log_compress_days_ago: field(int({ min: 0, max: 3650 }), {
      doc:
        "Compress rolled log files not modified for this many days (0 = 7); the file being written is never touched.",
      default: 0,
      unit: "days",
    }),
    log_compress_time_point_hour: field(int({ min: 0, max: 23 }), {
      doc: "Local hour (0–23) in which old logs are compressed, once a day.",
      default: 0,
      unit: "hour",
    }),
    working_directory: field(str({ nonEmpty: true }), {
      unapplied: "there is no daemon mode; the process stays where it is started (set `WorkingDirectory=` in the " +
        "systemd unit)",
      doc: "Directory Pingap changes into after it daemonizes.",
    }),
    restart_ready_timeout: field(atLeast(duration(), 1000, "restart ready timeout should be at least 1s"), {
      unapplied: "changes are applied in place, never by restarting the process, so nothing waits for a new one",
      doc: "How long `--autorestart` waits for the new process to report that it is ready before it gives up.",
      default: "1m",
    }),
    max_blocking_threads: field(int({ min: 1, max: 65535, hint: "max blocking threads should be greater than 0" }), {
      unapplied: "a Tokio setting; Deno has no blocking thread pool a script can size",
      doc: "Size of the thread pool for blocking work in Pingap (Tokio's default is 512).",
      defaultText: "512",
    }),
    downstream_tls_offload_threadpools: field(int({ min: 1, max: 1024 }), {
      unapplied: NO_OFFLOAD_POOLS,
      doc: "Thread pools that run client TLS handshakes; set together with `downstream_tls_offload_thread_per_pool`.",
    }),
    downstream_tls_offload_thread_per_pool: field(int({ min: 1, max: 1024 }), {
      unapplied: NO_OFFLOAD_POOLS,
      doc: "Threads in each pool of `downstream_tls_offload_threadpools`.",
    }),
    upstream_connect_offload_threadpools: field(int({ min: 1, max: 1024 }), {
      unapplied: NO_OFFLOAD_POOLS,
      doc: "Thread pools that open upstream connections; set together with " +
        "`upstream_connect_offload_thread_per_pool`.",
    }),
    upstream_connect_offload_thread_per_pool: field(int({ min: 1, max: 1024 }), {
      unapplied: NO_OFFLOAD_POOLS,
      doc: "Threads in each pool of `upstream_connect_offload_threadpools`.",
    }),
    webhook_batch_window: field(duration(), {
      doc: "Notifications within this window are merged into one post; each new one extends it, and the batch " +
        "is posted once it has been quiet this long (and at shutdown). `0s` turns merging off.",
      default: "10s",
    }),
    webhook_batch_max_events: field(int({ min: 1, max: 1000 }), {
      doc: "A batch that holds this many notifications is posted at once; `1` turns merging off. A merged post " +
        "has the highest level, the categories joined by commas and one numbered line per notification.",
      default: 5,
      unit: "notifications",
    }),
    webhook_min_level: field(oneOf(["info", "warn", "error"]), {
      doc: "Lowest level posted to the webhook: `info`, `warn` or `error`.",
      default: "info",
    }),
    webhook_headers: field(array(parsed("header line", webhookHeader)), {
      doc: 'Headers added to each webhook post, `"Name: value"` (e.g. an `Authorization`).',
    }),
    webhook_secret: field(str({ nonEmpty: true }), {
      doc: "Signs each post: DingTalk gets the `timestamp` and `sign` query parameters; other types an " +
        "`X-Pingap-Signature: sha256=<hex HMAC-SHA256 of the body>` header.",
    }),
    webhook_template: field(str({ nonEmpty: true }), {
      doc: "Body of each post instead of the built-in one, with `{{title}}`, `{{message}}`, `{{level}}`, " +
        "`{{category}}`, `{{hostname}}`, `{{ip}}`, `{{name}}` and `{{count}}` replaced: for `wecom` and " +
        "`dingtalk` the markdown shown, for `normal` the whole body (values JSON-escaped, so quote each " +
        "placeholder).",
      defaultText: "the built-in body of webhook_type",
    }),
    webhook_retries: field(int({ min: 0, max: 10, hint: "webhook_retries should be at most 10" }), {
      doc: "Times a post that got no answer, or a 5xx or 429, is tried again: after 1s, 2s, 4s… (at most 5m), " +
        "in the background.",
      default: 0,
    }),
  },
});
