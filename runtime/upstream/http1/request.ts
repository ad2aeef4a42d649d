/**
 * Turns an {@linkcode HttpRequest} into the bytes of its first write: the head, coalesced with the whole body
 * when it is small and has a content-length, or with the first chunk otherwise. The rest of the body is left to the
 * pump.
 *
 * @module
 */

import type { BodyPump } from "./body.ts";
import { encodeChunk } from "../../http/h1_chunked.ts";
import { BufferPool } from "../../http/buffer_pool.ts";
import { buildRequestHead, latin1Encode, latin1EncodeInto, type RequestFraming } from "./head.ts";
import { fieldValue } from "../../http/headers_copy.ts";
import { ClientRequestError, UpstreamError } from "../types.ts";
import type { HttpRequest } from "../../http/message.ts";
import type { HeaderPolicy } from "../../../compiler/mod.ts";

/** A body with a content-length up to this size is read whole and sent with the head (and can be replayed). */
const SMALL_BODY = 64 * 1024;
/** A first chunk up to this size is copied behind the head to save a write. */
const COALESCE = 16 * 1024;

/** A request ready to write. */
export interface PreparedRequest {
  /** The first write: the head, maybe followed by body bytes. */
  readonly first: Uint8Array;
  /** A second write (a first body chunk too large to coalesce), or null. */
  readonly second: Uint8Array | null;
  /** The rest of the body, or null when `first` and `second` hold it all. */
  readonly pump: BodyPump | null;
  /** The whole request is in memory: it can be sent again on another connection. */
  readonly replayable: boolean;
  /** The pooled buffer `first` is a view of, until {@linkcode releasePrepared} gives it back. */
  pooled?: Uint8Array<ArrayBuffer> | undefined;
}

/** Buffers for a head sent with its whole body: up to 16 KiB, up to 80 KiB (a 64 KiB body and its head). */
const sendBuffers = new BufferPool([16 * 1024, 80 * 1024], 32);

/**
 * Gives back the pooled buffer of a request that was sent and will not be sent again (its response head came). Only
 * once: the buffer is forgotten here.
 */
export function releasePrepared(prep: PreparedRequest): void {
  const pooled = prep.pooled;
  if (pooled === undefined) return;
  prep.pooled = undefined;
  sendBuffers.give(pooled);
}

/**
 * Prepares a request: builds the head and reads as much of the body as goes with it.
 *
 * A body with a `content-length` is sent raw; without one it is sent chunked. A request with an `expect` header
 * sends its head alone (the body waits for the pump).
 *
 * @param req The request.
 * @param host `host` value to add when the request has none.
 * @param policy The upstream's header options when one is off (see `buildRequestHead`).
 * @returns The prepared request (at once when there is no body).
 * @throws {ClientRequestError} For a request that cannot or must not be sent (bad method, target, content-length
 *   or `connection` nomination): a client error, before any byte is written.
 * @throws {UpstreamError} Kind "aborted" when reading the request body fails or its length disagrees with
 *   `content-length`.
 */
export function prepareRequest(
  req: HttpRequest,
  host: string,
  policy?: HeaderPolicy,
): PreparedRequest | Promise<PreparedRequest> {
  // Without a body nothing is awaited: the caller goes on in the same tick.
  if (req.body !== null) return prepareWithBody(req, req.body, host, policy);
  // A head to send as it is (it has its host; a POST, PUT or PATCH gets `content-length: 0` built in below).
  if (req.raw !== undefined && !needsLength(req.method)) {
    return { first: req.raw, second: null, pump: null, replayable: true };
  }
  return prepareHead(req, host, policy);
}

function prepareHead(req: HttpRequest, host: string, policy: HeaderPolicy | undefined): PreparedRequest {
  const zeroLength = needsLength(req.method) && fieldValue(req.fields ?? req.headers, "content-length") === null;
  const head = build(req, { host, framing: "none", zeroLength, policy });
  return { first: latin1Encode(head, 0), second: null, pump: null, replayable: true };
}

