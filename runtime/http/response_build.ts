/**
 * Building responses of the message model (message.ts): a plugin's or the pipeline's answer ({@linkcode responseWith}),
 * a copy that may be changed ({@linkcode editable}), an upstream's answer made ready for response hooks
 * ({@linkcode upstreamAnswer}). Fields stay a raw list until something asks for `Headers`: a front end writes them as
 * they are (appending them to a `Headers` costs about 0.1 µs a field, a `headers` member of `ResponseInit` about 4 µs
 * plus 1 µs a field in Deno 2.9.6).
 *
 * @module
 */
import type { HttpResponse } from "./message.ts";
import { UpstreamError } from "../upstream/types.ts";
import { appendFields } from "./headers_copy.ts";
import { oneChunk } from "./one_chunk.ts";

const encoder = new TextEncoder();

/** The `content-type` a text body gets when none is given (as `new Response(text)` sets). */
const TEXT_TYPE = "text/plain;charset=UTF-8";

/** UTF-8 length of `text`. */
export function utf8Length(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2; // a pair: 4 bytes for 2 UTF-16 units
        i++;
      } else n += 2; // a lone surrogate becomes U+FFFD: 3 bytes
    } else n += 2;
  }
  return n;
}

/** Status and reason of a response to build. */
export interface StatusInit {
  readonly status?: number;
  readonly statusText?: string;
}

/** What a response body may be made from: text, bytes, a stream, or nothing. */
export type BodySource = string | Uint8Array | ReadableStream<Uint8Array> | null;

/**
 * A response made here for one request: its fields a raw list until `headers` is asked for (then the `Headers` are
 * what goes out), its body whole (text or bytes) or a stream.
 */
export class BuiltResponse implements HttpResponse {
  readonly editable = true;
  readonly status: number;
  readonly statusText: string;
  readonly trailers: Promise<Headers> | undefined;
  #fields: readonly string[] | undefined;
  #headers: Headers | undefined;
  readonly #whole: Uint8Array<ArrayBuffer> | string | undefined;
  /** The body stream: undefined until made from `#whole`. */
  #stream: ReadableStream<Uint8Array> | null | undefined;

  /**
   * @param status The status.
   * @param statusText The reason phrase, or "".
   * @param fields The fields as `[name, value, …]` (lower-case names), or a `Headers` taken as it is.
   * @param body The body.
   * @param trailers Trailers that follow the body.
   */
  constructor(
    status: number,
    statusText: string,
    fields: readonly string[] | Headers,
    body: BodySource,
    trailers?: Promise<Headers>,
  ) {
    this.status = status;
    this.statusText = statusText;
    this.trailers = trailers;
    if (fields instanceof Headers) this.#headers = fields;
    else this.#fields = fields;
    if (typeof body === "string") this.#whole = body;
    else if (body instanceof Uint8Array) this.#whole = body as Uint8Array<ArrayBuffer>;
    else this.#stream = body;
  }

  /** The fields as `Headers`, made on first use; from then on they are what goes out. */
  get headers(): Headers {
    return this.#headers ??= appendFields(new Headers(), this.#fields!);
  }

  /** The raw fields while no `Headers` was made. */
  get fields(): readonly string[] | undefined {
    return this.#headers === undefined ? this.#fields : undefined;
  }

  /** The whole body while no stream was made of it. */
  get whole(): Uint8Array<ArrayBuffer> | string | undefined {
    return this.#stream === undefined ? this.#whole : undefined;
  }

  get body(): ReadableStream<Uint8Array> | null {
    if (this.#stream === undefined) {
      const whole = this.#whole!;
      this.#stream = oneChunk(typeof whole === "string" ? encoder.encode(whole) : whole);
    }
    return this.#stream;
  }
}

/**
 * A response with `headers`, for a plugin's or the pipeline's answer. A text body without a `content-type` gets
 * `text/plain;charset=UTF-8`, as `new Response(text)` would. Set-Cookie fields stay separate.
 *
 * @example Usage
 * ```ts
 * import { responseWith } from "./response_build.ts";
 * const res = responseWith("pong", { status: 200 }, { "cache-control": "no-cache" });
 * if (res.headers.get("cache-control") !== "no-cache") throw new Error();
 * ```
 *
 * @param body The body.
 * @param init Status and reason.
 * @param headers Fields: a `Headers` (taken as it is), `[name, value]` pairs, or a record of lower-case names.
 * @returns The response.
 */
