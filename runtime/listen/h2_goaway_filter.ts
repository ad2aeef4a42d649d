/**
 * Drops the client's GOAWAY frames before `node:http2` reads them. In Deno 2.9.6 nghttp2 can abort the process while
 * it handles a GOAWAY (denoland/deno#36788: `find_stream_on_goaway_func` asserts, or a segfault), which h2load's
 * GOAWAY at its end triggered in 3 of 4 runs of 5,000 requests here (h2c and TLS; a bare `node:http2` server too). A client's GOAWAY only says it opens no more streams; the
 * session then ends when the client closes the connection, as it does next.
 *
 * @module
 */

/** The frame type of GOAWAY (RFC 9113 §6.8). */
const GOAWAY = 7;
/** Length of the client connection preface. */
const PREFACE_SIZE = 24;
/** Length of a frame header. */
const HEADER_SIZE = 9;

/** Removes GOAWAY frames from a client's HTTP/2 byte stream, chunk by chunk (frames may span chunks). */
export class GoawayFilter {
  /** Preface bytes still to pass. */
  #preface = PREFACE_SIZE;
  /** Bytes of a frame header read so far (while fewer than {@linkcode HEADER_SIZE}). */
  readonly #header = new Uint8Array(HEADER_SIZE);
  #headerLength = 0;
  /** Payload bytes of the current frame still to pass (or to drop). */
  #payload = 0;
  #dropping = false;

  /** What of `chunk` goes on (`chunk` itself when nothing is dropped and no header was split). */
  filter(chunk: Uint8Array): Uint8Array {
    const out: Uint8Array[] = [];
    let i = 0;
    let whole = true;
    const n = chunk.byteLength;
    while (i < n) {
      if (this.#preface > 0) {
        const k = Math.min(this.#preface, n - i);
        out.push(chunk.subarray(i, i + k));
        this.#preface -= k;
        i += k;
        continue;
      }
      if (this.#payload > 0) {
        const k = Math.min(this.#payload, n - i);
        if (this.#dropping) whole = false;
        else out.push(chunk.subarray(i, i + k));
        this.#payload -= k;
        i += k;
        continue;
      }
      // A frame header, perhaps split across chunks.
      const k = Math.min(HEADER_SIZE - this.#headerLength, n - i);
      this.#header.set(chunk.subarray(i, i + k), this.#headerLength);
      const startedHere = this.#headerLength === 0;
      this.#headerLength += k;
      i += k;
      if (this.#headerLength < HEADER_SIZE) {
        whole = false;
        break;
      }
      this.#headerLength = 0;
      const h = this.#header;
      this.#payload = (h[0]! << 16) | (h[1]! << 8) | h[2]!;
      this.#dropping = h[3] === GOAWAY;
      if (this.#dropping) whole = false;
      else if (startedHere) out.push(chunk.subarray(i - HEADER_SIZE, i));
      else {
        whole = false;
        out.push(h.slice());
      }
    }
    if (whole) return chunk;
    if (out.length === 1) return out[0]!;
    let size = 0;
    for (const b of out) size += b.byteLength;
    const joined = new Uint8Array(size);
    let at = 0;
    for (const b of out) {
      joined.set(b, at);
      at += b.byteLength;
    }
    return joined;
  }
}
