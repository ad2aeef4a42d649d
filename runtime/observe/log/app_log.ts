/**
 * The application log: levels (`basic.log_level`, changed by a reload),
 * text or JSON lines (`basic.log_format_json`), to stderr or the `--log`
 * file (`?rolling=` as for access logs). Lines go through a
 * {@linkcode LineWriter}, so logging never waits for the disk; under a
 * flood lines are dropped and the drops reported.
 *
 * Text: `2026-11-22T04:41:05.123Z  INFO message key=value`.
 * JSON: `{"timestamp":"…","level":"INFO","message":"…","key":"value"}`.
 *
 * @module
 */
import { appLogParams, logTarget, type Rolling, syslogTarget, unknownParams } from "../../../compiler/mod.ts";
import { type LineTarget, LineWriter, writeAll } from "./line_writer.ts";
import { RollingFile } from "./rolling.ts";
import { syslogLineTarget } from "./syslog.ts";

/** Levels, most severe first. */
export const LEVELS = ["error", "warn", "info", "debug", "trace"] as const;
/** A level. */
export type Level = typeof LEVELS[number];

const RANK: { readonly [l in Level]: number } = { error: 0, warn: 1, info: 2, debug: 3, trace: 4 };
const LABEL: { readonly [l in Level]: string } = {
  error: "ERROR",
  warn: " WARN",
  info: " INFO",
  debug: "DEBUG",
  trace: "TRACE",
};

/** Fields of a line (printed `key=value` in text, as members in JSON). */
export type Fields = { readonly [key: string]: string | number | boolean | undefined };

/**
 * The level of a `log_level` value: tracing directives separated by commas
 * (`warn`, `info,pingap=debug`, `pingap=debug`); the first bare level wins,
 * else the first directive's level; `info` when none is readable.
 *
 * @example Usage
 * ```ts
 * import { parseLevel } from "./app_log.ts";
 * if (parseLevel("pingap=debug,WARN") !== "warn" || parseLevel(undefined) !== "info") throw new Error();
 * ```
 */
export function parseLevel(value: string | undefined): Level {
  const items = (value ?? "").split(",").map((s) => s.trim().toLowerCase()).filter((s) => s !== "");
  const bare = items.find((s) => !s.includes("=") && (LEVELS as readonly string[]).includes(s));
  if (bare) return bare as Level;
  for (const s of items) {
    const l = s.slice(s.indexOf("=") + 1);
    if ((LEVELS as readonly string[]).includes(l)) return l as Level;
  }
  return "info";
}

/** Standard error, written in batches (what `pingap start` uses without `--log`). */
export function stderrTarget(): LineTarget {
  return { write: (bytes) => writeAll(Deno.stderr, bytes), close() {} };
}

/** Standard output, written in batches (`--log stdout`). */
export function stdoutTarget(): LineTarget {
  return { write: (bytes) => writeAll(Deno.stdout, bytes), close() {} };
}

/**
 * The target of a `--log` value: `stdout`/`/dev/stdout`, `stderr`/`/dev/stderr`, `syslog://…`, else a file
 * (`stdout.log` is one), each with `?parameters` (compiler/values/log_target.ts); stderr when unset. Throws with
 * Pingap's message when a syslog target does not parse.
 */
export function appLogTarget(spec: string | undefined): LineTarget {
  const kind = spec ? logTarget(spec).kind : "stderr";
  if (kind === "stdout") return stdoutTarget();
  if (kind === "stderr") return stderrTarget();
  return kind === "syslog" ? syslogAppTarget(spec!) : fileTarget(spec!);
}

/** The parameters of a `--log` value that its target does not read (logged as not applied at the start). */
export function appLogUnknownParams(spec: string | undefined): string[] {
  if (!spec) return [];
  const t = logTarget(spec);
  return unknownParams(t.query, appLogParams(t.kind));
}

/** A `--log syslog://…` value (compiler/values/syslog.ts); throws with Pingap's message when it does not parse. */
export function syslogAppTarget(spec: string): LineTarget {
  const t = syslogTarget(spec);
  if (!t.ok) throw new Error(`Invalid --log ${spec}: ${t.message}${t.hint ? ` (${t.hint})` : ""}`);
  return syslogLineTarget(t.value);
}

/** A `--log` value: `path[?rolling=daily|hourly|minutely|never]`; plain paths do not roll. */
export function fileTarget(spec: string): LineTarget {
  const q = spec.indexOf("?");
  const rolling = (q < 0 ? "never" : new URLSearchParams(spec.slice(q + 1)).get("rolling") ?? "daily") as Rolling;
  const file = new RollingFile(q < 0 ? spec : spec.slice(0, q), rolling);
  return { write: async (bytes, now) => await writeAll(await file.at(now), bytes), close: () => file.close() };
}

