/**
 * A plugin's fixed answer (ping, a mock without delay), made once when the plan is activated: its status line and
 * fields are bytes ready for the HTTP/1.1 front end, which writes them as it writes an upstream's head, so a request
 * answered this way makes no `Response` and no `Headers`. It serves every request, so it is not
 * {@linkcode StaticAnswer.editable}: response hooks change a copy (`editable()` of response_build.ts).
 *
 * @module
 */
import { reasonPhrase } from "../listen/h1/response.ts";
import type { HttpResponse, RawResponseHead } from "./message.ts";
import { oneChunk } from "./one_chunk.ts";

const encoder = new TextEncoder();

/** A fixed answer: status, fields and a whole body, the same for every request. */
export class StaticAnswer implements HttpResponse {
  readonly status: number;
  readonly statusText = "";
  /** `[name, value, …]`, names in lower case. */
  readonly fields: readonly string[];
  readonly rawHead: RawResponseHead;
  readonly whole: Uint8Array<ArrayBuffer>;
  /** Shared by every request: changes go to a copy. */
  readonly editable = false;
  readonly #pairs: readonly (readonly [string, string])[];
  readonly #empty: boolean;

  /**
   * @param status The status.
   * @param fields The fields, in order (names in any case; framing and `date` are the front end's).
   * @param body The body; null for none (204 and 304 never carry one).
   */
  constructor(status: number, fields: readonly (readonly [string, string])[], body: Uint8Array | string | null) {
    this.status = status;
    this.#pairs = fields.map(([name, value]) => [name.toLowerCase(), value] as const);
    this.fields = this.#pairs.flat();
    this.#empty = body === null;
    this.whole = typeof body === "string"
      ? encoder.encode(body)
      : body === null
      ? new Uint8Array(0)
      : Uint8Array.from(body);
    let text = ` ${status} ${reasonPhrase(status)}\r\n`;
    for (const [name, value] of this.#pairs) text += `${name}: ${value}\r\n`;
    const bytes = encoder.encode(text);
    this.rawHead = {
      bytes,
      ranges: [0, bytes.byteLength],
      size: 8 + bytes.byteLength,
      dated: false,
      contentLength: this.whole.byteLength,
    };
  }

  /** The fields as a new `Headers` (read only by what needs one: a log key, a drain). */
  get headers(): Headers {
    return new Headers(this.#pairs as [string, string][]);
  }

  /** The body as a new stream of a copy (the answer's own bytes serve every request), or null. */
  get body(): ReadableStream<Uint8Array> | null {
    return this.#empty ? null : oneChunk(this.whole.slice());
  }
}
