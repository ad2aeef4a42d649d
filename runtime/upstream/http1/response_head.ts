/**
 * The response head of the HTTP/1.1 client, parsed on bytes: the status line and each field line are scanned in the
 * buffer and the framing facts decided by comparing bytes. Nothing is decoded to a string unless someone reads it:
 * the field strings and `Headers` (for a `Response`), or the head's raw byte ranges (for a front end that copies them
 * to its client as they are) are made from the head's own copy of its bytes on first read (`http1_head_fields.ts`).
 * What each field line means for the head is `http1_head_record.ts`'s.
 *
 * @module
 */
import type { RawResponseHead } from "../../http/message.ts";
import { HeadSyntaxError, latin1Decode, MAX_HEAD_SIZE, TCHAR } from "../../http/h1_codec.ts";
import { commit, finish, type Scan } from "./head_record.ts";

/** What the client needs from a response head: status, headers, framing and connection facts. */
export interface ResponseHead {
  /** Status code, 100–999. */
  readonly status: number;
  /** Reason phrase, possibly empty (decoded on first read). */
  readonly statusText: string;
  /** Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly minor: number;
  /** Headers with hop-by-hop fields removed (`connection` and `upgrade` kept for a 101), built on first read. */
  readonly headers: Headers;
  /**
   * The same fields as `[name, value, …]` in arrival order, names as received except that names as long as a
   * hop-by-hop or framing field (2, 7, 10, 14, 16 or 17 characters) are lower-cased; made on first read.
   */
  readonly fields: readonly string[];
  /**
   * The head as bytes for a client that takes it as it is (see {@linkcode RawResponseHead}), made on first read;
   * undefined when the head must be rewritten: a 101, an empty reason phrase, a line that does not end with CRLF, an
   * obs-fold, or a forwarded field not written as `name: value`.
   */
  readonly raw: RawResponseHead | undefined;
  /** Buffer offset just past the blank line that ends the head. */
  readonly end: number;
  /** `content-length`, or -1 when absent. */
  readonly contentLength: number;
  /** `transfer-encoding` ends with `chunked`. */
  readonly chunked: boolean;
  /** `transfer-encoding` is present but does not end with `chunked`: the body runs until close. */
  readonly closeDelimited: boolean;
  /** The connection cannot be reused after this response (`connection: close`, HTTP/1.0, both TE and CL). */
  readonly close: boolean;
}

const LF = 10;
const CR = 13;
const SP = 32;
const HT = 9;
const COLON = 58;

/**
 * Parses a response head from `buf[start, end)`.
 *
 * Leading empty lines are skipped. Hop-by-hop fields (`connection`, `keep-alive`, `proxy-connection`,
 * `transfer-encoding`, `te`, `trailer`, `upgrade`, and the fields that `connection` names) are left out of the
 * returned fields; for a 101 `connection` and `upgrade` stay. The head keeps a copy of its bytes: `buf` may be
 * reused as soon as this returns.
 *
 * @param buf Buffer holding the bytes.
 * @param start First byte of the response.
 * @param end End of the valid bytes.
 * @returns The parsed head, or null when more bytes are needed.
 * @throws {HeadSyntaxError} When the head is malformed or larger than {@linkcode MAX_HEAD_SIZE}.
 */
