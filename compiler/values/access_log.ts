/**
 * Access-log formats, parsed once into parts: the presets `tiny`, `short`,
 * `common`, `combined`, or a custom `{tag}` template, optionally preceded by
 * a file path (`/var/log/access.log?rolling=hourly combined`).
 *
 * @module
 */
import type { Parsed } from "../schema/types.ts";
import { parseBoundedDuration } from "../units.ts";
import { didYouMean } from "../did_you_mean.ts";
import { type SyslogTarget, syslogTarget } from "./syslog.ts";
import { type AccessLogFilter, logFilter } from "./log_filter.ts";
import { accessLogParams, logTarget, unknownParams } from "./log_target.ts";

/** Pingap's presets (quote placement exactly as Pingap's code has them). */
export const ACCESS_LOG_PRESETS: { readonly [name: string]: string } = {
  tiny: "{method} {uri} {status} {size_human} - {latency}ms",
  short: "{remote} {method} {uri} {proto} {status} {size_human} - {latency}ms",
  common: '{remote} "{method} {uri} {proto}" {status} {size_human}"',
  combined: '{remote} "{method} {uri} {proto}" {status} {size_human} "{referer}" "{user_agent}"',
  /** One JSON object a line; the runtime JSON-escapes every value of this preset ({@linkcode AccessLog.json}). */
  json: '{"when":"{when_utc_iso}","client_ip":"{client_ip}","remote":"{remote}","host":"{host}","method":"{method}",' +
    '"uri":"{uri}","proto":"{proto}","status":{status},"size":{size},"latency":{latency},"referer":"{referer}",' +
    '"user_agent":"{user_agent}","request_id":"{request_id}"}',
};

/** Fixed tags. */
export const ACCESS_LOG_TAGS = [
  "host",
  "method",
  "path",
  "proto",
  "query",
  "remote",
  "client_ip",
  "scheme",
  "uri",
  "referer",
  "user_agent",
  "when",
  "when_utc_iso",
  "when_unix",
  "size",
  "size_human",
  "status",
  "latency",
  "latency_human",
  "payload_size",
  "payload_size_human",
  "request_id",
] as const;

/** Context keys with a `_human` twin (milliseconds). */
export const CONTEXT_TIME_KEYS = [
  "upstream_connect_time",
  "upstream_processing_time",
  "upstream_response_time",
  "upstream_tcp_connect_time",
  "upstream_tls_handshake_time",
  "upstream_connection_time",
  "connection_time",
  "tls_handshake_time",
  "compression_time",
  "cache_lookup_time",
  "cache_lock_time",
  "service_time",
] as const;

/** Pingap's 35 `{:key}` context keys, and the 4 of Pingap 0.16 on the client certificate (`tls_client_ca`). */
export const CONTEXT_KEYS: readonly string[] = [
  "connection_id",
  "upstream_reused",
  "upstream_status",
  "upstream_addr",
  "processing",
  "upstream_connected",
  "location",
  "connection_reused",
  "tls_version",
  "tls_cipher",
  "compression_ratio",
  "tls_client_subject",
  "tls_client_fingerprint",
  "tls_client_serial",
  "tls_client_verified",
  ...CONTEXT_TIME_KEYS.flatMap((k) => [k, `${k}_human`]),
];

const NO_OFFLOAD = "there are no upstream connect offload threads here (`basic.upstream_connect_offload_*` is not " +
  "applied), so it prints nothing";

/**
 * Pingap 0.16's further context keys: accepted, but not filled by this version, and why (a `check` warning). Its
 * `ja4`, `ja4_r`, `ja4_o`, `ja4_ro` hold a digit, which the tag syntax (`[A-Za-z_<>\-~:$]`) does not take: `{:ja4}`
 * stays text in a line, as under that syntax.
 */
export const UNAPPLIED_CONTEXT_KEYS: Readonly<Record<string, string>> = {
  upstream_connect_offload_wait_time: NO_OFFLOAD,
  upstream_connect_offload_wait_time_human: NO_OFFLOAD,
};

