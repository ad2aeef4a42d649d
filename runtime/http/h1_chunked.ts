/**
 * HTTP/1.1 chunked transfer coding, both ways, for the server side (request bodies) and the upstream client (response
 * bodies and request bodies sent on): a push decoder over a byte window and the encoder of a chunk and of the last
 * chunk.
 *
 * The decoder has two levels. Strict (requests from clients, hyper's rules; bad framing is answered 400): a hex size
 * of at most 15 digits, then spaces (not tabs), extensions without control bytes (4000 bytes a chunk, 16 KiB in all),
 * CRLF after the size line and after the data, trailer lines without control bytes (16 KiB in all with their line
 * ends), a final CRLF. Lenient (responses from upstreams, as nginx reads them): a line may end in a bare LF, spaces and
 * tabs may follow the size, an extension is anything up to the line end, a size line or a trailer line may be 16 KiB
 * long each. On both, a size past 2^49 is refused (the count would lose precision).
 *
 * @module
 */

/** More bytes are needed: what is before `pos` was consumed, the rest must be offered again with more. */
export const CHUNK_MORE = 0;
/** Body data: `buf[from..to)`; `pos` is `to`. */
export const CHUNK_DATA = 1;
/** A trailer line without its line end: `buf[from..to)`. */
export const CHUNK_TRAILER = 2;
/** The body ended: `pos` is the index after its last byte. */
export const CHUNK_END = 3;
/** The framing is bad: `reason` says why. */
export const CHUNK_ERROR = 4;

/** What {@linkcode ChunkedDecoder.next} found. */
export type ChunkEvent =
  | typeof CHUNK_MORE
  | typeof CHUNK_DATA
  | typeof CHUNK_TRAILER
  | typeof CHUNK_END
  | typeof CHUNK_ERROR;

/** Extension bytes a body may carry in all, and trailer bytes (strict; hyper's limit for extensions). */
export const CHUNK_TOTAL_LIMIT = 16 * 1024;
/**
 * Extension bytes one chunk may carry (strict): hyper fails the body (and closes without an answer) past about 4 KiB
 * on one chunk's line, so such a body is answered 400 here first.
 */
export const CHUNK_EXT_LIMIT = 4000;
/** The longest size line or trailer line, without its LF (lenient). */
export const CHUNK_LINE_LIMIT = 16 * 1024;

const MAX_SIZE = Number.MAX_SAFE_INTEGER / 16;

const S_SIZE = 0;
const S_SIZE_WS = 1;
const S_EXT = 2;
const S_SIZE_LF = 3;
const S_DATA = 4;
const S_DATA_CR = 5;
const S_DATA_LF = 6;
const S_TRAILER = 7;
const S_DONE = 8;

/** Hex digit value, or -1. */
function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 32;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/** A control byte a strict line may not hold (tab aside). */
function ctl(c: number): boolean {
  return (c < 32 && c !== 9) || c === 127;
}

/**
 * Decodes one chunked body, fed as it comes: each call of {@linkcode next} reports one thing found in a window of a
 * buffer. Data and trailer lines are reported as ranges of that buffer (nothing is copied); a trailer line is reported
 * only once it is whole in the window, so the caller keeps the bytes from `pos` on.
 */
export class ChunkedDecoder {
  /** The index after the bytes consumed by the last call. */
  pos = 0;
  /** Start of the data or trailer line reported. */
  from = 0;
  /** End of the data or trailer line reported. */
  to = 0;
  /** Why the framing is bad ({@linkcode CHUNK_ERROR}). */
  reason = "";
  readonly #strict: boolean;
  #s = S_SIZE;
  /** Data bytes left of the current chunk, or the size being read. */
  #size = 0;
  #digits = 0;
  /** Bytes of the current size line (lenient limit). */
  #line = 0;
  #ext = 0;
  #chunkExt = 0;
  #trailer = 0;

  /**
   * Creates a decoder.
   *
   * @param strict Hyper's rules (a request from a client); else nginx's leniency (a response from an upstream).
   */
  constructor(strict: boolean) {
    this.#strict = strict;
  }

