/**
 * A scanner of a chunked request body's framing, fed the bytes as they come: it finds where the body ends, where its
 * data is (the HTTP/1.1 front end decodes request bodies with it) and whether its framing is bad (answered 400), with
 * hyper's rules — a
 * hex size (at most 15 digits), optional spaces (not tabs), extensions without line ends (4000 bytes a chunk, 16 KiB
 * in all), CRLF after the size
 * and after the data, trailer lines (16 KiB in all), a final CRLF.
 *
 * @module
 */

/** The framing is bad: answer 400. */
export const BAD = -2;
/** More bytes are needed. */
export const MORE = -1;

const enum S {
  Size,
  SizeWs,
  Ext,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  EndCr,
  Trailer,
  TrailerLf,
  EndLf,
  Done,
}

/** Extension bytes, and trailer bytes, a body may carry (hyper's limit for extensions). */
const LIMIT = 16 * 1024;

/**
 * Extension bytes one chunk may carry: hyper fails the body (and closes without an answer) past about 4 KiB on one
 * chunk's line, so such a body is answered 400 here first.
 */
export const CHUNK_EXT_LIMIT = 4000;

/** Hex digit value, or -1. */
function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 32;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/** Scans one chunked body. */
export class ChunkedScanner {
  #s = S.Size;
  #size = 0;
  #digits = 0;
  #ext = 0;
  #chunkExt = 0;
  #trailer = 0;

  /** The body ended. */
  get done(): boolean {
    return this.#s === S.Done;
  }

  /**
   * Scans `buf[from..to)`.
   *
   * @param onData Told of each run of body data (`buf[start..end)`) as it is scanned (decoding the body).
   * @returns The index after the body's last byte when it ends there, {@linkcode MORE}, or {@linkcode BAD}.
   */
  scan(buf: Uint8Array, from: number, to: number, onData?: (start: number, end: number) => void): number {
    let i = from;
    while (i < to) {
      const c = buf[i]!;
      switch (this.#s) {
        case S.Size: {
          const d = hex(c);
          if (d >= 0) {
            if (++this.#digits > 15) return BAD;
            this.#size = this.#size * 16 + d;
          } else if (this.#digits === 0) return BAD;
          else if (c === 32) this.#s = S.SizeWs;
          else if (c === 59) {
            this.#s = S.Ext;
            this.#chunkExt = 0;
          } else if (c === 13) this.#s = S.SizeLf;
          else return BAD;
          i++;
          break;
        }
        case S.SizeWs:
          // Spaces only (hyper closes the connection on a tab there, without an answer).
          if (c === 59) {
            this.#s = S.Ext;
            this.#chunkExt = 0;
          } else if (c === 13) this.#s = S.SizeLf;
          else if (c !== 32) return BAD;
          i++;
          break;
        case S.Ext:
          if (c === 13) this.#s = S.SizeLf;
          else if ((c < 32 && c !== 9) || c === 127 || ++this.#ext > LIMIT || ++this.#chunkExt > CHUNK_EXT_LIMIT) {
            return BAD;
          }
          i++;
          break;
        case S.SizeLf:
          if (c !== 10) return BAD;
          i++;
          if (this.#size === 0) this.#s = S.EndCr;
          else this.#s = S.Data;
          break;
        case S.Data: {
          const n = Math.min(this.#size, to - i);
          if (onData !== undefined && n > 0) onData(i, i + n);
          this.#size -= n;
          i += n;
          if (this.#size === 0) this.#s = S.DataCr;
          break;
        }
        case S.DataCr:
          if (c !== 13) return BAD;
          this.#s = S.DataLf;
          i++;
          break;
        case S.DataLf:
          if (c !== 10) return BAD;
          this.#s = S.Size;
          this.#digits = 0;
          i++;
          break;
        case S.EndCr:
          this.#s = c === 13 ? S.EndLf : S.Trailer;
          if (c !== 13 && ((c < 32 && c !== 9) || c === 127)) return BAD;
          i++;
          break;
        case S.Trailer:
          if (c === 13) this.#s = S.TrailerLf;
          else if ((c < 32 && c !== 9) || c === 127) return BAD;
          if (++this.#trailer > LIMIT) return BAD;
          i++;
          break;
        case S.TrailerLf:
          if (c !== 10) return BAD;
          this.#s = S.EndCr;
          i++;
          break;
        case S.EndLf:
          if (c !== 10) return BAD;
          this.#s = S.Done;
          return i + 1;
        case S.Done:
          return i;
      }
    }
    return MORE;
  }
}