/** One part of a log line. */
export type LogPart =
  | string
  | { readonly tag: typeof ACCESS_LOG_TAGS[number] }
  | { readonly cookie: string }
  | { readonly requestHeader: string }
  | { readonly responseHeader: string }
  /** `{$NAME}`: read once when the runtime builds the line writer (`hostname` is the machine's name). */
  | { readonly env: string }
  | { readonly ctx: string };

/** How often a file target starts a new file (Pingap's `rolling=`; `daily` by default). */
export type Rolling = "minutely" | "hourly" | "daily" | "never";

/** A file target: where lines go instead of the application log. */
export interface AccessLogFile {
  /** The path as written (a directory when it ends with `/`). */
  readonly path: string;
  readonly rolling: Rolling;
  /** Lines that may wait to be written; more are dropped and counted (`channel_buffer`, 1000). */
  readonly channelBuffer: number;
  /** Pingap's flush interval (`flush_timeout`, 10s); lines are written as they come here, see docs/differences.md. */
  readonly flushTimeout: number;
  /** A `syslog://` target (then `path` is the whole target and nothing rolls). */
  readonly syslog?: SyslogTarget;
  /** `stdout`/`/dev/stdout` or `stderr`/`/dev/stderr`: the standard stream (then `path` is the name as written). */
  readonly stream?: "stdout" | "stderr";
}

/** A parsed `access_log` value. */
export interface AccessLog {
  /** File target, or undefined for the application log. */
  readonly file?: AccessLogFile;
  /** The template text after presets are expanded. */
  readonly format: string;
  readonly parts: readonly LogPart[];
  /** The `json` preset: every value is JSON-escaped, so each line is one JSON object. */
  readonly json?: true;
  /** Which requests get a line (`skip`, `min_status`, `min_latency`, `sample`); every one when undefined. */
  readonly filter?: AccessLogFilter;
  /** Parameters of the target that nothing reads (`check` warns that they are not applied). */
  readonly unknownParams?: readonly string[];
}

const TAGS = new Set<string>(ACCESS_LOG_TAGS);
const CONTEXT = new Set<string>(CONTEXT_KEYS);
const TAG = /\{([A-Za-z_<>\-~:$]+)\}/g;
const ROLLING = ["minutely", "hourly", "daily", "never"];

/** Parses the format part into parts; unknown tags and context keys are reported. */
export function parseLogFormat(format: string): Parsed<readonly LogPart[]> {
  const out: LogPart[] = [];
  let last = 0;
  const text = (s: string) => {
    if (typeof out[out.length - 1] === "string") out[out.length - 1] += s;
    else out.push(s);
  };
  for (const m of format.matchAll(TAG)) {
    if (m.index > last) text(format.slice(last, m.index));
    last = m.index + m[0].length;
    const t = m[1]!;
    const rest = t.slice(1);
    if (TAGS.has(t)) out.push({ tag: t as typeof ACCESS_LOG_TAGS[number] });
    else if (t[0] === "~") out.push({ cookie: rest });
    else if (t[0] === ">") out.push({ requestHeader: rest.toLowerCase() });
    else if (t[0] === "<") out.push({ responseHeader: rest.toLowerCase() });
    else if (t[0] === "$") out.push({ env: rest });
    else if (t[0] === ":" && (CONTEXT.has(rest) || Object.hasOwn(UNAPPLIED_CONTEXT_KEYS, rest))) {
      out.push({ ctx: rest });
    } else if (t[0] === ":") {
      const near = didYouMean(rest, CONTEXT_KEYS);
      return {
        ok: false,
        message: `Unknown access-log context key "{${t}}"`,
        hint: near ?? `Known keys: ${CONTEXT_KEYS.join(", ")}`,
      };
    } else {
      return {
        ok: false,
        message: `Unknown access-log tag "{${t}}"`,
        hint: `Known tags: ${ACCESS_LOG_TAGS.join(", ")}, and {~cookie}, {>header}, {<header}, {$ENV}, {:context}`,
      };
    }
  }
  if (last < format.length) text(format.slice(last));
  return { ok: true, value: out };
}

