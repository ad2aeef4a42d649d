/**
 * Message bodies of the HTTP/1.1 upstream client: the response body as a pull-based `ReadableStream`
 * (content-length, chunked with trailers, or until close; bytes passed on untouched), and the request body pump
 * (raw bytes under a content-length, else chunked).
 *
 * @module
 */

import type { Http1Conn } from "./conn.ts";
import { latin1Decode } from "./head.ts";
import { UpstreamError } from "../types.ts";
import {
  CHUNK_CRLF,
  CHUNK_DATA,
  CHUNK_ERROR,
  CHUNK_TRAILER,
  ChunkedDecoder,
  encodeChunk,
  encodeChunkHead,
  LAST_CHUNK,
} from "../../http/h1_chunked.ts";

/** Pieces at least this large are handed out as views of the read buffer instead of copies. */
const LEND_MIN = 8 * 1024;
/** Bodies larger than this read through 64 KiB buffers. */
const LARGE_BODY = 32 * 1024;

/** How a response body is delimited. */
export type BodyFraming = "length" | "chunked" | "close";

/** What the body stream reports back to its exchange. */
export interface BodyOwner {
  /** The connection the body is read from. */
  readonly conn: Http1Conn;
  /** Read time limit in ms. */
  readonly readTimeout: number | undefined;
  /**
   * The body ended: completely read (`complete`), or cut short by an error or a cancel. Called once.
   */
  bodyDone(complete: boolean): void;
}

/** The source of a response body stream. */
export class ResponseBodySource implements UnderlyingDefaultSource<Uint8Array> {
  readonly #owner: BodyOwner;
  readonly #framing: BodyFraming;
  /** Bytes left of the body (length framing). */
  #left: number;
  readonly #large: boolean;
  /** The chunked framing's decoder (chunked bodies only). */
  readonly #decoder: ChunkedDecoder | null;
  #trailers: Headers | null = null;
  readonly #onTrailers: ((trailers: Headers) => void) | undefined;
  #ended = false;
  #controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  /** The last piece handed out as a view of the connection's buffer, and the lend that made it (see recycle). */
  #lentPiece: Uint8Array | null = null;
  #lentBy = 0;

  /**
   * Creates the source.
   *
   * @param owner The exchange.
   * @param framing How the body is delimited.
   * @param options `length` for "length" framing; `onTrailers` receives the trailer fields of a chunked body
   *   (empty Headers when there are none or the body failed).
   */
  constructor(
    owner: BodyOwner,
    framing: BodyFraming,
    options: { length?: number; onTrailers?: (trailers: Headers) => void } = {},
  ) {
    this.#owner = owner;
    this.#framing = framing;
    this.#left = options.length ?? 0;
    this.#large = framing !== "length" || this.#left > LARGE_BODY;
    this.#onTrailers = options.onTrailers;
    this.#decoder = framing === "chunked" ? new ChunkedDecoder(false) : null;
  }

