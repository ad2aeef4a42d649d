/**
 * Limits a client must keep to on one connection, past which it is cut with ENHANCE_YOUR_CALM: streams reset (by the
 * client, or by us for its faults, refused ones included) faster than {@linkcode RESETS_PER_SECOND} a second (rapid
 * reset, CVE-2023-44487), and more than {@linkcode MAX_ACKS} acknowledgements (SETTINGS, PING) waiting to be written
 * (a flood from a client that does not read). The CONTINUATION flood is bounded in header_blocks.ts.
 *
 * @module
 */
import { ConnectionError, ENHANCE_YOUR_CALM } from "./frames.ts";
import type { FrameWriter } from "./writer.ts";

/** Client resets a second past which the connection is cut (or twice the stream limit, when more, up to MAX_RESETS). */
export const RESETS_PER_SECOND = 200;
/** The most resets a second any stream limit allows: a huge `h2_max_concurrent_streams` does not turn the check off. */
export const MAX_RESETS_PER_SECOND = 10_000;
/** Acknowledgements waiting to be written past which the connection is cut. */
export const MAX_ACKS = 1000;

/** The counts of one connection. */
export class Defences {
  #resets = 0;
  #since = 0;
  readonly #maxResets: number;

  /** @param maxConcurrentStreams The connection's stream limit. */
  constructor(maxConcurrentStreams: number) {
    this.#maxResets = Math.max(RESETS_PER_SECOND, Math.min(2 * maxConcurrentStreams, MAX_RESETS_PER_SECOND));
  }

  /** A stream was reset by the client or for its fault. */
  reset(): void {
    const now = Date.now();
    if (now - this.#since > 1000) {
      this.#since = now;
      this.#resets = 0;
    }
    if (++this.#resets > this.#maxResets) {
      throw new ConnectionError(ENHANCE_YOUR_CALM, "too many streams reset (rapid reset)");
    }
  }

  /** One more acknowledgement was put in `out`. */
  ack(out: FrameWriter): void {
    out.acks++;
    if (out.acksWaiting > MAX_ACKS) {
      throw new ConnectionError(ENHANCE_YOUR_CALM, "too many acknowledgements waiting (SETTINGS or PING flood)");
    }
  }
}
