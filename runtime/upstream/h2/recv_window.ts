/**
 * Our receive window on an h2 upstream connection: what the backend may still send on the connection, and the bytes
 * read and not yet given back (one WINDOW_UPDATE once half the window was read; the backend stalls only on a whole
 * one). DATA beyond it ends the connection (RFC 9113 §6.9). connection.ts holds one.
 *
 * @module
 */

import * as F from "../../listen/h2/frames.ts";
import type { FrameWriter } from "../../listen/h2/writer.ts";

/** Our connection window and its credit. */
export class RecvWindow {
  /** Our connection window, bytes (at least the HTTP/2 default). */
  readonly size: number;
  /** What the backend may still send on the connection. */
  #left: number;
  /** Bytes read and not yet given back. */
  #unacked = 0;

  constructor(connectionWindow: number | undefined) {
    this.size = Math.max(F.DEFAULT_WINDOW, connectionWindow ?? F.DEFAULT_WINDOW);
    // The WINDOW_UPDATE that opens it goes out first (open), before any stream.
    this.#left = this.size;
  }

  /** Writes the WINDOW_UPDATE that opens the window beyond the default, if it is larger. */
  open(out: FrameWriter): void {
    if (this.size > F.DEFAULT_WINDOW) out.frame(F.WINDOW_UPDATE, 0, 0, F.uint32Payload(this.size - F.DEFAULT_WINDOW));
  }

  /**
   * `len` bytes of DATA came.
   *
   * @throws {F.ConnectionError} When they go beyond the window.
   */
  take(len: number): void {
    if (len > this.#left) throw new F.ConnectionError(F.FLOW_CONTROL_ERROR, "DATA beyond the connection window");
    this.#left -= len;
  }

  /** Gives `n` bytes back to the window (a WINDOW_UPDATE on `out` once half of it was read). */
  credit(n: number, out: FrameWriter | undefined): void {
    this.#left += n;
    this.#unacked += n;
    if (this.#unacked >= this.size >>> 1) {
      out?.frame(F.WINDOW_UPDATE, 0, 0, F.uint32Payload(this.#unacked));
      this.#unacked = 0;
    }
  }
}
