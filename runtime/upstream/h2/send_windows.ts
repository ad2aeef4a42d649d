/**
 * The send side of an h2 upstream connection's flow control: the backend's windows (its initial stream window, the
 * connection window it gives us), the largest frame it takes, DATA sent within all three, and the streams waiting for
 * the connection window. connection.ts holds one.
 *
 * @module
 */

import * as F from "../../listen/h2/frames.ts";
import type { FrameWriter } from "../../listen/h2/writer.ts";
import type { StreamHandler } from "./stream_handler.ts";

/** What the backend lets us send. */
export class SendWindows {
  /** The largest frame the backend takes. */
  maxFrame = F.DEFAULT_MAX_FRAME;
  /** The backend's initial stream window. */
  peerInitialWindow = F.DEFAULT_WINDOW;
  /** What we may still send on the connection. */
  #connSend = F.DEFAULT_WINDOW;
  /** Streams waiting for the connection window. */
  #blocked = new Set<StreamHandler>();

  /**
   * The backend's WINDOW_UPDATE on the connection: the streams waiting for it wake.
   *
   * @throws {F.ConnectionError} When the window overflows.
   */
  connectionUpdate(inc: number): void {
    this.#connSend += inc;
    if (this.#connSend > F.MAX_WINDOW) {
      throw new F.ConnectionError(F.FLOW_CONTROL_ERROR, "connection window overflow");
    }
    const blocked = this.#blocked;
    this.#blocked = new Set();
    for (const s of blocked) s.wake?.();
  }

  /**
   * The backend's SETTINGS_INITIAL_WINDOW_SIZE `v`: every open stream's window moves by the change.
   *
   * @throws {F.ConnectionError} When `v` or a stream window overflows.
   */
  initialWindow(v: number, streams: Iterable<StreamHandler>): void {
    if (v > F.MAX_WINDOW) throw new F.ConnectionError(F.FLOW_CONTROL_ERROR, "SETTINGS_INITIAL_WINDOW_SIZE too large");
    const delta = v - this.peerInitialWindow;
    this.peerInitialWindow = v;
    for (const s of streams) {
      s.sendWindow += delta;
      // RFC 9113 §6.9.2, as runtime/listen/h2/flow.ts checks it.
      if (s.sendWindow > F.MAX_WINDOW) throw new F.ConnectionError(F.FLOW_CONTROL_ERROR, "a stream window overflows");
      if (delta > 0) s.wake?.();
    }
  }

  /**
   * Sends on `out` as much of `bytes` from `off` as the windows allow; `end` sets END_STREAM once all went. Returns
   * the offset reached (below the length: wait for the stream's `wake`).
   */
  send(out: FrameWriter, s: StreamHandler, bytes: Uint8Array, off: number, end: boolean): number {
    const total = bytes.byteLength;
    if (off === total) {
      if (end) out.frame(F.DATA, F.END_STREAM, s.id);
      return off;
    }
    while (off < total) {
      const n = Math.min(total - off, s.sendWindow, this.#connSend, this.maxFrame);
      if (n <= 0) {
        if (this.#connSend <= 0) this.#blocked.add(s);
        break;
      }
      s.sendWindow -= n;
      this.#connSend -= n;
      const last = end && off + n === total;
      out.frame(F.DATA, last ? F.END_STREAM : 0, s.id, bytes, off, n);
      off += n;
    }
    return off;
  }

  /** The stream ended: it waits no more. */
  forget(s: StreamHandler): void {
    this.#blocked.delete(s);
  }

  /** The connection ended: no stream waits. */
  clear(): void {
    this.#blocked.clear();
  }
}