export function responseWith(
  body: BodySource,
  init: StatusInit,
  headers?: Headers | Readonly<Record<string, string>> | readonly (readonly [string, string])[],
): BuiltResponse {
  const status = init.status ?? 200;
  const statusText = init.statusText ?? "";
  if (headers instanceof Headers) {
    if (typeof body === "string" && !headers.has("content-type")) headers.set("content-type", TEXT_TYPE);
    return new BuiltResponse(status, statusText, headers, body);
  }
  const fields: string[] = [];
  let typed = false;
  if (headers === undefined) { /* none */ }
  else if (isPairs(headers)) {
    for (const [name, value] of headers) typed = add(fields, name.toLowerCase(), value) || typed;
  } else for (const name in headers) typed = add(fields, name, headers[name]!) || typed;
  if (typeof body === "string" && !typed) fields.unshift("content-type", TEXT_TYPE);
  return new BuiltResponse(status, statusText, fields, body);
}

function isPairs(headers: object): headers is readonly (readonly [string, string])[] {
  return Array.isArray(headers);
}

/** Appends a field; a second `content-type` replaces the first. Returns whether it was `content-type`. */
function add(fields: string[], name: string, value: string): boolean {
  if (name !== "content-type") {
    fields.push(name, value);
    return false;
  }
  const i = fields.indexOf("content-type");
  if (i >= 0 && i % 2 === 0) fields[i + 1] = value;
  else fields.push(name, value);
  return true;
}

/**
 * `res`, or a copy of it, whose `headers` may be changed (see {@linkcode HttpResponse.editable}): a fixed answer or an
 * upstream head kept as bytes is copied (status, `headers`, body and trailers; the head's bytes and the body's buffer
 * lease are left behind), any other response is returned as it is.
 */
export function editable(res: HttpResponse): HttpResponse {
  if (res.editable) return res;
  const whole = res.whole;
  return new BuiltResponse(res.status, res.statusText, res.headers, whole ?? res.body, res.trailers);
}

/**
 * An upstream's answer made ready for response hooks: {@linkcode editable}, its `Headers` made now, so that a field
 * that is no valid header fails here, as the upstream's fault.
 *
 * @param res The upstream's answer.
 * @returns The response.
 * @throws {UpstreamError} Kind "protocol" when a field is not a valid header (the body is cancelled).
 */
export function upstreamAnswer(res: HttpResponse): HttpResponse {
  try {
    const out = editable(res);
    void out.headers;
    return out;
  } catch (error) {
    if (res.whole === undefined) res.body?.cancel().catch(() => {});
    throw new UpstreamError("protocol", `Cannot parse response header: ${(error as Error).message}`, true, {
      cause: error,
    });
  }
}

/**
 * The size in bytes of a response's body when it is known without reading it: its whole body, its upstream head's
 * `content-length`, its `content-length` field, or 0 without a body; else undefined.
 */
export function knownBodySize(res: HttpResponse): number | undefined {
  const whole = res.whole;
  if (whole !== undefined) return typeof whole === "string" ? utf8Length(whole) : whole.byteLength;
  const raw = res.rawHead;
  if (raw !== undefined) {
    // An upstream's head as bytes: its length was read with it (its fields are not made for this).
    if (raw.contentLength >= 0) return raw.contentLength;
  } else {
    const fields = res.fields;
    const len = fields !== undefined ? contentLength(fields) : res.headers.get("content-length");
    if (len !== null) {
      const n = Number(len);
      if (Number.isSafeInteger(n) && n >= 0) return n;
    }
  }
  return res.body === null ? 0 : undefined;
}

/** The `content-length` among raw fields (names in any case), or null. */
function contentLength(fields: readonly string[]): string | null {
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name.length === 14 && name.toLowerCase() === "content-length") return fields[i + 1]!;
  }
  return null;
}