  /** Remembers the controller (so an abort can error the stream). */
  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#controller = controller;
  }

  /** Reads the next piece of the body. */
  async pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    const conn = this.#owner.conn;
    try {
      for (;;) {
        if (conn.start < conn.end) {
          const lends = conn.lends;
          const piece = this.#framing === "chunked" ? this.#takeChunked(conn) : this.#takeRaw(conn);
          // One view of the buffer: it may be given back once written (several were joined into a copy).
          if (piece !== null && conn.lends === lends + 1 && piece.buffer === conn.buf.buffer) {
            this.#lentPiece = piece;
            this.#lentBy = conn.lends;
          }
          if (piece !== null) controller.enqueue(piece);
          if (this.#complete()) {
            this.#end(true);
            controller.close();
            return;
          }
          if (piece !== null) return;
        } else if (this.#complete()) {
          this.#end(true);
          controller.close();
          return;
        }
        const large = this.#large && this.#framing === "length" ? this.#left : this.#large;
        if (!await conn.fill(this.#owner.readTimeout, large)) {
          if (this.#framing === "close") {
            this.#end(true);
            controller.close();
            return;
          }
          throw new Deno.errors.UnexpectedEof("upstream closed the connection before the end of the body");
        }
      }
    } catch (error) {
      const failure = conn.failure(error, "read response body");
      this.#end(false);
      controller.error(failure);
    }
  }

  /**
   * The consumer wrote `chunk` and dropped it: when it is the last piece lent from the connection's buffer, the buffer
   * is given back for the next read. Only a consumer that reads one chunk at a time and is done with it may call this
   * (the HTTP/1.1 front end writing a passed-through answer); the stream must not read ahead (high-water mark 0).
   */
  recycle(chunk: Uint8Array): void {
    if (chunk !== this.#lentPiece) return;
    this.#lentPiece = null;
    this.#owner.conn.giveBack(this.#lentBy);
  }

  /** The consumer cancelled: the connection is closed, not pooled. */
  cancel(): void {
    this.#end(false);
  }

  /** Errors the stream (the request was aborted) unless it already ended. */
  abort(error: UpstreamError): void {
    if (this.#ended) return;
    this.#end(false);
    this.#controller?.error(error);
  }

  #complete(): boolean {
    if (this.#framing === "length") return this.#left === 0;
    if (this.#framing === "chunked") return this.#decoder!.done;
    return false;
  }

  #end(complete: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#onTrailers?.(complete && this.#trailers !== null ? this.#trailers : new Headers());
    this.#owner.bodyDone(complete);
  }

  #takeRaw(conn: Http1Conn): Uint8Array {
    let n = conn.end - conn.start;
    if (this.#framing === "length") {
      if (n > this.#left) n = this.#left;
      this.#left -= n;
    }
    return take(conn, n);
  }

  #takeChunked(conn: Http1Conn): Uint8Array | null {
    let pieces: Uint8Array[] | null = null;
    let single: Uint8Array | null = null;
    const buf = conn.buf;
    const decoder = this.#decoder!;
    for (;;) {
      const event = decoder.next(buf, conn.start, conn.end);
      if (event === CHUNK_DATA) {
        conn.start = decoder.from;
        const piece = take(conn, decoder.to - decoder.from);
        if (single === null) single = piece;
        else (pieces ??= [single]).push(piece);
        continue;
      }
      conn.start = decoder.pos;
      if (event === CHUNK_TRAILER) this.#addTrailer(latin1Decode(buf, decoder.from, decoder.to));
      else if (event === CHUNK_ERROR) throw new UpstreamError("protocol", `Cannot read chunk: ${decoder.reason}`, true);
      else break;
    }
    if (pieces === null) return single;
    let total = 0;
    for (const p of pieces) total += p.length;
    const out = new Uint8Array(total);
    let off = 0;
    for (const p of pieces) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }

  #addTrailer(line: string): void {
    const colon = line.indexOf(":");
    if (colon <= 0) throw new UpstreamError("protocol", "Cannot read trailer: missing colon", true);
    try {
      (this.#trailers ??= new Headers()).append(line.slice(0, colon), line.slice(colon + 1).trim());
    } catch {
      throw new UpstreamError("protocol", "Cannot read trailer: invalid field", true);
    }
  }
}

/** Takes `n` unread bytes: a view of the buffer when large (the buffer is then lent), else a copy. */
function take(conn: Http1Conn, n: number): Uint8Array {
  const start = conn.start;
  conn.start = start + n;
  if (n >= LEND_MIN) {
    conn.lend();
    return conn.buf.subarray(start, start + n);
  }
  return conn.buf.slice(start, start + n);
}

/** The rest of a request body to send after the head. */
export interface BodyPump {
  /** Where the remaining body comes from. */
  readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  /** Chunked framing (else raw bytes under a content-length). */
  readonly chunked: boolean;
  /** Bytes still owed under the content-length (raw framing). */
  readonly remaining: number;
}

/**
 * Sends the rest of a request body.
 *
 * @param conn The connection.
 * @param pump What to send.
 * @param writeTimeout Time limit per write in ms.
 * @throws {UpstreamError} Kind "aborted" when the request body stream fails or is shorter/longer than its
 *   content-length; the connection's own errors otherwise.
 */
export async function pumpRequestBody(
  conn: Http1Conn,
  pump: BodyPump,
  writeTimeout: number | undefined,
): Promise<void> {
  const { reader, chunked } = pump;
  let remaining = pump.remaining;
  for (;;) {
    let r: ReadableStreamReadResult<Uint8Array>;
    try {
      r = await reader.read();
    } catch (error) {
      throw new UpstreamError("aborted", "Cannot read request body: stream failed", conn.bytesWritten > 0, {
        cause: error,
      });
    }
    if (r.done) break;
    const value = r.value;
    if (value.length === 0) continue;
    if (chunked) {
      if (value.length <= 64 * 1024) await conn.write(encodeChunk(value), writeTimeout);
      else {
        await conn.write(encodeChunkHead(value.length), writeTimeout);
        await conn.write(value, writeTimeout);
        await conn.write(CHUNK_CRLF, writeTimeout);
      }
    } else {
      if (value.length > remaining) {
        throw new UpstreamError("aborted", "Cannot send request body: longer than content-length", true);
      }
      remaining -= value.length;
      await conn.write(value, writeTimeout);
    }
  }
  if (chunked) await conn.write(LAST_CHUNK, writeTimeout);
  else if (remaining > 0) {
    throw new UpstreamError("aborted", "Cannot send request body: shorter than content-length", true);
  }
}
