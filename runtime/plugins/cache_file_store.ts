/**
 * The cache plugin's file store (a `directory` that is a path): one file per entry under
 * `<dir>/<namespace>/<levels>/<key hash>`, the levels cut nginx-style from the end of the hash (its last character
 * skipped), so `levels=1:2` puts `…abcdef123456` at `5/34/abcdef123456`. A file is an 8-byte header (two u32 lengths,
 * big-endian: the meta and a reserved second part), the meta as JSON, then the body. A file that cannot be read back
 * is a miss and is removed; an expired one is read (a refetch overwrites it); files unused for `inactive` go in the hourly {@linkcode FileStore.sweep}. At most `reading_max` reads and `writing_max` writes run at once; more are a miss or are
 * not written.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { PlanOf, PLUGIN_DEFINITIONS } from "../../compiler/mod.ts";
import { CacheEntry } from "./cache_store.ts";
import { observeCacheStorageRead, observeCacheStorageWrite } from "../observe/metrics/mod.ts";

/** The file backend of a cache plan. */
type FileCacheBackend = Extract<PlanOf<typeof PLUGIN_DEFINITIONS.cache>["backend"], { kind: "file" }>;

/** What a file's meta part holds. */
interface FileMeta {
  readonly status: number;
  readonly fields: [string, string][];
  readonly stored: number;
  readonly expires: number;
  readonly vary: [string, string][];
}

/**
 * The relative path of `hash` under `levels`: segments cut from the end, the last character skipped.
 *
 * @example Pingap's vector 125
 * ```ts
 * import { levelPath } from "./cache_file_store.ts";
 * if (levelPath("abcdef123456", [1, 2]) !== "5/34/abcdef123456") throw new Error();
 * ```
 */
export function levelPath(hash: string, levels: readonly number[]): string {
  const parts: string[] = [];
  let end = hash.length - 1;
  for (const n of levels) {
    parts.push(hash.slice(end - n, end));
    end -= n;
  }
  return [...parts, hash].join("/");
}

/** Expands a leading `~/` to the home directory. */
function expandHome(path: string): string {
  if (!path.startsWith("~/")) return path;
  const home = Deno.env.get("HOME") ?? "";
  return `${home}${path.slice(1)}`;
}

/** Every file below `dir`, depth first; a directory that cannot be read is skipped. */
async function* filesUnder(dir: string): AsyncGenerator<string> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch {
    return;
  }
  for (const e of entries) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) yield* filesUnder(path);
    else yield path;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Entries in files under one directory. */
export class FileStore {
  readonly #root: string;
  #reading = 0;
  #writing = 0;
  /** Bytes written since the last count (a trigger for {@linkcode FileStore.trim}); undefined before the first. */
  #bytes: number | undefined;
  #trimming: Promise<void> | undefined;

  /** @param backend The file backend's plan. */
  constructor(readonly backend: FileCacheBackend) {
    this.#root = expandHome(backend.path).replace(/\/+$/, "");
  }

  /** The file of `key` in `namespace`. */
  fileOf(namespace: string, key: string): string {
    const hash = createHash("md5").update(key).digest("hex");
    const ns = namespace === "" ? "" : `/${namespace}`;
    return `${this.#root}${ns}/${levelPath(hash, this.backend.levels)}`;
  }

  /** Reads in progress now (`pingap_cache_reading`). */
  get reading(): number {
    return this.#reading;
  }

  /** Writes in progress now (`pingap_cache_writing`). */
  get writing(): number {
    return this.#writing;
  }

  /**
   * The entry in `file`, expired or not (an expired one is refetched and then overwritten), or undefined (a miss:
   * absent, unreadable, or too many reads at once).
   */
  async get(file: string, now: number): Promise<CacheEntry | undefined> {
    if (this.#reading >= this.backend.readingMax) return undefined;
    this.#reading++;
    const start = performance.now();
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(file);
    } catch {
      return undefined;
    } finally {
      this.#reading--;
    }
    observeCacheStorageRead(performance.now() - start);
    const entry = decode(bytes);
    if (entry === undefined) {
      await this.delete(file);
      return undefined;
    }
    // Used now: the inactive sweep goes by the file's modification time.
    const at = new Date(now);
    Deno.utime(file, at, at).catch(() => {});
    return entry;
  }

