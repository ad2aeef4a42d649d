/**
 * Recording a response head's field lines as the byte scan (`http1_response_head.ts`) meets them: which are
 * hop-by-hop and left out, which decide framing (`content-length`, `transfer-encoding`, `connection`), and, once the
 * head is complete, the fields dropped because `connection` names them or `transfer-encoding` overrides a length.
 * Names are compared as bytes; no string is made for the usual head.
 *
 * @module
 */
import type { ResponseHead } from "./response_head.ts";
import { HeadSyntaxError, latin1Decode, latin1Encode, parseConnection } from "../../http/h1_codec.ts";
import { fieldName, ParsedHead, SPAN, type SpanFacts } from "./head_fields.ts";

const SP = 32;
const HT = 9;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** What the scan found so far, and the field line it is on. */
export interface Scan extends SpanFacts {
  status: number;
  minor: number;
  /** Offset past the blank line. */
  end: number;
  upgrade: boolean;
  contentLength: number;
  te: string;
  close: boolean;
  nominated: string[] | null;
  // The field line being recorded: name `[at, colon)`, value `[vs, ve)` or `folded`, next line at `next`.
  at: number;
  colon: number;
  vs: number;
  ve: number;
  next: number;
  /** Every name character is a tchar. */
  tchar: boolean;
  /** The value has a CR or NUL. */
  badValue: boolean;
  /** Written `name: value` with CRLF. */
  canonical: boolean;
  /** The value with its obs-fold lines, or null. */
  lineFolded: string | null;
}

// Lower-case names the framing depends on, compared with `byte | 0x20` (exact for tchar bytes: no tchar other than
// a capital letter turns into a lower-case letter or "-" that way).
const TE = bytesOf("te");
const DATE = bytesOf("date");
const TRAILER = bytesOf("trailer");
const UPGRADE = bytesOf("upgrade");
const CONNECTION = bytesOf("connection");
const KEEP_ALIVE = bytesOf("keep-alive");
const CONTENT_LENGTH = bytesOf("content-length");
const PROXY_CONNECTION = bytesOf("proxy-connection");
const TRANSFER_ENCODING = bytesOf("transfer-encoding");
const CLOSE = bytesOf("close");

function bytesOf(text: string): Uint8Array {
  return latin1Encode(text, 0);
}

/** Whether `b[at, at + lower.length)` is `lower` in any case. */
function is(b: Uint8Array, at: number, lower: Uint8Array): boolean {
  for (let i = 0; i < lower.length; i++) {
    if ((b[at + i]! | 0x20) !== lower[i]) return false;
  }
  return true;
}

/** Records the scan's current field unless it is hop-by-hop, and the facts of those that decide framing. */
export function commit(s: Scan, b: Uint8Array): void {
  const { at, colon, vs, ve } = s;
  const folded = s.lineFolded;
  if (!s.tchar) {
    throw new HeadSyntaxError(`Cannot parse header: invalid field ${JSON.stringify(nameAt(b, at, colon))}`);
  }
  let forward = true;
  switch (colon - at) {
    case 2:
      if (is(b, at, TE)) return;
      break;
    case 4:
      if (is(b, at, DATE)) s.dated = true;
      break;
    case 7:
      if (is(b, at, TRAILER)) return;
      if (!s.upgrade && is(b, at, UPGRADE)) return;
      break;
    case 10:
      if (is(b, at, CONNECTION)) {
        connection(s, b, folded);
        if (!s.upgrade) return;
      } else if (is(b, at, KEEP_ALIVE)) return;
      break;
    case 14:
      if (is(b, at, CONTENT_LENGTH)) {
        s.contentLength = folded === null
          ? mergeLength(s.contentLength, b, vs, ve)
          : mergeLength(s.contentLength, bytesOf(folded), 0, folded.length);
        forward = false; // the front end writes its own framing
      }
      break;
    case 16:
      if (is(b, at, PROXY_CONNECTION)) return;
      break;
    case 17:
      if (is(b, at, TRANSFER_ENCODING)) {
        const value = folded ?? latin1Decode(b, vs, ve);
        s.te = s.te === "" ? value : s.te + "," + value;
        return;
      }
      break;
  }
  // What `Headers` refuses in a value (a line feed cannot be in one): the fields may go to the client as they are.
  if (s.badValue) throw invalidValue(b, at, colon);
  if (forward && !s.canonical) s.rawable = false;
  if (folded !== null) (s.folded ??= new Map()).set(s.spans.length, folded);
  s.spans.push(at, colon, vs, ve, s.next, forward ? 1 : 0);
}