async function prepareWithBody(
  req: HttpRequest,
  body: ReadableStream<Uint8Array>,
  host: string,
  policy: HeaderPolicy | undefined,
): Promise<PreparedRequest> {
  const fields = req.fields ?? req.headers;
  const reader = body.getReader();
  try {
    const lengthText = fieldValue(fields, "content-length");
    const expectContinue = fieldValue(fields, "expect") !== null;
    if (lengthText !== null) {
      const length = parseLength(lengthText);
      const head = build(req, { host, framing: "length", zeroLength: false, policy });
      if (expectContinue) {
        return {
          first: latin1Encode(head, 0),
          second: null,
          pump: { reader, chunked: false, remaining: length },
          replayable: false,
        };
      }
      if (length <= SMALL_BODY) return await readWhole(reader, head, length, req);
      const chunk = await readChunk(reader);
      if (chunk === null) throw shortBody();
      if (chunk.length > length) throw longBody();
      const pump = { reader, chunked: false, remaining: length - chunk.length };
      if (chunk.length <= COALESCE) return { first: join(head, chunk), second: null, pump, replayable: false };
      return { first: latin1Encode(head, 0), second: chunk, pump, replayable: false };
    }
    if (expectContinue) {
      const head = build(req, { host, framing: "chunked", zeroLength: false, policy });
      return {
        first: latin1Encode(head, 0),
        second: null,
        pump: { reader, chunked: true, remaining: 0 },
        replayable: false,
      };
    }
    const chunk = await readChunk(reader);
    if (chunk === null) {
      // An empty stream: say so with a length rather than an empty chunked body. (The lock is not released: the
      // stream has ended, and releasing costs an error object with its stack, ~10 µs, see below.)
      const head = build(req, { host, framing: "none", zeroLength: true, policy });
      return { first: latin1Encode(head, 0), second: null, pump: null, replayable: true };
    }
    const head = build(req, { host, framing: "chunked", zeroLength: false, policy });
    const pump = { reader, chunked: true, remaining: 0 };
    const framed = encodeChunk(chunk);
    if (framed.length <= COALESCE) return { first: join(head, framed), second: null, pump, replayable: false };
    return { first: latin1Encode(head, 0), second: framed, pump, replayable: false };
  } catch (error) {
    reader.cancel(error).catch(ignore);
    throw error;
  }
}

function ignore(): void {}

function build(
  req: HttpRequest,
  options: { host: string; framing: RequestFraming; zeroLength: boolean; policy: HeaderPolicy | undefined },
): string {
  return buildRequestHead(req.method, req.target, req.fields ?? req.headers, options);
}

function needsLength(method: string): boolean {
  return method === "POST" || method === "PUT" || method === "PATCH";
}

function parseLength(text: string): number {
  let n = 0;
  const s = text.trim();
  if (s.length === 0 || s.length > 15) throw badLength(text);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) throw badLength(text);
    n = n * 10 + c - 48;
  }
  return n;
}

function badLength(text: string): ClientRequestError {
  return new ClientRequestError(`Cannot send request: invalid content-length ${JSON.stringify(text.slice(0, 64))}`);
}

function shortBody(): UpstreamError {
  return new UpstreamError("aborted", "Cannot send request body: shorter than content-length", false);
}

function longBody(): UpstreamError {
  return new UpstreamError("aborted", "Cannot send request body: longer than content-length", false);
}

/** Reads the next non-empty chunk, or null at the end. */
async function readChunk(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<Uint8Array | null> {
  for (;;) {
    let r: ReadableStreamReadResult<Uint8Array>;
    try {
      r = await reader.read();
    } catch (error) {
      throw new UpstreamError("aborted", "Cannot read request body: stream failed", false, { cause: error });
    }
    if (r.done) return null;
    if (r.value.length > 0) return r.value;
  }
}

async function readWhole(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  head: string,
  length: number,
  req: HttpRequest,
): Promise<PreparedRequest> {
  const n = head.length + length;
  const pooled = sendBuffers.take(n);
  const out = pooled === undefined ? new Uint8Array(n) : pooled.subarray(0, n);
  latin1EncodeInto(head, out);
  let off = head.length;
  while (off < out.length) {
    const chunk = await readChunk(reader);
    if (chunk === null) throw shortBody();
    if (chunk.length > out.length - off) throw longBody();
    out.set(chunk, off);
    // Copied: its buffer may take another request's body.
    req.recycleBody?.(chunk);
    off += chunk.length;
  }
  // Read to the end of the stream: a server (Deno.serve) that never sees its request body end closes the client's
  // connection after the response (`connection: close` on every POST).
  if (await readChunk(reader) !== null) throw longBody();
  // The stream has ended; its lock is left as it is: `releaseLock()` rejects the reader's closed promise with a new
  // TypeError, whose stack trace cost ~19 % of a proxied 16 KB POST (profiled).
  return { first: out, second: null, pump: null, replayable: true, pooled };
}

function join(head: string, data: Uint8Array): Uint8Array {
  const out = latin1Encode(head, data.length);
  out.set(data, head.length);
  return out;
}
