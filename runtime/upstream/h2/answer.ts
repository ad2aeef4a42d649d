/**
 * The answer of an h2 upstream exchange: its head, the timings the log reads, its trailers, and the body as a stream
 * or, when the whole body came with the head (in the same read), as bytes, the stream made only if asked for (the
 * front end then writes the bytes with a content-length, as for an HTTP/1.1 upstream's small answer).
 *
 * @module
 */
import type { UpstreamAnswer } from "../types.ts";
import { oneChunk } from "../../http/one_chunk.ts";

/** What every answer of the exchange carries. */
export interface AnswerFacts {
  readonly status: number;
  readonly headers: Headers;
  readonly reused: boolean;
  readonly connectTime: number;
  readonly tlsTime: number;
  readonly connectionTime: number;
  readonly responseTime: number;
  readonly trailers: Promise<Headers>;
}

/** An answer whose body is a stream (or none). */
export function streamAnswer(facts: AnswerFacts, body: ReadableStream<Uint8Array> | null): UpstreamAnswer {
  return { ...facts, statusText: "", editable: true, body };
}

/** An answer whose whole body is known. */
export class WholeAnswer implements UpstreamAnswer {
  readonly statusText = "";
  readonly editable = true;
  readonly status: number;
  readonly headers: Headers;
  readonly reused: boolean;
  readonly connectTime: number;
  readonly tlsTime: number;
  readonly connectionTime: number;
  readonly responseTime: number;
  readonly trailers: Promise<Headers>;
  readonly whole: Uint8Array<ArrayBuffer>;
  #stream: ReadableStream<Uint8Array> | undefined;

  constructor(facts: AnswerFacts, whole: Uint8Array<ArrayBuffer>) {
    this.status = facts.status;
    this.headers = facts.headers;
    this.reused = facts.reused;
    this.connectTime = facts.connectTime;
    this.tlsTime = facts.tlsTime;
    this.connectionTime = facts.connectionTime;
    this.responseTime = facts.responseTime;
    this.trailers = facts.trailers;
    this.whole = whole;
  }

  get body(): ReadableStream<Uint8Array> {
    return this.#stream ??= oneChunk(this.whole);
  }
}

/** The chunks as one array. */
export function joinChunks(chunks: readonly Uint8Array<ArrayBuffer>[]): Uint8Array<ArrayBuffer> {
  if (chunks.length === 1) return chunks[0]!;
  let n = 0;
  for (const c of chunks) n += c.byteLength;
  const out = new Uint8Array(n);
  n = 0;
  for (const c of chunks) {
    out.set(c, n);
    n += c.byteLength;
  }
  return out;
}
