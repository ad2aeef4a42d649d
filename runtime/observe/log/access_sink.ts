/**
 * Where a server's access-log lines go: the application log (INFO) by
 * default, or a file target (`access_log = "<path>[?rolling=…] <format>"`)
 * or a `syslog://` one (./syslog.ts), or the standard output or error
 * (`stdout`, `/dev/stdout`, `stderr`, `/dev/stderr`).
 * File writers are shared by path and rolling and reference-counted in the
 * proxy's {@linkcode AccessLogFiles}, so a reload that keeps the target keeps
 * the writer (and its queue and drop count). Drops are reported by a warning every {@linkcode dropReport}
 * period while they happen.
 *
 * @module
 */
import type { AccessLogFile } from "../../../compiler/mod.ts";
import { appLog, log } from "./app_log.ts";
import { type LineTarget, LineWriter, writeAll } from "./line_writer.ts";
import { RollingFile } from "./rolling.ts";
import { syslogLineTarget } from "./syslog.ts";

/** A destination of lines. */
export interface AccessSink {
  /** Queues a line; false when it was dropped. */
  write(line: string): boolean;
  /** Lets go of the destination (the last user of a file closes it after writing what is queued). */
  release(): Promise<void>;
}

/** How often drops are reported (ms); tests lower it. */
export const dropReport = { everyMs: 10_000 };

interface Shared {
  readonly writer: LineWriter;
  refs: number;
  timer: ReturnType<typeof setInterval>;
}

/** The open access-log files of one proxy, by path and rolling: every generation opens its targets here. */
export class AccessLogFiles {
  readonly #files = new Map<string, Shared>();

  /** How many files are open. */
  get size(): number {
    return this.#files.size;
  }

  /** A sink writing to `file`, sharing the writer of the same path and rolling while another sink holds it. */
  open(file: AccessLogFile): AccessSink {
    const files = this.#files;
    // A syslog target by its whole text: the same server with another format or process is another writer.
    const key = file.syslog ? file.syslog.spec : file.stream ?? `${file.path}?${file.rolling}`;
    let shared = files.get(key);
    if (!shared) {
      const writer = fileWriter(file);
      shared = { writer, refs: 0, timer: reporter(file.path, writer) };
      files.set(key, shared);
    }
    shared.refs++;
    const s = shared;
    let released = false;
    return {
      write: (line) => s.writer.write(line),
      async release() {
        if (released) return;
        released = true;
        if (--s.refs > 0) return;
        files.delete(key);
        clearInterval(s.timer);
        await s.writer.close();
      },
    };
  }
}

/** The writer of a file target (with a clock for tests). */
export function fileWriter(file: AccessLogFile, now: () => number = Date.now): LineWriter {
  return new LineWriter(
    file.syslog ? syslogLineTarget(file.syslog) : file.stream ? streamTarget(file.stream) : rollingTarget(file),
    {
      capacity: file.channelBuffer,
      now,
      onError: (e) => log.error(`access log ${file.path}: write failed: ${(e as Error).message}`),
    },
  );
}

function rollingTarget(file: AccessLogFile): LineTarget {
  const rolling = new RollingFile(file.path, file.rolling);
  return {
    write: async (bytes, at) => await writeAll(await rolling.at(at), bytes),
    close: () => rolling.close(),
  };
}

/** The standard output or error: written in batches, never closed. */
function streamTarget(stream: "stdout" | "stderr"): LineTarget {
  const out = stream === "stdout" ? Deno.stdout : Deno.stderr;
  return { write: (bytes) => writeAll(out, bytes), close() {} };
}

function reporter(path: string, writer: LineWriter): ReturnType<typeof setInterval> {
  let reported = 0;
  const timer = setInterval(() => {
    const total = writer.dropped;
    if (total === reported) return;
    log.warn(`access log ${path}: ${total - reported} lines dropped (queue full), ${total} since start`, {
      dropped: total - reported,
      total,
    });
    reported = total;
  }, dropReport.everyMs);
  Deno.unrefTimer(timer as unknown as number);
  return timer;
}

/**
 * Opens the sink of a server: `override` (tests, embedding) when given,
 * else the file target (in `files`: the proxy's; by default a set of its
 * own, shared with no one), else the application log.
 */
export function openAccessSink(
  file: AccessLogFile | undefined,
  override?: (line: string) => void,
  files: AccessLogFiles = new AccessLogFiles(),
): AccessSink {
  if (override) {
    return {
      write(line) {
        override(line);
        return true;
      },
      release: () => Promise.resolve(),
    };
  }
  if (!file) return { write: (line) => appLog("info", line), release: () => Promise.resolve() };
  return files.open(file);
}
