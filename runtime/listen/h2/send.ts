/**
 * What a connection sends on its streams: header blocks (split into HEADERS and CONTINUATION frames as the client's
 * SETTINGS_MAX_FRAME_SIZE asks, HPACK-encoded for the connection) and DATA within the windows (flow.ts). Frames go
 * into the connection's output (writer.ts), which writes all a turn made at once.
 *
 * @module
 */
import { CONTINUATION, DATA, DEFAULT_MAX_FRAME, END_HEADERS, END_STREAM, HEADERS } from "./frames.ts";
import { HpackEncoder } from "./hpack.ts";
import type { Flow } from "./flow.ts";
import type { H2Stream } from "./stream.ts";
import type { FrameWriter } from "./writer.ts";

/** The interim answer to `expect: 100-continue`. */
const CONTINUE = [":status", "100"];

/** The sending side of a connection. */
export class Sender {
  /** The connection's HPACK encoder. */
  readonly enc = new HpackEncoder();
  /** The largest frame the client takes. */
  maxFrame = DEFAULT_MAX_FRAME;

  /**
   * @param out The connection's output.
   * @param flow Its windows.
   * @param ended Called once our END_STREAM went on a stream.
   */
  constructor(readonly out: FrameWriter, readonly flow: Flow, readonly ended: (s: H2Stream) => void) {}

  /** Whether producers should wait for the output to drain ({@linkcode drained}). */
  get full(): boolean {
    return this.out.full;
  }

  /** Settles once the output drained below its high mark. */
  drained(): Promise<void> {
    return this.out.drained();
  }

  /** Sends a header block (a response head, or trailers with `end`); `end` closes our side. */
  headers(s: H2Stream, fields: readonly string[], end: boolean): void {
    if (s.closed) return;
    s.headSent = true;
    this.#block(s, this.enc.encode(fields), end ? END_STREAM : 0);
    if (end) this.ended(s);
  }

  /** The interim `100` (`expect: 100-continue`), while no answer began. */
  continue100(s: H2Stream): void {
    if (!s.closed && !s.headSent) this.#block(s, this.enc.encode(CONTINUE), 0);
  }

  #block(s: H2Stream, block: Uint8Array, flags: number): void {
    const max = this.maxFrame;
    if (block.byteLength <= max) return this.out.frame(HEADERS, flags | END_HEADERS, s.id, block);
    this.out.frame(HEADERS, flags, s.id, block, 0, max);
    for (let off = max; off < block.byteLength; off += max) {
      const n = Math.min(max, block.byteLength - off);
      this.out.frame(CONTINUATION, off + n === block.byteLength ? END_HEADERS : 0, s.id, block, off, n);
    }
  }

  /**
   * Sends as much of `bytes` from `off` as the windows allow now, in frames the client takes; `end` sets END_STREAM
   * on the last one once all went. Returns the offset reached.
   */
  data(s: H2Stream, bytes: Uint8Array, off: number, end: boolean): number {
    if (s.closed) return off;
    const total = bytes.byteLength;
    if (off === total) {
      if (end) {
        this.out.frame(DATA, END_STREAM, s.id);
        this.ended(s);
      }
      return off;
    }
    while (off < total) {
      const n = this.flow.take(s, total - off, this.maxFrame);
      if (n === 0) break;
      const last = end && off + n === total;
      this.out.frame(DATA, last ? END_STREAM : 0, s.id, bytes, off, n);
      off += n;
      if (last) this.ended(s);
    }
    return off;
  }

  /** Settles once `s` may send again (a window opened) or it closed; the sweep bounds the wait. */
  wait(s: H2Stream): Promise<void> {
    return this.flow.wait(s);
  }
}
