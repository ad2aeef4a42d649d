/**
 * A body already read, as a stream of one chunk: what a whole body (an upstream's small answer, a plugin's text) becomes
 * when something asks for a stream.
 *
 * @module
 */

/** A body already read, as a stream: `bytes` in one chunk, then the end. */
export function oneChunk(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream(new OneChunkSource(bytes));
}

class OneChunkSource implements UnderlyingDefaultSource<Uint8Array> {
  readonly #bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    controller.enqueue(this.#bytes);
    controller.close();
  }
}
