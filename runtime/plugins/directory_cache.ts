/**
 * What the `directory` plugin keeps of small files between requests, as nginx's `open_file_cache` does: the file a
 * request path resolved to, its size, time and response fields, and its bytes. An entry is trusted for
 * {@linkcode FileCache.validMs} (1 s) after it was last checked against the file system; then the next request for it
 * stats the file again and keeps the bytes only when size and time are unchanged. Files over
 * {@linkcode FileCache.maxFile} are never kept; past {@linkcode FileCache.maxBytes} in all, the least recently used go.
 *
 * @module
 */

import type { StaticAnswer } from "../http/static_answer.ts";

/** One kept file. */
export interface CachedFile {
  /** The file system path the request path led to (after an index file was looked up). */
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  /** Response fields that depend on the file only (type, validators, cache control, extras). */
  readonly fields: readonly (readonly [string, string])[];
  readonly etag: string | undefined;
  /** The whole file. */
  readonly body: Uint8Array<ArrayBuffer>;
  /** The plain `200` answer (no range, no validators asked), made once: the front end writes it as bytes. */
  readonly answer?: StaticAnswer;
  /** When it was last compared with the file system (`Date.now()`). */
  checked: number;
}

/** A bounded, least-recently-used store of small files by request path. */
export class FileCache {
  readonly #entries = new Map<string, CachedFile>();
  #bytes = 0;

  /**
   * @param maxBytes Bytes kept in all.
   * @param maxFile The largest file kept.
   * @param validMs How long an entry is trusted without a look at the file system.
   */
  constructor(
    readonly maxBytes: number = 64 * 1024 * 1024,
    readonly maxFile: number = 1024 * 1024,
    readonly validMs: number = 1000,
  ) {}

  /** The entry of `key` whatever its age (the caller checks {@linkcode fresh}), marked as just used. */
  get(key: string): CachedFile | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  /** Whether `entry` may be used without a look at the file system at `now`. */
  fresh(entry: CachedFile, now: number): boolean {
    return now - entry.checked < this.validMs;
  }

  /** Keeps `entry` under `key` (when small enough), dropping the least recently used past the budget. */
  set(key: string, entry: CachedFile): void {
    this.delete(key);
    if (entry.body.byteLength > this.maxFile || entry.body.byteLength > this.maxBytes) return;
    this.#entries.set(key, entry);
    this.#bytes += entry.body.byteLength;
    for (const [k, e] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(k);
      this.#bytes -= e.body.byteLength;
    }
  }

  /** Forgets `key`. */
  delete(key: string): void {
    const old = this.#entries.get(key);
    if (old === undefined) return;
    this.#entries.delete(key);
    this.#bytes -= old.body.byteLength;
  }

  /** Bytes kept now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Entries kept now. */
  get size(): number {
    return this.#entries.size;
  }
}