function invalidValue(b: Uint8Array, pos: number, colon: number): HeadSyntaxError {
  return new HeadSyntaxError(`Cannot parse header: invalid value of ${JSON.stringify(nameAt(b, pos, colon))}`);
}

/** A field name for a message: as in `fields`, at most 64 characters. */
function nameAt(b: Uint8Array, pos: number, colon: number): string {
  return fieldName(b, pos, colon).slice(0, 64);
}

/** Takes in the scan's current field, a `connection`: `close`, and the other fields it names. */
function connection(s: Scan, b: Uint8Array, folded: string | null): void {
  const { vs, ve } = s;
  if (folded === null) {
    // The usual values, without a string (a value byte is not a tchar: a CR in place of the "-" of keep-alive
    // matches too, and that token named no field anyway, since field names are tchars).
    const n = ve - vs;
    if (n === 10 && is(b, vs, KEEP_ALIVE)) return;
    if (n === 5 && is(b, vs, CLOSE)) {
      s.close = true;
      return;
    }
  }
  const tokens = parseConnection(folded ?? latin1Decode(b, vs, ve));
  if (tokens.close) s.close = true;
  if (tokens.others !== null) s.nominated = s.nominated === null ? tokens.others : s.nominated.concat(tokens.others);
}

/** The head, with the fields that `connection` names and a content-length beside transfer-encoding left out. */
export function finish(s: Scan, b: Uint8Array): ResponseHead {
  let { contentLength, close } = s;
  if (s.nominated !== null) {
    const nominated = s.nominated.filter((name) => !s.upgrade || name !== "upgrade");
    drop(s, b, (name) => nominated.includes(name));
  }
  const te = s.te;
  let chunked = false;
  let closeDelimited = false;
  if (te !== "") {
    chunked = endsWithChunked(te);
    closeDelimited = !chunked;
    // RFC 9112 §6.3: with both, transfer-encoding wins and the connection must close afterwards.
    if (contentLength >= 0) {
      close = true;
      drop(s, b, (name) => name === "content-length");
      contentLength = -1;
    }
  }
  const { status, minor, end } = s;
  return new ParsedHead(b, s, { status, minor, end, contentLength, chunked, closeDelimited, close });
}

/** Leaves out the recorded fields whose lower-cased name `drop` says to (rare: no string is made otherwise). */
function drop(s: Scan, b: Uint8Array, dropped: (name: string) => boolean): void {
  const spans = s.spans;
  const kept: number[] = [];
  let folded: Map<number, string> | null = null;
  for (let i = 0; i < spans.length; i += SPAN) {
    if (dropped(latin1Decode(b, spans[i]!, spans[i + 1]!).toLowerCase())) continue;
    const value = s.folded?.get(i);
    if (value !== undefined) (folded ??= new Map()).set(kept.length, value);
    for (let k = 0; k < SPAN; k++) kept.push(spans[i + k]!);
  }
  s.spans = kept;
  s.folded = folded;
}

function mergeLength(current: number, b: Uint8Array, from: number, to: number): number {
  // Accept "N" and the list form "N, N" of identical values (RFC 9110 §8.6).
  let n = -1;
  let i = from;
  while (i < to) {
    let v = 0;
    let digits = 0;
    while (i < to && isDigit(b[i]!)) {
      v = v * 10 + b[i]! - 48;
      digits++;
      i++;
    }
    if (digits === 0 || digits > 15 || (n >= 0 && v !== n)) throw badLength(b, from, to);
    n = v;
    while (i < to && (b[i] === SP || b[i] === HT)) i++;
    if (i < to) {
      if (b[i] !== 44) throw badLength(b, from, to);
      i++;
      while (i < to && (b[i] === SP || b[i] === HT)) i++;
    }
  }
  if (n < 0) throw badLength(b, from, to);
  if (current >= 0 && current !== n) throw new HeadSyntaxError("Cannot parse content-length: conflicting values");
  return n;
}

function badLength(b: Uint8Array, from: number, to: number): HeadSyntaxError {
  return new HeadSyntaxError(`Cannot parse content-length: "${latin1Decode(b, from, to)}"`);
}

function endsWithChunked(te: string): boolean {
  let end = te.length;
  while (end > 0 && (te.charCodeAt(end - 1) === SP || te.charCodeAt(end - 1) === HT)) end--;
  if (end < 7 || te.slice(end - 7, end).toLowerCase() !== "chunked") return false;
  if (end === 7) return true;
  const before = te.charCodeAt(end - 8);
  return before === 44 || before === SP || before === HT;
}