let level: Level = parseLevel(readEnv("RUST_LOG"));
let json = false;
/** Until {@linkcode setAppLogTarget} (`pingap start`), lines are written to stderr at once, as console.error does. */
let writer: LineWriter | undefined;
const encoder = new TextEncoder();

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** Settings from `[basic]`: level (else `RUST_LOG`, else info) and format; called at start and on every reload. */
export function configureAppLog(
  basic: { readonly log_level?: string | undefined; readonly log_format_json?: boolean },
) {
  level = parseLevel(basic.log_level ?? readEnv("RUST_LOG"));
  json = basic.log_format_json ?? false;
}

/**
 * Sends the log through a queue to `target` (stderr or a `--log` file), or
 * back to direct stderr writes with undefined; the previous target is
 * flushed and closed.
 */
export async function setAppLogTarget(target: LineTarget | undefined, capacity = 4096): Promise<void> {
  const old = writer;
  writer = target ? new LineWriter(target, { capacity }) : undefined;
  await old?.close();
}

/** Would a line at `l` be written? */
export function logEnabled(l: Level): boolean {
  return RANK[l] <= RANK[level];
}

/** Renders a line (exported for tests). */
export function formatLine(
  l: Level,
  message: string,
  fields: Fields | undefined,
  asJson: boolean,
  now: number,
): string {
  const ts = new Date(now).toISOString();
  if (asJson) {
    let out = `{"timestamp":"${ts}","level":"${LABEL[l].trim()}","message":${JSON.stringify(message)}`;
    if (fields) {
      for (const k in fields) if (fields[k] !== undefined) out += `,${JSON.stringify(k)}:${JSON.stringify(fields[k])}`;
    }
    return `${out}}`;
  }
  let out = `${ts} ${LABEL[l]} ${message}`;
  if (fields) { for (const k in fields) if (fields[k] !== undefined) out += ` ${k}=${fields[k]}`; }
  return out;
}

/** Writes a line at level `l` when the level allows; false when it was dropped (queue full). */
export function appLog(l: Level, message: string, fields?: Fields): boolean {
  if (RANK[l] > RANK[level]) return true;
  const line = formatLine(l, message, fields, json, Date.now());
  if (writer) return writer.write(line);
  Deno.stderr.writeSync(encoder.encode(`${line}\n`));
  return true;
}

/** Lines of the application log dropped so far (queue full). */
export function appLogDropped(): number {
  return writer?.dropped ?? 0;
}

/** Resolves once every queued line was written. */
export async function flushAppLog(): Promise<void> {
  await writer?.flush();
}

/** Shorthands. */
export const log = {
  error: (message: string, fields?: Fields) => appLog("error", message, fields),
  warn: (message: string, fields?: Fields) => appLog("warn", message, fields),
  info: (message: string, fields?: Fields) => appLog("info", message, fields),
  debug: (message: string, fields?: Fields) => appLog("debug", message, fields),
};

function text(parts: unknown[]): string {
  return parts.map((p) => typeof p === "string" ? p : p instanceof Error ? p.stack ?? p.message : Deno.inspect(p))
    .join(" ");
}

/**
 * Routes `console.*` of this isolate into the application log (error,
 * warn, info for log/info, debug), so every line has the configured format
 * and target. Used by `pingap start`, never by `check`.
 */
export function installConsole(): void {
  console.error = (...p: unknown[]) => void appLog("error", text(p));
  console.warn = (...p: unknown[]) => void appLog("warn", text(p));
  console.info = (...p: unknown[]) => void appLog("info", text(p));
  console.log = (...p: unknown[]) => void appLog("info", text(p));
  console.debug = (...p: unknown[]) => void appLog("debug", text(p));
}

/**
 * What `pingap start` does once the config is known: settings from
 * `[basic]`, the target (`--log` file or stderr, both through the queue),
 * and `console.*` routed into the log.
 */
export async function startAppLog(
  file: string | undefined,
  basic: { readonly log_level?: string | undefined; readonly log_format_json?: boolean },
  /** False in worker isolates: the main one says it. */
  warnUnknown = true,
): Promise<void> {
  configureAppLog(basic);
  await setAppLogTarget(appLogTarget(file));
  installConsole();
  for (const p of warnUnknown ? appLogUnknownParams(file) : []) {
    log.warn(
      `--log ${file}: parameter "${p}" is not applied: the application log reads only rolling (files) and format, ` +
        "process, facility, protocol (syslog://); old-log compression is basic.log_compress_*",
    );
  }
}
