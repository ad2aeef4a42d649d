/**
 * The request the HTTP/1.1 front end hands to the pipeline: what the pipeline and the plugins read of a `Request`
 * (method, url, headers, body, signal), without the cost of one (`new Request` takes 4–12 µs here, this about 1 µs).
 *
 * @module
 */

import { appendFields, fieldValue } from "../../http/headers_copy.ts";
import type { AbortWatch, ConnectionFacts, IncomingRequest } from "../../http/message.ts";

/** A request read by the HTTP/1.1 front end. */
export class WireRequest implements IncomingRequest {
  #headers: Headers | undefined;
  #url: string | undefined;
  #completed: PromiseWithResolvers<void> | undefined;
  /** Settled: undefined while the response is going out, then null (sent) or the error. */
  #outcome: unknown;
  /** Requests answered on the connection before this one (set by the connection). */
  served = 0;
  /** Bytes of the request body read from the connection so far (decoded data of a chunked body), for `{payload_size}`. */
  bodyRead = 0;

  /**
   * @param method The method.
   * @param target The origin-form target.
   * @param host The Host field.
   * @param sent Names (lower case) and values, alternating, as the client sent them.
   * @param body The body, or null.
   * @param watch Aborts when the client goes away before the response is sent.
   * @param sentHead The head's bytes, when an upstream may be sent them as they are (no hop-by-hop field).
   * @param giveBack Takes back the body's one chunk (see {@linkcode recycleBody}).
   */
  constructor(
    readonly method: string,
    readonly target: string,
    readonly host: string,
    readonly sent: readonly string[],
    readonly body: ReadableStream<Uint8Array<ArrayBuffer>> | null,
    readonly watch: ClientWatch,
    readonly sentHead: Uint8Array | undefined = undefined,
    readonly giveBack?: (chunk: Uint8Array) => void,
    readonly connection?: ConnectionFacts,
    readonly version: string = "HTTP/1.1",
  ) {}

  /** No fetch `Request` is behind this one. */
  get fetch(): undefined {
    return undefined;
  }

  /** Asks for an upgrade spliced as bytes ({@linkcode UpgradeRequest}). */
  get upgrade(): boolean {
    return false;
  }

  /** A field's value by lower-case name, from the raw fields (no `Headers` made). */
  header(name: string): string | null {
    return fieldValue(this.sent, name);
  }

  /** The head's bytes (see {@linkcode sentHead}) while no `Headers` was made of its fields. */
  get raw(): Uint8Array | undefined {
    return this.#headers === undefined ? this.sentHead : undefined;
  }

  /** The fields as the client sent them, while no `Headers` was made of them (something may have changed those). */
  get fields(): readonly string[] | undefined {
    return this.#headers === undefined ? this.sent : undefined;
  }

  /**
   * Says that `chunk`, read from {@linkcode body}, was copied and dropped, so its buffer may hold another request's
   * body. Only the body's sole reader may call it (the upstream client, reading the stream it was given as it is).
   */
  recycleBody(chunk: Uint8Array): void {
    this.giveBack?.(chunk);
  }

  /** An `AbortSignal` that aborts when the client goes away, made on first use ({@linkcode watch} costs less). */
  get signal(): AbortSignal {
    return this.watch.signal;
  }

  /** The fields as `Headers`, made on first use (a proxied request that nothing reads sends `fields` as they are). */
  get headers(): Headers {
    return this.#headers ??= appendFields(new Headers(), this.sent);
  }

  /**
   * Settles once the response went out (rejects when it could not be sent whole), like `Deno.serve`'s
   * `info.completed`; made on first use.
   */
  get completed(): Promise<void> {
    if (this.#completed === undefined) {
      this.#completed = Promise.withResolvers<void>();
      this.#completed.promise.catch(() => {});
      if (this.#outcome !== undefined) this.#finish();
    }
    return this.#completed.promise;
  }

  /**
   * Records how the response went out: `error` when it failed, else undefined (called by the connection).
   *
   * @param error Why the response failed, or undefined.
   */
  settle(error: unknown): void {
    if (this.#outcome !== undefined) return;
    this.#outcome = error === undefined ? null : error;
    if (this.#completed !== undefined) this.#finish();
  }

  #finish(): void {
    if (this.#outcome === null) this.#completed!.resolve();
    else this.#completed!.reject(this.#outcome);
  }

  /** The absolute URL, as `Deno.serve` gives it (`http://` + Host + target). */
  get url(): string {
    return this.#url ??= `http://${this.host}${this.target}`;
  }
}

/**
 * Tells whether a request's client went away: an {@linkcode AbortWatch} with listeners in a plain field, so a request
 * does not pay for an `AbortController` (an `EventTarget`, ~2 µs with a listener added and removed) unless something
 * asks for a real {@linkcode signal}.
 */
export class ClientWatch implements AbortWatch {
  #aborted = false;
  #reason: unknown;
  /** The first listener (usually the only one: the upstream exchange's), then any others in order. */
  #first: (() => void) | undefined;
  #more: (() => void)[] | undefined;
  #controller: AbortController | undefined;

  /** The client went away. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** An `AbortSignal` that follows this watch, made on first use. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Calls `listener` once, when the client goes away. */
  addEventListener(_type: "abort", listener: () => void): void {
    if (this.#aborted) return;
    if (this.#first === undefined && this.#more === undefined) this.#first = listener;
    else (this.#more ??= []).push(listener);
  }

  /** Forgets `listener`. */
  removeEventListener(_type: "abort", listener: () => void): void {
    const more = this.#more;
    if (more !== undefined) {
      const i = more.lastIndexOf(listener);
      if (i >= 0) {
        more.splice(i, 1);
        return;
      }
    }
    if (this.#first === listener) this.#first = more?.shift();
  }

  /** Marks the client gone and tells the listeners (once). */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    const first = this.#first;
    const more = this.#more;
    this.#first = this.#more = undefined;
    if (first !== undefined) call(first);
    if (more !== undefined) { for (const listener of more) call(listener); }
    this.#controller?.abort(reason);
  }
}

/** Calls an abort listener; as an `EventTarget` does, one that throws is reported and the others still run. */
function call(listener: () => void): void {
  try {
    listener();
  } catch (e) {
    reportError(e);
  }
}

/** A request that asks for an upgrade the front end splices as bytes after a 101 (see `IncomingRequest.upgrade`). */
export class UpgradeRequest extends WireRequest {
  /** Always true. */
  override get upgrade(): boolean {
    return true;
  }
}
