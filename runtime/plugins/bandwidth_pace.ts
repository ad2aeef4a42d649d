/**
 * The pacing transform of `bandwidth_limit`: bytes out at a rate, after an unpaced prefix.
 *
 * @module
 */

/** The largest piece sent at once: a tenth of a second's bytes, at least 512 bytes and at most 64 KiB. */
function sliceSize(rate: number): number {
  return Math.max(512, Math.min(65536, Math.floor(rate / 10)));
}

const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));

/**
 * A transform that lets the first piece and the first `after` bytes through at once, then holds each later piece
 * until (bytes − `after`) / `rate` seconds have passed since pacing began. A piece that comes late (slow upstream or
 * client) moves the clock to now: unused time is not saved up for a burst. Chunks are cut into pieces of a tenth of a
 * second's bytes, so the pace is smooth whatever the chunk sizes.
 *
 * @param rate Bytes a second (more than 0).
 * @param after Bytes sent unpaced first.
 * @returns The transform.
 */
export function paceStream(rate: number, after: number): TransformStream<Uint8Array, Uint8Array> {
  const slice = sliceSize(rate);
  let sent = 0;
  let first = true;
  /** When the bytes charged so far are paid for (performance.now() ms). */
  let due = 0;
  return new TransformStream({
    async transform(chunk, controller) {
      for (let at = 0; at < chunk.length;) {
        // The unpaced prefix goes in one piece.
        const free = Math.max(0, after - sent);
        const n = free > 0 ? Math.min(free, chunk.length - at) : Math.min(slice, chunk.length - at);
        const piece = chunk.subarray(at, at + n);
        at += n;
        const charged = Math.max(0, sent + n - Math.max(after, sent));
        sent += n;
        if (charged > 0) {
          const now = performance.now();
          due = Math.max(due, now) + (charged * 1000) / rate;
          if (!first && due > now) await sleep(due - now);
        }
        first = false;
        controller.enqueue(piece);
      }
    },
  });
}
