/**
 * Access-log formats, parsed once into parts: the presets `tiny`, `short`,
 * `common`, `combined`, or a custom `{tag}` template, optionally preceded by
 * a file path (`/var/log/access.log combined`).
 *
 * @module
 */
import type { Parsed } from "../schema/types.ts";

/** Pingap's presets (quote placement exactly as Pingap's). */
export const ACCESS_LOG_PRESETS: { readonly [name: string]: string } = {
  tiny: "{method} {uri} {status} {size_human} - {latency}ms",
  short: "{remote} {method} {uri} {proto} {status} {size_human} - {latency}ms",
  common: '{remote} "{method} {uri} {proto}" {status} {size_human}"',
  combined: '{remote} "{method} {uri} {proto}" {status} {size_human}" "{referer}" "{user_agent}"',
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

/** One part of a log line. */
export type LogPart =
  | string
  | { readonly tag: typeof ACCESS_LOG_TAGS[number] }
  | { readonly cookie: string }
  | { readonly requestHeader: string }
  | { readonly responseHeader: string }
  | { readonly env: string }
  | { readonly ctx: string };

/** A parsed `access_log` value. */
export interface AccessLog {
  /** File to write to, or undefined for the application log. */
  readonly file?: string;
  /** File query parameters (e.g. `rolling=hourly`). */
  readonly params: { readonly [key: string]: string };
  /** The template text after presets are expanded. */
  readonly format: string;
  readonly parts: readonly LogPart[];
}

const TAGS = new Set<string>(ACCESS_LOG_TAGS);
const TAG = /\{([A-Za-z_<>\-~:$]+)\}/g;

/** Parses the format part into parts; unknown tags are reported. */
export function parseLogFormat(format: string): Parsed<readonly LogPart[]> {
  const out: LogPart[] = [];
  let last = 0;
  for (const m of format.matchAll(TAG)) {
    if (m.index > last) out.push(format.slice(last, m.index));
    last = m.index + m[0].length;
    const t = m[1]!;
    const rest = t.slice(1);
    if (TAGS.has(t)) out.push({ tag: t as typeof ACCESS_LOG_TAGS[number] });
    else if (t[0] === "~") out.push({ cookie: rest });
    else if (t[0] === ">") out.push({ requestHeader: rest.toLowerCase() });
    else if (t[0] === "<") out.push({ responseHeader: rest.toLowerCase() });
    else if (t[0] === "$") out.push({ env: rest });
    else if (t[0] === ":") out.push({ ctx: rest });
    else {
      return {
        ok: false,
        message: `Unknown access-log tag "{${t}}"`,
        hint: `Known tags: ${ACCESS_LOG_TAGS.join(", ")}, and {~cookie}, {>header}, {<header}, {$ENV}, {:context}`,
      };
    }
  }
  if (last < format.length) out.push(format.slice(last));
  return { ok: true, value: out };
}

/**
 * Parses an `access_log` value.
 *
 * @example Usage
 * ```ts
 * import { accessLog } from "./access_log.ts";
 * const r = accessLog("/var/log/pingap.log {when} {host} {method} {path}");
 * if (!r.ok || r.value.file !== "/var/log/pingap.log") throw new Error();
 * ```
 */
export function accessLog(text: string): Parsed<AccessLog> {
  let file: string | undefined;
  let params: Record<string, string> = {};
  let format = text.trim();
  const space = format.indexOf(" ");
  if (space > 0) {
    const head = format.slice(0, space);
    const tail = format.slice(space + 1).trim();
    if (!head.includes("{") && (tail in ACCESS_LOG_PRESETS || tail.startsWith("{"))) {
      const q = head.indexOf("?");
      file = q < 0 ? head : head.slice(0, q);
      if (q >= 0) params = Object.fromEntries(new URLSearchParams(head.slice(q + 1)));
      format = tail;
    }
  }
  format = ACCESS_LOG_PRESETS[format] ?? format;
  const parts = parseLogFormat(format);
  if (!parts.ok) return parts;
  return { ok: true, value: { ...(file !== undefined ? { file } : {}), params, format, parts: parts.value } };
}
