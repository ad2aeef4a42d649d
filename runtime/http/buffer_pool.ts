/**
 * Buffers kept for reuse, in a few fixed sizes. A new `ArrayBuffer` costs about 2 µs plus its zeroing, and its external
 * memory sets off full garbage collections under load; one given back and taken again costs neither. Whoever takes a
 * buffer gives it back only once nothing reads or writes it any more.
 *
 * @module
 */

/** Buffers of fixed sizes, at most `keep` of each size kept. */
export class BufferPool {
  readonly #sizes: readonly number[];
  readonly #free: Uint8Array<ArrayBuffer>[][];
  readonly #keep: number;

  /**
   * @param sizes The sizes, smallest first.
   * @param keep Buffers kept of each size at most.
   */
  constructor(sizes: readonly number[], keep: number) {
    this.#sizes = sizes;
    this.#free = sizes.map(() => []);
    this.#keep = keep;
  }

  /**
   * A whole buffer of the smallest size that holds `n` bytes (a kept one, or a new one); undefined when `n` is larger
   * than every size.
   */
  take(n: number): Uint8Array<ArrayBuffer> | undefined {
    const sizes = this.#sizes;
    for (let i = 0; i < sizes.length; i++) {
      if (n <= sizes[i]!) return this.#free[i]!.pop() ?? new Uint8Array(sizes[i]!);
    }
    return undefined;
  }

  /** Keeps the buffer `view` is a view of, when it has one of the sizes and there is room. */
  give(view: Uint8Array<ArrayBuffer>): void {
    const buffer = view.buffer;
    const i = this.#sizes.indexOf(buffer.byteLength);
    if (i < 0) return;
    const free = this.#free[i]!;
    if (free.length >= this.#keep) return;
    free.push(view.byteOffset === 0 && view.byteLength === buffer.byteLength ? view : new Uint8Array(buffer));
  }
}
