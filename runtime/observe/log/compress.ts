/**
 * Compression of old rolled log files (`basic.log_compress_*`), as Pingap
 * 0.16 does it: once a day, in the local hour `log_compress_time_point_hour`,
 * every rolled file of the application log (`--log`) and of the access-log
 * file targets — named `<file>.YYYY-MM-DD[-HH[-mm]]`, or the date alone for
 * a directory target — whose modification time is `log_compress_days_ago`
 * days (0 = 7) or more ago is written to `<name>.gz` (gzip, level 0 = 9,
 * else at most 9) or `<name>.zst` (zstd, level 0 = zstd's default, at most
 * 22) and the original removed. The file being written now is never
 * touched; a file that cannot be compressed (the output exists, a read or
 * write fails) is logged and skipped, and its partial output removed.
 *
 * The work runs on a timer beside the proxy, with streamed I/O, so request
 * logging never waits for it; errors are logged, never thrown.
 *
 * @module
 */
import { createReadStream, createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { constants, createGzip, createZstdCompress } from "node:zlib";
import { logTarget, type Plan, type Rolling } from "../../../compiler/mod.ts";
import { log } from "./app_log.ts";
import { rolledName } from "./rolling.ts";

/** The compression settings of `[basic]`. */
export interface CompressSettings {
  /** `gzip` or `zstd`; off when undefined. */
  readonly algorithm: "gzip" | "zstd" | undefined;
  readonly level: number;
  /** Files not modified for this many days are compressed (0 means 7). */
  readonly daysAgo: number;
  /** Local hour (0–23) at which the day's run happens. */
  readonly hour: number;
}

/** The files of one log: its path as configured (`/` at the end for a directory) and rolling. */
export interface LogFiles {
  readonly path: string;
  readonly rolling: Rolling;
}

/** Reads the `log_compress_*` keys of a plan's `[basic]`. */
export function compressSettings(basic: Plan["basic"]): CompressSettings {
  return {
    algorithm: basic.log_compress_algorithm as CompressSettings["algorithm"],
    level: basic.log_compress_level ?? 0,
    daysAgo: basic.log_compress_days_ago ?? 0,
    hour: basic.log_compress_time_point_hour ?? 0,
  };
}

/** The log files of a plan (access-log file targets) and of `--log` (`appLog`, with `?rolling=`). */
export function planLogFiles(plan: Plan, appLog: string | undefined): LogFiles[] {
  const out = new Map<string, LogFiles>();
  if (appLog && logTarget(appLog).kind === "file") {
    const q = appLog.indexOf("?");
    const rolling = (q < 0 ? "never" : new URLSearchParams(appLog.slice(q + 1)).get("rolling") ?? "daily") as Rolling;
    const path = q < 0 ? appLog : appLog.slice(0, q);
    out.set(`${path}?${rolling}`, { path, rolling });
  }
  for (const s of plan.servers) {
    const f = s.accessLog?.file;
    if (f && !f.syslog && !f.stream) out.set(`${f.path}?${f.rolling}`, { path: f.path, rolling: f.rolling });
  }
  return [...out.values()];
}

/** `YYYY-MM-DD`, `YYYY-MM-DD-HH` or `YYYY-MM-DD-HH-mm`. */
const DATE = /^\d{4}-\d{2}-\d{2}(?:-\d{2}){0,2}$/;

/**
 * Is `name` (a file name in the log's directory) a file the log rolled?
 *
 * @example Usage
 * ```ts
 * import { isRolled } from "./compress.ts";
 * if (!isRolled("access.log", "access.log.2026-10-05-13") || isRolled("access.log", "access.log.2026-10-05.gz")) {
 *   throw new Error();
 * }
 * ```
 */
export function isRolled(prefix: string, name: string): boolean {
  if (prefix === "") return DATE.test(name);
  return name.startsWith(`${prefix}.`) && DATE.test(name.slice(prefix.length + 1));
}

function split(path: string): { dir: string; prefix: string } {
  if (path.endsWith("/")) return { dir: path.slice(0, -1) || "/", prefix: "" };
  const slash = path.lastIndexOf("/");
  return slash < 0 ? { dir: ".", prefix: path } : { dir: path.slice(0, slash) || "/", prefix: path.slice(slash + 1) };
}

/** What one run did. */
export interface CompressReport {
  /** Files compressed (the originals, now removed). */
  readonly compressed: string[];
  /** Files that could not be compressed. */
  readonly failed: string[];
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Writes `<file>.gz|.zst` through `<out>.part` (a run cut short leaves only
 * a part file, overwritten by the next run), then removes `file`. An
 * existing output is an error, never overwritten.
 */
async function compressFile(
  file: string,
  algorithm: "gzip" | "zstd",
  level: number,
  signal: AbortSignal | undefined,
): Promise<string> {
  const out = `${file}.${algorithm === "gzip" ? "gz" : "zst"}`;
  if (await exists(out)) throw new Error(`${out} already exists`);
  const part = `${out}.part`;
  const zip = algorithm === "gzip" ? createGzip({ level: level === 0 ? 9 : Math.min(level, 9) }) : createZstdCompress(
    level === 0 ? {} : { params: { [constants.ZSTD_c_compressionLevel]: Math.min(level, 22) } },
  );
  try {
    await pipeline(createReadStream(file), zip, createWriteStream(part), ...(signal ? [{ signal }] : []));
    if (await exists(out)) throw new Error(`${out} already exists`);
    await Deno.rename(part, out);
  } catch (e) {
    await Deno.remove(part).catch(() => {});
    throw e;
  }
  await Deno.remove(file);
  return out;
}

/**
 * Compresses the old rolled files of `logs` now (`now` in ms), except the
 * file each log writes at `now`. Never throws; failures are logged and
 * reported. `signal` stops the run (the file in progress keeps its
 * original).
 */
export async function compressOldLogs(
  logs: readonly LogFiles[],
  settings: CompressSettings,
  now: number = Date.now(),
  signal?: AbortSignal,
): Promise<CompressReport> {
  const report = { compressed: [] as string[], failed: [] as string[] };
  const algorithm = settings.algorithm;
  if (!algorithm) return report;
  const before = now - (settings.daysAgo === 0 ? 7 : settings.daysAgo) * 86_400_000;
  for (const l of logs) {
    const { dir, prefix } = split(l.path);
    const current = rolledName(l.path, l.rolling, now);
    const currentName = current.slice(current.lastIndexOf("/") + 1);
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) {
        log.error(`log compress: reading ${dir} failed: ${(e as Error).message}`);
      }
      continue;
    }
    for (const e of entries) {
      if (signal?.aborted) return report;
      if (!e.isFile || !isRolled(prefix, e.name) || e.name === currentName) continue;
      const file = `${dir}/${e.name}`;
      try {
        const mtime = (await Deno.stat(file)).mtime?.getTime();
        if (mtime === undefined || mtime > before) continue;
        const started = Date.now();
        const out = await compressFile(file, algorithm, settings.level, signal);
        report.compressed.push(file);
        log.info("compress log success", { file, output: out, elapsed: `${Date.now() - started}ms` });
      } catch (err) {
        report.failed.push(file);
        log.error("compress log fail", { file, error: (err as Error).message });
      }
    }
  }
  return report;
}