interface Target {
  readonly file: AccessLogFile;
  readonly filter: AccessLogFilter | undefined;
  readonly unknown: readonly string[];
}

/** The target before the format: a file, a standard stream or syslog, with its parameters. */
function target(head: string): Parsed<Target> {
  const { kind, name, query } = logTarget(head);
  const params = new URLSearchParams(query);
  let rolling = "never";
  if (kind === "file") {
    rolling = params.get("rolling") || "daily";
    if (!ROLLING.includes(rolling)) {
      return { ok: false, message: `Unknown rolling "${rolling}"`, hint: `Use one of ${ROLLING.join(", ")}` };
    }
  }
  const buffer = params.get("channel_buffer");
  const channelBuffer = buffer === null ? 1000 : Number(buffer);
  if (!Number.isInteger(channelBuffer) || channelBuffer < 1) {
    return { ok: false, message: `channel_buffer must be a whole number above 0, got "${buffer}"` };
  }
  const flush = params.get("flush_timeout");
  const flushTimeout = flush === null ? 10_000 : parseBoundedDuration(flush);
  if (typeof flushTimeout === "string") return { ok: false, message: flushTimeout };
  const filter = logFilter(head, params);
  if (!filter.ok) return filter;
  let file: AccessLogFile = {
    path: kind === "syslog" ? head : name,
    rolling: rolling as Rolling,
    channelBuffer,
    flushTimeout,
  };
  if (kind === "syslog") {
    const syslog = syslogTarget(head);
    if (!syslog.ok) return syslog;
    file = { ...file, syslog: syslog.value };
  } else if (kind !== "file") file = { ...file, stream: kind };
  return { ok: true, value: { file, filter: filter.value, unknown: unknownParams(query, accessLogParams(kind)) } };
}

/**
 * Parses an `access_log` value: `[<path>[?query] ]<preset or {template}>`.
 *
 * @example Usage
 * ```ts
 * import { accessLog } from "./access_log.ts";
 * const r = accessLog("/var/log/pingap.log?rolling=hourly {when} {host} {method} {path}");
 * if (!r.ok || r.value.file?.path !== "/var/log/pingap.log" || r.value.file.rolling !== "hourly") throw new Error();
 * ```
 */
export function accessLog(text: string): Parsed<AccessLog> {
  let file: AccessLogFile | undefined;
  let filter: AccessLogFilter | undefined;
  let unknown: readonly string[] = [];
  let format = text.trim();
  const space = format.indexOf(" ");
  if (space > 0) {
    const head = format.slice(0, space);
    const tail = format.slice(space + 1).trim();
    if (!head.includes("{") && (Object.hasOwn(ACCESS_LOG_PRESETS, tail) || tail.startsWith("{"))) {
      const t = target(head);
      if (!t.ok) return t;
      ({ file, filter, unknown } = t.value);
      format = tail;
    }
  }
  // Own keys only: "constructor" is no preset.
  const json = format === "json";
  if (Object.hasOwn(ACCESS_LOG_PRESETS, format)) format = ACCESS_LOG_PRESETS[format]!;
  else if (format !== "" && !format.includes("{")) {
    return {
      ok: false,
      message: `access_log ${JSON.stringify(text)} logs nothing of the request: it is no preset and has no {tag}`,
      hint: (logTarget(format).kind !== "file" || format.includes("/")
        ? `A target needs a format after it: "${format} combined". `
        : "") +
        `Use a preset (${Object.keys(ACCESS_LOG_PRESETS).join(", ")}), a template with {tags}, ` +
        'or "<target> <preset or template>", e.g. "/var/log/access.log combined" or "stdout json"',
    };
  }
  const parts = parseLogFormat(format);
  if (!parts.ok) return parts;
  return {
    ok: true,
    value: {
      ...(file !== undefined ? { file } : {}),
      format,
      parts: parts.value,
      ...(json ? { json: true } : {}),
      ...(filter ? { filter } : {}),
      ...(unknown.length ? { unknownParams: unknown } : {}),
    },
  };
}