  /** The body ended. */
  get done(): boolean {
    return this.#s === S_DONE;
  }

  /**
   * Decodes from `buf[start..end)` up to the next thing to report.
   *
   * @returns What was found; `pos`, `from`, `to` and `reason` say where and why.
   */
  next(buf: Uint8Array, start: number, end: number): ChunkEvent {
    const strict = this.#strict;
    let i = start;
    while (i < end) {
      const c = buf[i]!;
      switch (this.#s) {
        case S_SIZE: {
          const d = hex(c);
          if (d >= 0) {
            if (++this.#digits > 15 && strict) return this.#fail(i, "chunk size has more than 15 hex digits");
            this.#size = this.#size * 16 + d;
            if (this.#size > MAX_SIZE) return this.#fail(i, "chunk size too large");
          } else if (this.#digits === 0) return this.#fail(i, "invalid chunk size line");
          else if (c === 32 || (c === 9 && !strict)) this.#s = S_SIZE_WS;
          else if (c === 59) this.#s = S_EXT;
          else if (c === 13) this.#s = S_SIZE_LF;
          else if (c === 10 && !strict) {
            this.#sizeLineEnd();
            i++;
            continue;
          } else return this.#fail(i, "invalid chunk size line");
          break;
        }
        case S_SIZE_WS:
          if (c === 59) this.#s = S_EXT;
          else if (c === 13) this.#s = S_SIZE_LF;
          else if (c === 10 && !strict) {
            this.#sizeLineEnd();
            i++;
            continue;
          } else if (c !== 32 && (c !== 9 || strict)) return this.#fail(i, "invalid chunk size line");
          break;
        case S_EXT:
          if (strict) {
            if (c === 13) this.#s = S_SIZE_LF;
            else if (ctl(c)) return this.#fail(i, "control byte in chunk extension");
            else if (++this.#ext > CHUNK_TOTAL_LIMIT || ++this.#chunkExt > CHUNK_EXT_LIMIT) {
              return this.#fail(i, "chunk extensions too long");
            }
          } else if (c === 10) {
            this.#sizeLineEnd();
            i++;
            continue;
          }
          break;
        case S_SIZE_LF:
          if (c !== 10) return this.#fail(i, "chunk size line without LF after CR");
          this.#sizeLineEnd();
          i++;
          continue;
        case S_DATA: {
          const left = this.#size;
          const n = left < end - i ? left : end - i;
          this.#size = left - n;
          if (this.#size === 0) this.#s = S_DATA_CR;
          this.from = i;
          this.to = this.pos = i + n;
          return CHUNK_DATA;
        }
        case S_DATA_CR:
          if (c === 13) this.#s = S_DATA_LF;
          else if (c === 10 && !strict) this.#nextChunk();
          else return this.#fail(i, "missing CRLF after chunk data");
          i++;
          continue;
        case S_DATA_LF:
          if (c !== 10) return this.#fail(i, "missing CRLF after chunk data");
          this.#nextChunk();
          i++;
          continue;
        case S_TRAILER:
          return this.#trailerLine(buf, i, end);
        case S_DONE:
          this.pos = i;
          return CHUNK_END;
      }
      // A byte of the size line was taken.
      if (++this.#line > CHUNK_LINE_LIMIT && !strict) return this.#fail(i, "chunk size line too long");
      i++;
    }
    this.pos = i;
    return this.#s === S_DONE ? CHUNK_END : CHUNK_MORE;
  }

  #sizeLineEnd(): void {
    this.#s = this.#size === 0 ? S_TRAILER : S_DATA;
  }

  #nextChunk(): void {
    this.#s = S_SIZE;
    this.#size = 0;
    this.#digits = 0;
    this.#line = 0;
    this.#chunkExt = 0;
  }

  /** A trailer line or the empty line that ends the body, whole in `buf[i..end)`; else more is needed. */
  #trailerLine(buf: Uint8Array, i: number, end: number): ChunkEvent {
    const strict = this.#strict;
    const lf = buf.indexOf(10, i);
    if (lf < 0 || lf >= end) {
      // The line (with its LF) will be longer than what is here.
      if (strict ? this.#trailer + end - i + 1 > CHUNK_TOTAL_LIMIT : end - i > CHUNK_LINE_LIMIT) {
        return this.#fail(i, "trailer section too long");
      }
      this.pos = i;
      return CHUNK_MORE;
    }
    let lineEnd = lf;
    if (lf > i && buf[lf - 1] === 13) lineEnd = lf - 1;
    else if (strict) return this.#fail(lf, "trailer line without CR before LF");
    if (strict) {
      this.#trailer += lf + 1 - i;
      if (this.#trailer > CHUNK_TOTAL_LIMIT) return this.#fail(i, "trailer section too long");
      for (let j = i; j < lineEnd; j++) if (ctl(buf[j]!)) return this.#fail(j, "control byte in trailer line");
    } else if (lf - i > CHUNK_LINE_LIMIT) return this.#fail(i, "trailer section too long");
    this.pos = lf + 1;
    if (lineEnd === i) {
      this.#s = S_DONE;
      return CHUNK_END;
    }
    this.from = i;
    this.to = lineEnd;
    return CHUNK_TRAILER;
  }

  #fail(at: number, reason: string): ChunkEvent {
    this.pos = at;
    this.reason = reason;
    return CHUNK_ERROR;
  }
}

/** The last chunk with no trailers: `0 CRLF CRLF`. */
export const LAST_CHUNK: Uint8Array<ArrayBuffer> = new Uint8Array([48, 13, 10, 13, 10]);
/** {@linkcode LAST_CHUNK} as text (for heads built as latin1 text). */
export const LAST_CHUNK_TEXT = "0\r\n\r\n";
/** The CRLF after a chunk's data. */
export const CHUNK_CRLF: Uint8Array<ArrayBuffer> = new Uint8Array([13, 10]);

/** A chunk's size line as text: `hex CRLF`. */
export function chunkSizeText(size: number): string {
  return `${size.toString(16)}\r\n`;
}

/**
 * The size line of a chunk (`hex CRLF`), for data sent in its own write (then {@linkcode CHUNK_CRLF}).
 *
 * @param size The chunk's data length (not 0).
 */
export function encodeChunkHead(size: number): Uint8Array<ArrayBuffer> {
  const hexText = size.toString(16);
  const out = new Uint8Array(hexText.length + 2);
  for (let i = 0; i < hexText.length; i++) out[i] = hexText.charCodeAt(i);
  out[hexText.length] = 13;
  out[hexText.length + 1] = 10;
  return out;
}

/**
 * Frames `data` as one chunk (`size CRLF data CRLF`).
 *
 * @param data Chunk payload (not empty).
 * @param last Append the last chunk (`0 CRLF CRLF`) too.
 * @returns The framed bytes.
 */
export function encodeChunk(data: Uint8Array, last = false): Uint8Array<ArrayBuffer> {
  const hexText = data.length.toString(16);
  const out = new Uint8Array(hexText.length + 4 + data.length + (last ? LAST_CHUNK.length : 0));
  let i = 0;
  for (; i < hexText.length; i++) out[i] = hexText.charCodeAt(i);
  out[i++] = 13;
  out[i++] = 10;
  out.set(data, i);
  i += data.length;
  out[i++] = 13;
  out[i++] = 10;
  if (last) out.set(LAST_CHUNK, i);
  return out;
}

/**
 * The last chunk with trailer fields: `0 CRLF`, each `name: value CRLF`, `CRLF`.
 *
 * @param trailers Field lines (names and values already valid; latin1).
 */
export function encodeLastChunk(trailers: Iterable<readonly [string, string]> = []): Uint8Array<ArrayBuffer> {
  let text = "0\r\n";
  for (const [name, value] of trailers) text += `${name}: ${value}\r\n`;
  text += "\r\n";
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}
