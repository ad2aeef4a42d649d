/**
 * A raw HTTP/2 backend for the h2 client's tests: one accepted connection read frame by frame (after the client's
 * preface), frames written by hand, header blocks as HPACK literals (runtime/listen/h2/_raw_client.ts).
 *
 * @module
 */
import { ACK, frame, FRAME_HEADER, GOAWAY, PREFACE, readUint32, SETTINGS } from "../../listen/h2/frames.ts";
import type { RawFrame } from "../../listen/h2/_raw_client.ts";

/** One backend connection. */
export class RawPeer {
  #buf = new Uint8Array(0);

  constructor(readonly conn: Deno.TcpConn) {}

  /** Reads the client's preface and sends our (empty) SETTINGS. */
  async start(): Promise<void> {
    while (this.#buf.byteLength < PREFACE.byteLength) {
      if (!await this.#fill()) throw new Error("no preface");
    }
    this.#buf = this.#buf.slice(PREFACE.byteLength);
    await this.send(frame(SETTINGS, 0, 0));
  }

  /** Writes the bytes given (all of them). */
  async send(...parts: Uint8Array[]): Promise<void> {
    for (const p of parts) {
      let w = 0;
      while (w < p.byteLength) w += await this.conn.write(p.subarray(w));
    }
  }

  /** The next frame (SETTINGS acknowledged), or null at the end. */
  async next(): Promise<RawFrame | null> {
    for (;;) {
      const b = this.#buf;
      if (b.byteLength >= FRAME_HEADER) {
        const len = (b[0]! << 16) | (b[1]! << 8) | b[2]!;
        if (b.byteLength >= FRAME_HEADER + len) {
          const f = { type: b[3]!, flags: b[4]!, stream: readUint32(b, 5) & 0x7fffffff, payload: b.slice(9, 9 + len) };
          this.#buf = b.slice(FRAME_HEADER + len);
          if (f.type === SETTINGS && (f.flags & ACK) === 0) await this.send(frame(SETTINGS, ACK, 0)).catch(() => {});
          return f;
        }
      }
      if (!await this.#fill()) return null;
    }
  }

  /** Frames until one `stop` accepts (returned) or the end (null). */
  async until(stop: (f: RawFrame) => boolean): Promise<RawFrame | null> {
    for (;;) {
      const f = await this.next();
      if (f === null || stop(f)) return f;
    }
  }

  /** Frames until the client's GOAWAY: its code, or -1 when the connection ended without one. */
  async goawayCode(): Promise<number> {
    const g = await this.until((f) => f.type === GOAWAY);
    return g === null ? -1 : readUint32(g.payload, 4);
  }

  async #fill(): Promise<boolean> {
    const chunk = new Uint8Array(65536);
    let n: number | null;
    try {
      n = await this.conn.read(chunk);
    } catch {
      return false;
    }
    if (n === null) return false;
    const next = new Uint8Array(this.#buf.byteLength + n);
    next.set(this.#buf);
    next.set(chunk.subarray(0, n), this.#buf.byteLength);
    this.#buf = next;
    return true;
  }
}
