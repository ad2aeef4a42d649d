/**
 * Where a log goes (Pingap 0.16, the access log's target and `--log`):
 * `stdout` or `/dev/stdout`, `stderr` or `/dev/stderr`, a `syslog://` URL,
 * otherwise a file (`stdout.log` is a file). `?parameters` are allowed on
 * all of them; the ones the target does not read are named, so that `check`
 * (access log) or the start (`--log`) can say they are not applied.
 *
 * @module
 */

/** The kind of a log target. */
export type LogTargetKind = "stdout" | "stderr" | "syslog" | "file";

/** A log target split into its name and parameters. */
export interface LogTargetParts {
  readonly kind: LogTargetKind;
  /** The text before `?`. */
  readonly name: string;
  /** The text after `?` ("" when none). */
  readonly query: string;
}

/** The parameters of a `syslog://` target (compiler/values/syslog.ts). */
export const SYSLOG_PARAMS: readonly string[] = ["format", "process", "facility", "protocol"];
/** The parameters that say which requests an access log has a line for (compiler/values/log_filter.ts). */
export const FILTER_PARAMS: readonly string[] = ["skip", "min_status", "min_latency", "sample"];
/** The parameters of the queue in front of an access-log target. */
export const QUEUE_PARAMS: readonly string[] = ["channel_buffer", "flush_timeout"];

/**
 * Splits a target and says what it is.
 *
 * @example Usage
 * ```ts
 * import { logTarget } from "./log_target.ts";
 * if (logTarget("/dev/stdout?sample=0.5").kind !== "stdout" || logTarget("stdout.log").kind !== "file") {
 *   throw new Error();
 * }
 * ```
 */
export function logTarget(value: string): LogTargetParts {
  const q = value.indexOf("?");
  const name = q < 0 ? value : value.slice(0, q);
  const query = q < 0 ? "" : value.slice(q + 1);
  const kind: LogTargetKind = name === "stdout" || name === "/dev/stdout"
    ? "stdout"
    : name === "stderr" || name === "/dev/stderr"
    ? "stderr"
    : value.startsWith("syslog://")
    ? "syslog"
    : "file";
  return { kind, name, query };
}

/** The parameters an access-log target of `kind` reads. */
export function accessLogParams(kind: LogTargetKind): readonly string[] {
  const own = kind === "file" ? ["rolling"] : kind === "syslog" ? SYSLOG_PARAMS : [];
  return [...own, ...QUEUE_PARAMS, ...FILTER_PARAMS];
}

/** The parameters a `--log` target of `kind` reads. */
export function appLogParams(kind: LogTargetKind): readonly string[] {
  return kind === "file" ? ["rolling"] : kind === "syslog" ? SYSLOG_PARAMS : [];
}

/**
 * The parameter names in `query` that are not in `known`, in order, each once.
 *
 * @example Usage
 * ```ts
 * import { unknownParams } from "./log_target.ts";
 * const u = unknownParams("rolling=daily&compression=gzip&days_ago=7", ["rolling"]);
 * if (u.join() !== "compression,days_ago") throw new Error();
 * ```
 */
export function unknownParams(query: string, known: readonly string[]): string[] {
  const out: string[] = [];
  for (const name of new URLSearchParams(query).keys()) {
    if (name.trim() !== "" && !known.includes(name) && !out.includes(name)) out.push(name);
  }
  return out;
}