export function parseResponseHead(buf: Uint8Array, start: number, end: number): ResponseHead | null {
  while (start < end && (buf[start] === CR || buf[start] === LF)) start++;
  const s = scanHead(buf, start, end);
  if (s === null) {
    if (end - start > MAX_HEAD_SIZE) throw new HeadSyntaxError("Cannot parse response head: larger than 128 KiB");
    return null;
  }
  if (s.end - start > MAX_HEAD_SIZE) throw new HeadSyntaxError("Cannot parse response head: larger than 128 KiB");
  return finish(s, buf);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** The end of the line from `from` whose LF is at `lf`: before its CR when there is one. */
function lineEnd(b: Uint8Array, from: number, lf: number): number {
  return lf > from && b[lf - 1] === CR ? lf - 1 : lf;
}

/** Scans the head at `b[start, end)`; null when its end has not arrived yet. */
function scanHead(b: Uint8Array, start: number, end: number): Scan | null {
  // Status line: HTTP/1.x SP 3DIGIT [SP reason]
  let lf = b.indexOf(LF, start);
  if (lf < 0 || lf >= end) return null;
  const eol = lineEnd(b, start, lf);
  const o = start;
  if (
    eol - o < 12 || b[o] !== 72 || b[o + 1] !== 84 || b[o + 2] !== 84 || b[o + 3] !== 80 || b[o + 4] !== 47 ||
    b[o + 5] !== 49 || b[o + 6] !== 46 || b[o + 8] !== SP || !isDigit(b[o + 9]!) || !isDigit(b[o + 10]!) ||
    !isDigit(b[o + 11]!) || (eol - o > 12 && b[o + 12] !== SP)
  ) {
    const shown = latin1Decode(b, o, Math.min(eol, o + 64));
    throw new HeadSyntaxError(`Cannot parse status line: ${JSON.stringify(shown)}`);
  }
  const minor = b[o + 7]! - 48;
  if (minor !== 0 && minor !== 1) throw new HeadSyntaxError("Cannot parse status line: unsupported HTTP version");
  const status = (b[o + 9]! - 48) * 100 + (b[o + 10]! - 48) * 10 + b[o + 11]! - 48;
  if (status < 100) throw new HeadSyntaxError(`Cannot parse status line: status ${status}`);
  const upgrade = status === 101;
  const s: Scan = {
    spans: [],
    folded: null,
    start,
    statusEnd: eol,
    // Copied as it is: the status line ends with CRLF and has a reason phrase; not a 101 (connection is kept).
    rawable: !upgrade && eol - o > 13 && lf === eol + 1,
    dated: false,
    status,
    minor,
    end: -1,
    upgrade,
    contentLength: -1,
    te: "",
    close: minor === 0,
    nominated: null,
    at: 0,
    colon: 0,
    vs: 0,
    ve: 0,
    next: 0,
    tchar: true,
    badValue: false,
    canonical: true,
    lineFolded: null,
  };
  let pos = lf + 1;
  for (;;) {
    const first = b[pos];
    // An obs-fold line that follows a field is taken with that field below.
    if (first === SP || first === HT) {
      throw new HeadSyntaxError("Cannot parse header: continuation line without a field");
    }
    // One pass over the line: the name up to its colon, then the value up to the line feed.
    let i = pos;
    let c = 0;
    let tchar = true;
    for (; i < end; i++) {
      c = b[i]!;
      if (c === COLON || c === LF) break;
      if (c > 127 || TCHAR[c] === 0) tchar = false;
    }
    if (i >= end) return null;
    if (c === LF) {
      if (lineEnd(b, pos, i) <= pos) { // the blank line
        lf = i;
        break;
      }
      throw new HeadSyntaxError("Cannot parse header: missing colon");
    }
    const colon = i;
    if (colon === pos) throw new HeadSyntaxError("Cannot parse header: empty field name");
    const last = b[colon - 1];
    if (last === SP || last === HT) throw new HeadSyntaxError("Cannot parse header: whitespace before colon");
    // What `Headers` refuses in a value (a line feed cannot be in one) is noted: a CR or NUL.
    let crs = 0;
    let nul = false;
    for (i = colon + 1; i < end; i++) {
      c = b[i]!;
      if (c <= CR) {
        if (c === LF) break;
        if (c === CR) crs++;
        else if (c === 0) nul = true;
      }
    }
    if (i >= end) return null;
    lf = i;
    const fieldEnd = lineEnd(b, pos, lf);
    let vs = colon + 1;
    while (vs < fieldEnd && (b[vs] === SP || b[vs] === HT)) vs++;
    let ve = fieldEnd;
    while (ve > vs && (b[ve - 1] === SP || b[ve - 1] === HT)) ve--;
    let next = lf + 1;
    if (next >= end) return null; // whether an obs-fold follows is not known yet
    let folded: string | null = null;
    // obs-fold: each continuation line is replaced with a space and its text (RFC 9112 §5.2).
    while (b[next] === SP || b[next] === HT) {
      const flf = b.indexOf(LF, next);
      if (flf < 0 || flf + 1 >= end) return null;
      folded = (folded ?? latin1Decode(b, vs, ve)) + " " + trimmed(b, next, lineEnd(b, next, flf));
      next = flf + 1;
    }
    s.at = pos;
    s.colon = colon;
    s.vs = vs;
    s.ve = ve;
    s.next = next;
    s.tchar = tchar;
    s.badValue = nul || crs > (fieldEnd < lf ? 1 : 0) || (folded !== null && badText(folded));
    // Copied as it is only when written `name: value` with CRLF, and not folded.
    s.canonical = folded === null && fieldEnd < lf && b[colon + 1] === SP && vs === colon + 2 && ve === fieldEnd;
    s.lineFolded = folded;
    commit(s, b);
    pos = next;
  }
  s.end = lf + 1;
  return s;
}

/** Whether a folded value has a CR or NUL. */
function badText(value: string): boolean {
  return value.indexOf("\r") >= 0 || value.indexOf("\0") >= 0;
}

/** `b[from, to)` without surrounding spaces and tabs, as a string. */
function trimmed(b: Uint8Array, from: number, to: number): string {
  while (from < to && (b[from] === SP || b[from] === HT)) from++;
  while (to > from && (b[to - 1] === SP || b[to - 1] === HT)) to--;
  return latin1Decode(b, from, to);
}
