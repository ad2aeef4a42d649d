/**
 * Log files that roll over with time, named as Pingap's (tracing-appender)
 * are: `<file>.YYYY-MM-DD` daily (the default), `<file>.YYYY-MM-DD-HH`
 * hourly, `<file>.YYYY-MM-DD-HH-mm` minutely, `<file>` with `never`; the
 * date is UTC. A path ending with `/` is a directory and the date alone is
 * the name (`access.log` with `never`).
 *
 * @module
 */
import type { Rolling } from "../../../compiler/mod.ts";

const PERIOD: { readonly [r in Rolling]: number } = {
  minutely: 60_000,
  hourly: 3_600_000,
  daily: 86_400_000,
  never: Infinity,
};

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * The file name for time `ms`.
 *
 * @example Usage
 * ```ts
 * import { rolledName } from "./rolling.ts";
 * const t = Date.UTC(2026, 10, 22, 4, 41);
 * if (rolledName("/var/log/a.log", "hourly", t) !== "/var/log/a.log.2026-11-22-04") throw new Error();
 * ```
 */
export function rolledName(path: string, rolling: Rolling, ms: number): string {
  const dir = path.endsWith("/");
  if (rolling === "never") return dir ? `${path}access.log` : path;
  const d = new Date(ms);
  let stamp = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
  if (rolling !== "daily") stamp += `-${pad2(d.getUTCHours())}`;
  if (rolling === "minutely") stamp += `-${pad2(d.getUTCMinutes())}`;
  return dir ? `${path}${stamp}` : `${path}.${stamp}`;
}

/** A file that is reopened under a new name when its period ends. */
export class RollingFile {
  readonly #path: string;
  readonly #rolling: Rolling;
  #file: Deno.FsFile | undefined;
  #name = "";
  #until = 0;

  /** `path` and `rolling` as in {@linkcode rolledName}. */
  constructor(path: string, rolling: Rolling) {
    this.#path = path;
    this.#rolling = rolling;
  }

  /** The name of the file open now ("" before the first write). */
  get name(): string {
    return this.#name;
  }

  /** The file for time `ms`, opened (append, parents created) when the period changed. */
  async at(ms: number): Promise<Deno.FsFile> {
    if (this.#file && ms < this.#until) return this.#file;
    const name = rolledName(this.#path, this.#rolling, ms);
    const period = PERIOD[this.#rolling];
    this.#until = period === Infinity ? Infinity : (Math.floor(ms / period) + 1) * period;
    if (this.#file && name === this.#name) return this.#file;
    this.#file?.close();
    this.#file = undefined;
    const slash = name.lastIndexOf("/");
    if (slash > 0) await Deno.mkdir(name.slice(0, slash), { recursive: true });
    this.#file = await Deno.open(name, { append: true, create: true });
    this.#name = name;
    return this.#file;
  }

  /** Closes the open file. */
  close(): void {
    this.#file?.close();
    this.#file = undefined;
    this.#until = 0;
  }
}