  /** Writes `entry` to `file` (through a temporary file, then a rename); false when not written. */
  async put(file: string, entry: CacheEntry): Promise<boolean> {
    if (this.#writing >= this.backend.writingMax) return false;
    this.#writing++;
    const tmp = `${file}.${crypto.randomUUID()}.tmp`;
    const start = performance.now();
    try {
      await Deno.mkdir(file.slice(0, file.lastIndexOf("/")), { recursive: true });
      const bytes = encode(entry);
      await Deno.writeFile(tmp, bytes);
      await Deno.rename(tmp, file);
      observeCacheStorageWrite(performance.now() - start);
      if (this.backend.maxSize > 0) {
        this.#bytes = this.#bytes === undefined ? Infinity : this.#bytes + bytes.byteLength;
        if (this.#bytes > this.backend.maxSize) void this.trim();
      }
      return true;
    } catch {
      await Deno.remove(tmp).catch(() => {});
      return false;
    } finally {
      this.#writing--;
    }
  }

  /** Removes every file under `namespace` (Pingap's `PURGE /*`): how many were removed and how many could not be. */
  async purgeAll(namespace: string): Promise<{ purged: number; fail: number }> {
    const count = { purged: 0, fail: 0 };
    for await (const path of filesUnder(`${this.#root}/${namespace}`)) {
      if (await this.delete(path)) count.purged++;
      else count.fail++;
    }
    return count;
  }

  /** Removes the files under the directory unused for `inactive` ms (Pingap's hourly sweep); how many went. */
  async sweep(now: number): Promise<number> {
    const before = now - this.backend.inactive;
    let removed = 0;
    for await (const path of filesUnder(this.#root)) {
      const info = await Deno.stat(path).catch(() => undefined);
      if (info?.mtime && info.mtime.getTime() < before && await this.delete(path)) removed++;
    }
    return removed;
  }

  /**
   * Keeps the directory within `max_size`: counts its files and removes the least recently used (oldest modification
   * time: a hit touches its file) until the rest fit. Runs once at a time; the count then triggers the next.
   */
  trim(): Promise<void> {
    this.#trimming ??= this.#trim().finally(() => this.#trimming = undefined);
    return this.#trimming;
  }

  async #trim(): Promise<void> {
    const found: { path: string; size: number; used: number }[] = [];
    for await (const path of filesUnder(this.#root)) {
      if (path.endsWith(".tmp")) continue;
      const info = await Deno.stat(path).catch(() => undefined);
      if (info !== undefined) found.push({ path, size: info.size, used: info.mtime?.getTime() ?? 0 });
    }
    let total = found.reduce((n, f) => n + f.size, 0);
    found.sort((a, b) => a.used - b.used);
    for (const f of found) {
      if (total <= this.backend.maxSize) break;
      if (await this.delete(f.path)) total -= f.size;
    }
    this.#bytes = total;
  }

  /** Removes `file`; true when it was there. */
  async delete(file: string): Promise<boolean> {
    try {
      await Deno.remove(file);
      return true;
    } catch {
      return false;
    }
  }
}

/** The file bytes of `entry`. */
function encode(entry: CacheEntry): Uint8Array {
  const meta: FileMeta = {
    status: entry.status,
    fields: entry.fields.map(([n, v]) => [n, v]),
    stored: entry.stored,
    expires: entry.expires,
    vary: entry.vary.map(([n, v]) => [n, v]),
  };
  const metaBytes = encoder.encode(JSON.stringify(meta));
  const out = new Uint8Array(8 + metaBytes.byteLength + entry.body.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, metaBytes.byteLength);
  view.setUint32(4, 0);
  out.set(metaBytes, 8);
  out.set(entry.body, 8 + metaBytes.byteLength);
  return out;
}

/** The entry of a file's bytes, or undefined when they are not one. */
function decode(bytes: Uint8Array): CacheEntry | undefined {
  if (bytes.byteLength < 8) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const metaLength = view.getUint32(0);
  const second = view.getUint32(4);
  if (8 + metaLength + second > bytes.byteLength) return undefined;
  try {
    const meta = JSON.parse(decoder.decode(bytes.subarray(8, 8 + metaLength))) as FileMeta;
    if (
      typeof meta.status !== "number" || !Array.isArray(meta.fields) || typeof meta.stored !== "number" ||
      typeof meta.expires !== "number" || !Array.isArray(meta.vary)
    ) return undefined;
    const body = bytes.slice(8 + metaLength + second);
    return new CacheEntry(meta.status, meta.fields, body, meta.stored, meta.expires, meta.vary);
  } catch {
    return undefined;
  }
}
