/**
 * Reading a body whole, up to a bound: for the few places that must see all of one (a plugin signing or relaying an
 * answer, the admin API reading a write) and must never hold more than they allow.
 *
 * @module
 */
import type { HttpResponse } from "./message.ts";
import { joinChunks } from "./join_chunks.ts";

/**
 * The whole of `body`, or undefined once it passes `max` bytes (the rest is cancelled). A `signal` that aborts ends
 * a read that waits (the result is then an error).
 *
 * @example Usage
 * ```ts
 * import { readCapped } from "./read_capped.ts";
 * const bytes = await readCapped(new Response("hello").body, 10);
 * if (bytes?.byteLength !== 5) throw new Error();
 * if ((await readCapped(new Response("hello").body, 4)) !== undefined) throw new Error();
 * ```
 *
 * @param body The body, or null for none (an empty result).
 * @param max The most bytes taken.
 * @param signal Ends the read.
 * @returns The bytes, or undefined past `max`.
 */
export async function readCapped(
  body: ReadableStream<Uint8Array> | null,
  max: number,
  signal?: AbortSignal,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  // An abort cancels the reader, which settles a read that waits as done.
  const stop = () => reader.cancel().catch(() => {});
  signal?.addEventListener("abort", stop, { once: true });
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (signal?.aborted) throw new Error("aborted while reading a body");
      if (done) break;
      size += value.byteLength;
      if (size > max) {
        await reader.cancel().catch(() => {});
        return undefined;
      }
      chunks.push(value.slice());
    }
  } finally {
    signal?.removeEventListener("abort", stop);
  }
  return joinChunks(chunks, size);
}

/**
 * A message's whole body as bytes (from `whole` when it came whole), or undefined past `max`; see
 * {@linkcode readCapped}.
 *
 * @param res The message.
 * @param max The most bytes taken.
 * @param signal Ends the read.
 * @returns The bytes, or undefined past `max`.
 */
export function messageBytes(
  res: HttpResponse,
  max: number,
  signal?: AbortSignal,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const whole = res.whole;
  if (whole === undefined) return readCapped(res.body, max, signal);
  const bytes = typeof whole === "string" ? new TextEncoder().encode(whole) : whole;
  return Promise.resolve(bytes.byteLength > max ? undefined : bytes);
}
