/**
 * A bounded queue of log lines written in batches, off the request path:
 * {@linkcode LineWriter.write} only pushes a string (or drops it when the
 * queue is full, counting the drop); the batch is written later by one
 * asynchronous write, so a slow disk or a flood never slows requests down.
 *
 * @module
 */

/** Where batches go: a writer of bytes, e.g. a file or stderr. */
export interface LineTarget {
  /** Writes a whole batch (newline-terminated lines), `now` being the batch time. */
  write(bytes: Uint8Array, now: number): Promise<void>;
  /** Frees the target. */
  close(): void;
}

/** Options of {@linkcode LineWriter}. */
export interface LineWriterOptions {
  /** Lines that may wait; more are dropped (Pingap's `channel_buffer`). */
  readonly capacity: number;
  /** Clock of the batches (tests move it). */
  readonly now?: () => number;
  /** A batch failed to be written. */
  readonly onError?: (e: unknown) => void;
}

/** Writes `bytes` fully to `w`. */
export async function writeAll(w: { write(p: Uint8Array): Promise<number> }, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await w.write(bytes.subarray(off));
}

const encoder = new TextEncoder();

/** A queue of lines and the loop that writes it. */
export class LineWriter {
  readonly #target: LineTarget;
  readonly #capacity: number;
  readonly #now: () => number;
  readonly #onError: ((e: unknown) => void) | undefined;
  #queue: string[] = [];
  #running: Promise<void> | undefined;
  /** Lines dropped because the queue was full, since creation. */
  dropped = 0;

  /** A writer to `target`. */
  constructor(target: LineTarget, options: LineWriterOptions) {
    this.#target = target;
    this.#capacity = Math.max(1, options.capacity);
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError;
  }

  /**
   * Queues a line (no newline); false when the queue was full and the line
   * was dropped.
   */
  write(line: string): boolean {
    if (this.#queue.length >= this.#capacity) {
      this.dropped++;
      return false;
    }
    this.#queue.push(line);
    this.#running ??= this.#drain();
    return true;
  }

  async #drain(): Promise<void> {
    // Let the current task queue more lines first: one write per burst.
    await Promise.resolve();
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue;
        this.#queue = [];
        try {
          await this.#target.write(encoder.encode(`${batch.join("\n")}\n`), this.#now());
        } catch (e) {
          this.#onError?.(e);
        }
      }
    } finally {
      this.#running = undefined;
    }
  }

  /** Resolves once every queued line was written. */
  async flush(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Writes what is queued, then closes the target. */
  async close(): Promise<void> {
    await this.flush();
    this.#target.close();
  }
}
