/**
 * The adapter between the fetch API's `Request`/`Response` (what `Deno.serve` speaks, under `PINGAP_HTTP1=deno-serve`) and the
 * message model (message.ts): a `Request` becomes an {@linkcode IncomingRequest}, an {@linkcode HttpResponse} a
 * `Response` for `Deno.serve` ({@linkcode toFetchResponse}), and a `Response` a message for code that makes those
 * ({@linkcode fromFetchResponse}).
 *
 * @module
 */
import type { AbortWatch, HttpResponse, IncomingRequest } from "./message.ts";
import { BuiltResponse } from "./response_build.ts";
import { UpstreamError } from "../upstream/types.ts";

/** A fetch `Request` as an {@linkcode IncomingRequest}: its URL, `Headers`, body and signal as they are. */
export class FetchRequest implements IncomingRequest {
  /**
   * @param fetch The request.
   * @param version `HTTP/2.0` when the front end knows the request came over HTTP/2 (see `IncomingRequest.version`).
   */
  constructor(readonly fetch: Request, readonly version?: string) {}

  get method(): string {
    return this.fetch.method;
  }

  get url(): string {
    return this.fetch.url;
  }

  /** The path and query of the URL. */
  get target(): string {
    const url = this.fetch.url;
    const start = url.indexOf("/", url.indexOf("//") + 2);
    if (start < 0) return "/";
    const hash = url.indexOf("#", start);
    return hash < 0 ? url.slice(start) : url.slice(start, hash);
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

/**
 * The `Response` for `Deno.serve`: the body as bytes when it is whole (Deno sends those without the stream machinery),
 * else the stream; the fields appended from the raw list when there is one, without a `Headers` in between. A
 * response that carries its own fetch `Response` (a WebSocket upgrade) gives that. Trailers are dropped (`Deno.serve`
 * sends none).
 *
 * @param res The response.
 * @returns The fetch `Response`.
 */
export function toFetchResponse(res: HttpResponse): Response {
  if (res.fetch !== undefined) return res.fetch;
  const init = res.statusText === "" ? { status: res.status } : { status: res.status, statusText: res.statusText };
  const whole = res.whole;
  // A status without a body takes none (`Response` refuses even an empty one).
  const status = res.status;
  const bodiless = status === 204 || status === 205 || status === 304 || status < 200;
  if (bodiless && whole === undefined) res.body?.cancel().catch(() => {});
  const response = new Response(bodiless ? null : whole ?? res.body, init);
  const out = response.headers;
  // A text body got a content-type from Deno: the response's own replaces it.
  const text = typeof whole === "string";
  const fields = res.fields;
  try {
    if (fields !== undefined) {
      for (let i = 0; i < fields.length; i += 2) add(out, fields[i]!, fields[i + 1]!, text);
    } else res.headers.forEach((value, name) => add(out, name, value, text));
  } catch (error) {
    response.body?.cancel().catch(() => {});
    throw error;
  }
  return response;
}

function add(out: Headers, name: string, value: string, text: boolean): void {
  if (text && name.length === 12 && name.toLowerCase() === "content-type") out.set(name, value);
  else out.append(name, value);
}

/**
 * A fetch `Response` as a message: its status, `Headers` and body stream as they are, and `trailers` when given (for
 * code that makes `Response`s, such as tests of a listener).
 */
export function fromFetchResponse(res: Response, trailers?: Promise<Headers>): HttpResponse {
  return new BuiltResponse(res.status, res.statusText, res.headers, res.body, trailers);
}

/**
 * A fetch `Response` as a message whose `fetch` is that `Response`: the `Deno.serve` adapter hands it on as it is, and
 * a change to `headers` changes it. `whole` is the bytes it was made from while its body was not read.
 */
class FetchAnswer implements HttpResponse {
  readonly editable = true;
  readonly #whole: Uint8Array<ArrayBuffer> | undefined;

  /**
   * @param fetch The response.
   * @param whole The bytes its body was made from, if it was made from bytes.
   * @param trailers Trailers that follow its body.
   */
  constructor(
    readonly fetch: Response,
    whole: Uint8Array<ArrayBuffer> | undefined,
    readonly trailers: Promise<Headers> | undefined,
  ) {
    this.#whole = whole;
  }

  get status(): number {
    return this.fetch.status;
  }

  get statusText(): string {
    return this.fetch.statusText;
  }

  get headers(): Headers {
    return this.fetch.headers;
  }

  get whole(): Uint8Array<ArrayBuffer> | undefined {
    return this.fetch.bodyUsed ? undefined : this.#whole;
  }

  get body(): ReadableStream<Uint8Array> | null {
    return this.fetch.body;
  }
}

/**
 * A fetch `Response` that `Deno.serve` must get as it is (a WebSocket upgrade's 101), as a message: see
 * {@linkcode HttpResponse.fetch}.
 */
export function fetchAnswer(res: Response): HttpResponse {
  return new FetchAnswer(res, undefined, undefined);
}

/**
 * An upstream's answer for a request that came as a fetch `Request` (`Deno.serve`): made into the
 * `Response` `Deno.serve` takes at once (its fields appended without a `Headers` in between, its body as bytes when it
 * came whole), which response hooks then change in place; its trailers ride along.
 *
 * @param res The upstream's answer.
 * @returns The response.
 * @throws {UpstreamError} Kind "protocol" when a field is not a valid header (the body is cancelled).
 */
export function fetchUpstreamAnswer(res: HttpResponse): HttpResponse {
  let response: Response;
  try {
    response = toFetchResponse(res);
  } catch (error) {
    throw new UpstreamError("protocol", `Cannot parse response header: ${(error as Error).message}`, true, {
      cause: error,
    });
  }
  const whole = res.whole;
  return new FetchAnswer(response, typeof whole === "string" ? undefined : whole, res.trailers);
}
