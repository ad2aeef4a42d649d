/**
 * Chunks of a body joined into one buffer.
 *
 * @module
 */

/**
 * The chunks one after another in a new buffer of `size` bytes (their total length).
 *
 * @example Usage
 * ```ts
 * import { joinChunks } from "./join_chunks.ts";
 * const joined = joinChunks([new Uint8Array([1, 2]), new Uint8Array([3])], 3);
 * if (joined.join() !== "1,2,3") throw new Error();
 * ```
 */
export function joinChunks(chunks: readonly Uint8Array[], size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
