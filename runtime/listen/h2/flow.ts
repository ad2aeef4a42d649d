/**
 * HTTP/2 flow control of one connection (RFC 9113 §5.2, §6.9), both ways. Receiving: the client may send no more than
 * the windows we gave; what the handler reads is given back with WINDOW_UPDATE once half a window was read, so what
 * waits in a stream is bounded by its window. Sending: DATA takes from the connection's and the stream's windows and
 * waits while either is closed, woken by the client's WINDOW_UPDATE or SETTINGS.
 *
 * @module
 */
import {
  ConnectionError,
  DEFAULT_WINDOW,
  FLOW_CONTROL_ERROR,
  MAX_WINDOW,
  PROTOCOL_ERROR,
  StreamError,
  uint32Payload,
  WINDOW_UPDATE,
} from "./frames.ts";
import type { H2Stream } from "./stream.ts";
import type { FrameWriter } from "./writer.ts";

/** The windows of a connection and its streams. */
export class Flow {
  /** What we may still send on the connection. */
  sendWindow = DEFAULT_WINDOW;
  /** What the client may still send on the connection. */
  recvWindow = DEFAULT_WINDOW;
  /** The client's SETTINGS_INITIAL_WINDOW_SIZE: a new stream's send window. */
  peerInitial = DEFAULT_WINDOW;
  #recvUnacked = 0;
  /** Streams waiting for the connection window. */
  readonly #blocked = new Set<H2Stream>();

  /**
   * @param out The connection's output (WINDOW_UPDATE frames).
   * @param connectionWindow The connection window we give (`h2_initial_connection_window_size`).
   * @param streamWindow A stream's window we give (`h2_initial_window_size`).
   */
  constructor(readonly out: FrameWriter, readonly connectionWindow: number, readonly streamWindow: number) {}

  /** Opens the connection window to its configured size (the protocol starts it at 65535). */
  start(): void {
    if (this.connectionWindow <= DEFAULT_WINDOW) return;
    const more = this.connectionWindow - DEFAULT_WINDOW;
    this.out.frame(WINDOW_UPDATE, 0, 0, uint32Payload(more));
    this.recvWindow += more;
  }

  /** A DATA frame of `len` bytes (padding included) came on the connection. */
  receive(len: number): void {
    if (len > this.recvWindow) throw new ConnectionError(FLOW_CONTROL_ERROR, "DATA beyond the connection window");
    this.recvWindow -= len;
  }

  /** Then on stream `s`: the stream's window too (its bytes are given back to the connection when it fails). */
  receiveOn(s: H2Stream, len: number): void {
    if (len > s.recvWindow) {
      this.credit(len);
      throw new StreamError(s.id, FLOW_CONTROL_ERROR, "DATA beyond the stream window");
    }
    s.recvWindow -= len;
  }

  /** Gives `n` bytes of the connection's window back (read, dropped or padding bytes). */
  credit(n: number): void {
    this.#recvUnacked += n;
    this.recvWindow += n;
    if (this.#recvUnacked >= this.connectionWindow / 2 || this.#recvUnacked >= DEFAULT_WINDOW / 2) {
      this.out.frame(WINDOW_UPDATE, 0, 0, uint32Payload(this.#recvUnacked));
      this.#recvUnacked = 0;
    }
  }

  /** `n` bytes of `s` were read: both windows open again once half of them was read. */
  consumed(s: H2Stream, n: number): void {
    this.credit(n);
    if (s.remoteEnded || s.closed) return;
    s.unacked += n;
    if (s.unacked >= this.streamWindow / 2) {
      this.out.frame(WINDOW_UPDATE, 0, s.id, uint32Payload(s.unacked));
      s.recvWindow += s.unacked;
      s.unacked = 0;
    }
  }

  /** The client's WINDOW_UPDATE on the connection. */
  openConnection(inc: number): void {
    if (inc === 0) throw new ConnectionError(PROTOCOL_ERROR, "WINDOW_UPDATE of 0");
    this.sendWindow += inc;
    if (this.sendWindow > MAX_WINDOW) throw new ConnectionError(FLOW_CONTROL_ERROR, "the window overflows");
    if (this.#blocked.size === 0) return;
    const blocked = [...this.#blocked];
    this.#blocked.clear();
    for (const s of blocked) wake(s);
  }

  /** The client's WINDOW_UPDATE on stream `s`. */
  openStream(s: H2Stream, inc: number): void {
    if (inc === 0) throw new StreamError(s.id, PROTOCOL_ERROR, "WINDOW_UPDATE of 0");
    s.sendWindow += inc;
    if (s.sendWindow > MAX_WINDOW) throw new StreamError(s.id, FLOW_CONTROL_ERROR, "the stream window overflows");
    wake(s);
  }

  /** The client's SETTINGS_INITIAL_WINDOW_SIZE changed to `v`: every open stream's window moves by the difference. */
  initialWindow(v: number, streams: Iterable<H2Stream>): void {
    if (v > MAX_WINDOW) throw new ConnectionError(FLOW_CONTROL_ERROR, "SETTINGS_INITIAL_WINDOW_SIZE too large");
    const delta = v - this.peerInitial;
    this.peerInitial = v;
    for (const s of streams) {
      s.sendWindow += delta;
      if (s.sendWindow > MAX_WINDOW) throw new ConnectionError(FLOW_CONTROL_ERROR, "a stream window overflows");
      if (delta > 0) wake(s);
    }
  }

  /** Takes up to `want` bytes (at most `max`) from both windows of `s`; returns how many (0: wait). */
  take(s: H2Stream, want: number, max: number): number {
    const n = Math.min(want, this.sendWindow, s.sendWindow, max);
    if (n <= 0) return 0;
    this.sendWindow -= n;
    s.sendWindow -= n;
    return n;
  }

  /** Settles once `s` may send again (a window opened) or it closed; the sweep bounds the wait. */
  wait(s: H2Stream): Promise<void> {
    if (s.closed) return Promise.resolve();
    s.blockedSince = Date.now();
    if (this.sendWindow <= 0) this.#blocked.add(s);
    return new Promise<void>((resolve) => {
      s.windowWake = () => {
        s.blockedSince = -1;
        resolve();
      };
    });
  }

  /** `s` closed: what waits on it goes on (and finds it closed). */
  forget(s: H2Stream): void {
    this.#blocked.delete(s);
    wake(s);
  }
}

function wake(s: H2Stream): void {
  const w = s.windowWake;
  if (w === undefined) return;
  s.windowWake = undefined;
  w();
}
