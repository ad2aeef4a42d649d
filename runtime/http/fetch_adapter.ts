/**
 * The adapter between the fetch API's `Request`/`Response` (what `Deno.serve` and node:http2 code speak) and the
 * message model (message.ts). The only place a `Request` becomes a message.
 *
 * @module
 */
import type { AbortWatch, IncomingRequest } from "./message.ts";

/** A fetch `Request` as an {@linkcode IncomingRequest}: its URL, `Headers`, body and signal as they are. */
export class FetchRequest implements IncomingRequest {
  /** @param fetch The request. */
  constructor(readonly fetch: Request) {}

  get method(): string {
    return this.fetch.method;
  }

  get url(): string {
    return this.fetch.url;
  }

  get target(): undefined {
    return undefined;
  }

  get host(): undefined {
    return undefined;
  }

  get headers(): Headers {
    return this.fetch.headers;
  }

  get fields(): undefined {
    return undefined;
  }

  get headersMade(): boolean {
    return true;
  }

  get raw(): undefined {
    return undefined;
  }

  get body(): ReadableStream<Uint8Array> | null {
    return this.fetch.body;
  }

  get watch(): AbortWatch {
    return this.fetch.signal;
  }

  get signal(): AbortSignal {
    return this.fetch.signal;
  }

  header(name: string): string | null {
    return this.fetch.headers.get(name);
  }

  recycleBody(_chunk: Uint8Array): void {}
}