/** How often the compressor looks at the clock (ms); tests lower it. */
export const compressTick = { everyMs: 60_000 };

/**
 * The compression task of a running proxy: follows reloads
 * ({@linkcode LogCompressor.update}) and runs once in the configured hour
 * of each day.
 */
export class LogCompressor {
  #logs: readonly LogFiles[];
  #settings: CompressSettings;
  readonly #appLog: string | undefined;
  readonly #now: () => number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastRun = "";
  #running: Promise<unknown> | undefined;
  readonly #abort = new AbortController();

  /** A compressor for `plan`; `appLog` is the `--log` value; `now` the clock (tests move it). */
  constructor(plan: Plan, appLog: string | undefined, now: () => number = Date.now) {
    this.#appLog = appLog;
    this.#now = now;
    this.#logs = planLogFiles(plan, appLog);
    this.#settings = compressSettings(plan.basic);
  }

  /** Starts the timer (a first look at the clock at once). */
  start(): this {
    this.#timer ??= setInterval(() => this.tick(), compressTick.everyMs);
    Deno.unrefTimer(this.#timer as unknown as number);
    this.tick();
    return this;
  }

  /** Takes the keys and the log files of a reloaded plan; the next tick uses them. */
  update(plan: Plan): void {
    const next = compressSettings(plan.basic);
    // A new hour or algorithm may run again today.
    if (next.hour !== this.#settings.hour || next.algorithm !== this.#settings.algorithm) this.#lastRun = "";
    this.#settings = next;
    this.#logs = planLogFiles(plan, this.#appLog);
    // Running: the new keys count now (a reload into the configured hour runs at once).
    if (this.#timer !== undefined) void this.tick();
  }

  /**
   * Runs when compression is on, the local hour is the configured one and
   * this day's run has not happened; resolves when that run is done.
   */
  tick(): Promise<CompressReport | undefined> {
    const now = this.#now();
    const d = new Date(now);
    const day = `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
    if (!this.#settings.algorithm || d.getHours() !== this.#settings.hour || this.#lastRun === day) {
      return Promise.resolve(undefined);
    }
    if (this.#running) return this.#running as Promise<CompressReport | undefined>;
    this.#lastRun = day;
    const run = compressOldLogs(this.#logs, this.#settings, now, this.#abort.signal).finally(() =>
      this.#running = undefined
    );
    this.#running = run;
    return run;
  }

  /** Stops the timer and a run in progress (the file being compressed keeps its original). */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#abort.abort();
    await this.#running;
  }
}
