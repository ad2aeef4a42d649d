/**
 * A parsed response head over its own bytes: what the scan decided (status, framing), and what it only located —
 * reason phrase, field strings, `Headers`, the raw ranges a front end copies — made from the bytes on first read.
 *
 * @module
 */
import type { RawResponseHead } from "../../http/message.ts";
import type { ResponseHead } from "./response_head.ts";
import { copyBytes, HeadSyntaxError, latin1Decode } from "../../http/h1_codec.ts";

/** Numbers recorded per field in {@linkcode SpanFacts.spans}. */
export const SPAN = 6;

/** What the scan of a head recorded, as offsets in the buffer it was scanned in. */
export interface SpanFacts {
  /** Start of the status line. */
  start: number;
  /**
   * Per field kept (hop-by-hop ones left out), {@linkcode SPAN} numbers: name start, name end (its colon), value
   * start and end (spaces around it left out), the start of the next line, and 1 when the line goes to a client as
   * it is (0 for `content-length`: the front end writes its own framing).
   */
  spans: number[];
  /** Values that had obs-fold lines, as folded (RFC 9112 §5.2), by their index in `spans`; null when none did. */
  folded: Map<number, string> | null;
  /** End of the status line, before its line break. */
  statusEnd: number;
  /** Whether the status line and every forwarded line can go to a client byte for byte. */
  rawable: boolean;
  /** Whether a `date` field is among the fields. */
  dated: boolean;
}

/** What the scan decided. */
type Decided = Pick<
  ResponseHead,
  "status" | "minor" | "end" | "contentLength" | "chunked" | "closeDelimited" | "close"
>;

/** A parsed head; its strings, `Headers` and raw ranges are made on first read. */
export class ParsedHead implements ResponseHead {
  readonly status: number;
  readonly minor: number;
  readonly end: number;
  readonly contentLength: number;
  readonly chunked: boolean;
  readonly closeDelimited: boolean;
  readonly close: boolean;
  /** The head's copy of its bytes: offset `o` of the scanned buffer is `o + #delta` in it. */
  readonly #bytes: Uint8Array;
  readonly #delta: number;
  readonly #facts: SpanFacts;
  #statusText: string | undefined;
  #fields: string[] | undefined;
  #headers: Headers | undefined;
  #raw: RawResponseHead | null | undefined;

  /**
   * @param buf The buffer the head was scanned in (copied from: it may be reused once this returns).
   * @param facts What the scan recorded.
   * @param decided Status and framing; `end` is the offset past the head's blank line in `buf`.
   */
  constructor(buf: Uint8Array, facts: SpanFacts, decided: Decided) {
    this.#bytes = copyBytes(buf, facts.start, decided.end);
    this.#delta = -facts.start;
    this.#facts = facts;
    this.status = decided.status;
    this.minor = decided.minor;
    this.end = decided.end;
    this.contentLength = decided.contentLength;
    this.chunked = decided.chunked;
    this.closeDelimited = decided.closeDelimited;
    this.close = decided.close;
  }

  get statusText(): string {
    const { start, statusEnd } = this.#facts;
    const d = this.#delta;
    return this.#statusText ??= statusEnd - start > 13 ? latin1Decode(this.#bytes, start + 13 + d, statusEnd + d) : "";
  }

  get fields(): readonly string[] {
    return this.#fields ??= fieldsOf(this.#bytes, this.#delta, this.#facts);
  }

  get headers(): Headers {
    return this.#headers ??= headersOf(this.fields);
  }

  get raw(): RawResponseHead | undefined {
    if (this.#raw === undefined) {
      this.#raw = this.#facts.rawable ? rawOf(this.#bytes, this.#delta, this.#facts, this.contentLength) : null;
    }
    return this.#raw ?? undefined;
  }
}

/** `[name, value, …]` of the recorded fields (see {@linkcode fieldName}), from `b`, where offset `o` is `o + d`. */
function fieldsOf(b: Uint8Array, d: number, facts: SpanFacts): string[] {
  const { spans, folded } = facts;
  const out: string[] = [];
  for (let i = 0; i < spans.length; i += SPAN) {
    const value = folded?.get(i) ?? latin1Decode(b, spans[i + 2]! + d, spans[i + 3]! + d);
    out.push(fieldName(b, spans[i]! + d, spans[i + 1]! + d), value);
  }
  return out;
}

/**
 * The field name at `b[start, end)` as a string: lower-cased when as long as a hop-by-hop or framing field (2, 7,
 * 10, 14, 16 or 17 characters), as received otherwise (`Headers` lower-cases it when it is made).
 */
export function fieldName(b: Uint8Array, start: number, end: number): string {
  const n = end - start;
  const name = latin1Decode(b, start, end);
  return n === 2 || n === 7 || n === 10 || n === 14 || n === 16 || n === 17 ? name.toLowerCase() : name;
}

/** The status line after its version and the forwarded lines, adjacent ones as one range. */
function rawOf(bytes: Uint8Array, d: number, facts: SpanFacts, contentLength: number): RawResponseHead {
  const spans = facts.spans;
  const ranges = [facts.start + 8 + d, facts.statusEnd + 2 + d];
  let size = facts.statusEnd + 2 - facts.start;
  for (let i = 0; i < spans.length; i += SPAN) {
    if (spans[i + 5] === 0) continue;
    const start = spans[i]! + d;
    const end = spans[i + 4]! + d;
    size += end - start;
    if (ranges[ranges.length - 1] === start) ranges[ranges.length - 1] = end;
    else ranges.push(start, end);
  }
  return { bytes, ranges, size, dated: facts.dated, contentLength };
}

/**
 * `Headers` holding `fields` (`[name, value, …]`).
 *
 * @throws {HeadSyntaxError} For a field name or value that is not valid.
 */
export function headersOf(fields: readonly string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i < fields.length; i += 2) {
    try {
      headers.append(fields[i]!, fields[i + 1]!);
    } catch {
      throw new HeadSyntaxError(`Cannot parse header: invalid field ${JSON.stringify(fields[i]!.slice(0, 64))}`);
    }
  }
  return headers;
}
