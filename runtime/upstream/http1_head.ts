/**
 * HTTP/1.1 message heads for the upstream client: parses a response head out of a byte buffer and encodes a
 * request head. Only the head is ever decoded to a string (isomorphic latin1, so header bytes survive as they are);
 * the search for the blank line and the framing decisions are byte- and char-code-level, with no regex.
 *
 * @module
 */
import { fieldValue, isHopByHop, type RequestFields } from "../headers_copy.ts";

/** The largest response head accepted, in bytes (status line, headers and blank line). */
export const MAX_HEAD_SIZE = 128 * 1024;

/** What the client needs from a response head: status, headers, framing and connection facts. */
export interface ResponseHead {
  /** Status code, 100–999. */
  readonly status: number;
  /** Reason phrase, possibly empty. */
  readonly statusText: string;
  /** Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly minor: number;
  /** Headers with hop-by-hop fields removed (`connection` and `upgrade` kept for a 101), built on first read. */
  readonly headers: Headers;
  /** The same fields as `[name, value, …]` in arrival order, names as received (not validated yet). */
  readonly fields: readonly string[];
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

/** A response head that breaks HTTP/1.1 syntax. */
export class HeadSyntaxError extends SyntaxError {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "HeadSyntaxError";
  }
}

const LF = 10;
const CR = 13;
const SP = 32;
const HT = 9;

/**
 * Finds the end of a head in `buf[start, end)`: the offset just past the first empty line (CRLF CRLF or LF LF).
 *
 * @param buf Buffer holding the bytes.
 * @param start First byte of the head.
 * @param end End of the valid bytes.
 * @returns The offset past the blank line, or -1 when the head is not complete yet.
 */
export function findHeadEnd(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end) {
    const lf = buf.indexOf(LF, i);
    if (lf < 0 || lf >= end) return -1;
    const next = lf + 1;
    if (next < end) {
      const b = buf[next];
      if (b === LF) return next + 1;
      if (b === CR) {
        if (next + 1 >= end) return -1;
        if (buf[next + 1] === LF) return next + 2;
      }
    }
    i = next;
  }
  return -1;
}

const asciiDecoder = new TextDecoder();

/**
 * Decodes bytes one char per byte (isomorphic decode), the way `Headers` stores byte strings.
 *
 * @param buf Buffer holding the bytes.
 * @param start First byte.
 * @param end End (exclusive).
 * @returns A string whose char codes are the bytes.
 */
export function latin1Decode(buf: Uint8Array, start: number, end: number): string {
  // Heads are nearly always ASCII, which the native decoder turns into a string about 3× faster than fromCharCode.
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (buf[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return asciiDecoder.decode(buf.subarray(start, end));
  let s = "";
  for (let i = start; i < end; i += 8192) {
    const part = buf.subarray(i, Math.min(end, i + 8192));
    s += String.fromCharCode.apply(null, part as unknown as number[]);
  }
  return s;
}

/**
 * Parses a response head from `buf[start, end)`.
 *
 * Leading empty lines are skipped. Hop-by-hop fields (`connection`, `keep-alive`, `proxy-connection`,
 * `transfer-encoding`, `te`, `trailer`, `upgrade`, and the fields that `connection` names) are left out of the
 * returned headers; for a 101 `connection` and `upgrade` stay.
 *
 * @param buf Buffer holding the bytes.
 * @param start First byte of the response.
 * @param end End of the valid bytes.
 * @returns The parsed head, or null when more bytes are needed.
 * @throws {HeadSyntaxError} When the head is malformed or larger than {@linkcode MAX_HEAD_SIZE}.
 */
export function parseResponseHead(buf: Uint8Array, start: number, end: number): ResponseHead | null {
  while (start < end && (buf[start] === CR || buf[start] === LF)) start++;
  const headEnd = findHeadEnd(buf, start, end);
  if (headEnd < 0) {
    if (end - start > MAX_HEAD_SIZE) throw new HeadSyntaxError("Cannot parse response head: larger than 128 KiB");
    return null;
  }
  if (headEnd - start > MAX_HEAD_SIZE) throw new HeadSyntaxError("Cannot parse response head: larger than 128 KiB");
  const text = latin1Decode(buf, start, headEnd);
  return parseHeadText(text, headEnd);
}

function lineEnd(text: string, from: number): number {
  const lf = text.indexOf("\n", from);
  return lf > from && text.charCodeAt(lf - 1) === CR ? lf - 1 : lf;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function parseHeadText(text: string, headEnd: number): ResponseHead {
  // Status line: HTTP/1.x SP 3DIGIT [SP reason]
  let eol = lineEnd(text, 0);
  if (
    eol < 12 || !text.startsWith("HTTP/1.") || text.charCodeAt(8) !== SP || !isDigit(text.charCodeAt(9)) ||
    !isDigit(text.charCodeAt(10)) || !isDigit(text.charCodeAt(11)) || (eol > 12 && text.charCodeAt(12) !== SP)
  ) {
    throw new HeadSyntaxError(`Cannot parse status line: ${JSON.stringify(text.slice(0, Math.min(eol, 64)))}`);
  }
  const minor = text.charCodeAt(7) - 48;
  if (minor !== 0 && minor !== 1) throw new HeadSyntaxError("Cannot parse status line: unsupported HTTP version");
  const status = (text.charCodeAt(9) - 48) * 100 + (text.charCodeAt(10) - 48) * 10 + text.charCodeAt(11) - 48;
  if (status < 100) throw new HeadSyntaxError(`Cannot parse status line: status ${status}`);
  const statusText = eol > 13 ? text.slice(13, eol) : "";
  const upgrade = status === 101;

  const acc: FieldFacts = {
    fields: [],
    upgrade,
    contentLength: -1,
    te: "",
    close: minor === 0,
    nominated: null,
  };
  let lastName = "";
  let lastValue = "";
  let pos = text.indexOf("\n", eol) + 1;
  for (;;) {
    eol = lineEnd(text, pos);
    if (eol <= pos) break; // the blank line
    const first = text.charCodeAt(pos);
    if (first === SP || first === HT) {
      // obs-fold: replace with a space (RFC 9112 §5.2) and append to the previous field.
      if (lastName === "") throw new HeadSyntaxError("Cannot parse header: continuation line without a field");
      lastValue += " " + trimOws(text, pos, eol);
      pos = text.indexOf("\n", eol) + 1;
      continue;
    }
    if (lastName !== "") commitField(acc, lastName, lastValue);
    const colon = text.indexOf(":", pos);
    if (colon < 0 || colon > eol) throw new HeadSyntaxError("Cannot parse header: missing colon");
    if (colon === pos) throw new HeadSyntaxError("Cannot parse header: empty field name");
    const last = text.charCodeAt(colon - 1);
    if (last === SP || last === HT) throw new HeadSyntaxError("Cannot parse header: whitespace before colon");
    lastName = text.slice(pos, colon);
    lastValue = trimOws(text, colon + 1, eol);
    pos = text.indexOf("\n", eol) + 1;
  }
  if (lastName !== "") commitField(acc, lastName, lastValue);
  let fields = acc.fields;
  let { contentLength, close } = acc;
  if (acc.nominated !== null) {
    const nominated = acc.nominated.filter((name) => !upgrade || name !== "upgrade");
    fields = withoutFields(fields, (name) => nominated.includes(name));
  }
  const te = acc.te;
  let chunked = false;
  let closeDelimited = false;
  if (te !== "") {
    chunked = endsWithChunked(te);
    closeDelimited = !chunked;
    // RFC 9112 §6.3: with both, transfer-encoding wins and the connection must close afterwards.
    if (contentLength >= 0) {
      close = true;
      fields = withoutFields(fields, (name) => name === "content-length");
      contentLength = -1;
    }
  }
  return new ParsedHead(status, statusText, minor, fields, headEnd, contentLength, chunked, closeDelimited, close);
}

/** A parsed head; its `Headers` are made (and the field names and values checked) on first read. */
class ParsedHead implements ResponseHead {
  #headers: Headers | undefined;

  constructor(
    readonly status: number,
    readonly statusText: string,
    readonly minor: number,
    readonly fields: readonly string[],
    readonly end: number,
    readonly contentLength: number,
    readonly chunked: boolean,
    readonly closeDelimited: boolean,
    readonly close: boolean,
  ) {}

  get headers(): Headers {
    return this.#headers ??= headersOf(this.fields);
  }
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

/** `fields` without those whose lower-cased name `drop` says to leave out. */
function withoutFields(fields: string[], drop: (name: string) => boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < fields.length; i += 2) {
    if (!drop(fields[i]!.toLowerCase())) out.push(fields[i]!, fields[i + 1]!);
  }
  return out;
}

function trimOws(text: string, from: number, to: number): string {
  while (from < to) {
    const c = text.charCodeAt(from);
    if (c !== SP && c !== HT) break;
    from++;
  }
  while (to > from) {
    const c = text.charCodeAt(to - 1);
    if (c !== SP && c !== HT) break;
    to--;
  }
  return text.slice(from, to);
}

/** Facts gathered while adding fields. */
interface FieldFacts {
  readonly fields: string[];
  readonly upgrade: boolean;
  contentLength: number;
  te: string;
  close: boolean;
  nominated: string[] | null;
}

/** Adds one field unless it is hop-by-hop, and records the fields that decide framing. */
function commitField(acc: FieldFacts, rawName: string, value: string): void {
  // Only names as long as a hop-by-hop or framing field need lower-casing (`Headers` lower-cases the rest).
  const length = rawName.length;
  const name = length === 2 || length === 7 || length === 10 || length === 14 || length === 16 || length === 17
    ? rawName.toLowerCase()
    : rawName;
  switch (length) {
    case 2:
      if (name === "te") return;
      break;
    case 7:
      if (name === "trailer") return;
      if (name === "upgrade" && !acc.upgrade) return;
      break;
    case 10:
      if (name === "connection") {
        const tokens = parseConnection(value);
        if (tokens.close) acc.close = true;
        if (tokens.others !== null) {
          acc.nominated = acc.nominated === null ? tokens.others : acc.nominated.concat(tokens.others);
        }
        if (!acc.upgrade) return;
      } else if (name === "keep-alive") return;
      break;
    case 14:
      if (name === "content-length") acc.contentLength = mergeLength(acc.contentLength, value);
      break;
    case 16:
      if (name === "proxy-connection") return;
      break;
    case 17:
      if (name === "transfer-encoding") {
        acc.te = acc.te === "" ? value : acc.te + "," + value;
        return;
      }
      break;
  }
  for (let i = 0; i < length; i++) {
    const c = name.charCodeAt(i);
    if (c > 127 || TCHAR[c] === 0) {
      throw new HeadSyntaxError(`Cannot parse header: invalid field ${JSON.stringify(name.slice(0, 64))}`);
    }
  }
  // What `Headers` refuses in a value (a line feed cannot be in one): the fields may go to the client as they are.
  if (value.indexOf("\r") >= 0 || value.indexOf("\0") >= 0) {
    throw new HeadSyntaxError(`Cannot parse header: invalid value of ${JSON.stringify(name.slice(0, 64))}`);
  }
  acc.fields.push(name, value);
}

/** 1 for the characters of a field name (`tchar`, RFC 9110 §5.6.2). */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TCHAR[c.charCodeAt(0)] = 1;
}

function mergeLength(current: number, value: string): number {
  // Accept "N" and the list form "N, N" of identical values (RFC 9110 §8.6).
  let n = -1;
  let i = 0;
  const len = value.length;
  while (i < len) {
    let v = 0;
    let digits = 0;
    while (i < len && isDigit(value.charCodeAt(i))) {
      v = v * 10 + value.charCodeAt(i) - 48;
      digits++;
      i++;
    }
    if (digits === 0 || digits > 15) throw new HeadSyntaxError(`Cannot parse content-length: "${value}"`);
    if (n >= 0 && v !== n) throw new HeadSyntaxError(`Cannot parse content-length: "${value}"`);
    n = v;
    while (i < len && (value.charCodeAt(i) === SP || value.charCodeAt(i) === HT)) i++;
    if (i < len) {
      if (value.charCodeAt(i) !== 44) throw new HeadSyntaxError(`Cannot parse content-length: "${value}"`);
      i++;
      while (i < len && (value.charCodeAt(i) === SP || value.charCodeAt(i) === HT)) i++;
    }
  }
  if (n < 0) throw new HeadSyntaxError(`Cannot parse content-length: "${value}"`);
  if (current >= 0 && current !== n) throw new HeadSyntaxError("Cannot parse content-length: conflicting values");
  return n;
}

function endsWithChunked(te: string): boolean {
  let end = te.length;
  while (end > 0 && (te.charCodeAt(end - 1) === SP || te.charCodeAt(end - 1) === HT)) end--;
  if (end < 7 || te.slice(end - 7, end).toLowerCase() !== "chunked") return false;
  if (end === 7) return true;
  const before = te.charCodeAt(end - 8);
  return before === 44 || before === SP || before === HT;
}

function parseConnection(value: string): { close: boolean; others: string[] | null } {
  let close = false;
  let others: string[] | null = null;
  for (const raw of value.split(",")) {
    const token = raw.trim().toLowerCase();
    if (token === "close") close = true;
    else if (token !== "" && token !== "keep-alive") (others ??= []).push(token);
  }
  return { close, others };
}

const encoder = new TextEncoder();

/**
 * Encodes `text` one byte per char into a new buffer with `extra` spare bytes at the end.
 *
 * @param text A byte string (every char code at most 0xFF).
 * @param extra Bytes to reserve after the text.
 * @returns The buffer; the text fills its first `text.length` bytes.
 */
export function latin1Encode(text: string, extra: number): Uint8Array {
  const n = text.length;
  const out = new Uint8Array(n + extra);
  const r = encoder.encodeInto(text, n === out.length ? out : out.subarray(0, n));
  if (r.read !== n || r.written !== n) {
    for (let i = 0; i < n; i++) out[i] = text.charCodeAt(i);
  }
  return out;
}

/** How the request body is framed on the wire. */
export type RequestFraming = "none" | "length" | "chunked";

/**
 * Builds the request head text: request line, headers and the blank line.
 *
 * Adds `host` when missing and `transfer-encoding: chunked` for a chunked body. Hop-by-hop fields in `headers`
 * (`connection` and the fields it names, `keep-alive`, `proxy-connection`, `te`, `trailer`, `upgrade`,
 * `transfer-encoding`: the client frames the body itself) are left out, except that a request for an upgrade
 * (`connection` naming `upgrade`, and `upgrade`) sends `connection: upgrade` and its `upgrade`.
 *
 * @param method Request method.
 * @param target Request target (path and query).
 * @param headers Final request headers.
 * @param options `host` to add when `headers` has none, `framing` of the body, and `zeroLength` to add
 *   `content-length: 0`.
 * @returns The head as a byte string.
 * @throws {TypeError} When the method or target contains whitespace or control characters.
 */
export function buildRequestHead(
  method: string,
  target: string,
  headers: RequestFields,
  options: { host: string; framing: RequestFraming; zeroLength: boolean },
): string {
  if (!isToken(method)) throw new TypeError(`Cannot send request: invalid method "${method}"`);
  if (!isTarget(target)) throw new TypeError(`Cannot send request: invalid target "${target}"`);
  let head = method + " " + target + " HTTP/1.1\r\n";
  let hasHost = false;
  const connection = fieldValue(headers, "connection");
  const nominated = connection === null ? null : parseConnection(connection).others;
  // An upgrade asked for (`connection: upgrade` with `upgrade`) keeps both.
  const upgrade = nominated !== null && nominated.includes("upgrade") && fieldValue(headers, "upgrade") !== null;
  if (upgrade) head += "connection: upgrade\r\n";
  const addField = (value: string, name: string) => {
    if (upgrade && name === "upgrade") head += "upgrade: " + value + "\r\n";
    if (isHopByHop(name) || (nominated !== null && nominated.includes(name))) return;
    if (name === "host") hasHost = true;
    head += name + ": " + value + "\r\n";
  };
  // forEach, not for…of: Deno's pair iterator costs about 6× as much (see runtime/headers_copy.ts).
  if (headers instanceof Headers) headers.forEach(addField);
  else for (let i = 0; i < headers.length; i += 2) addField(headers[i + 1]!, headers[i]!);
  if (!hasHost) head += "host: " + options.host + "\r\n";
  if (options.framing === "chunked") head += "transfer-encoding: chunked\r\n";
  else if (options.zeroLength) head += "content-length: 0\r\n";
  return head + "\r\n";
}

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= SP || c >= 127 || c === 58 /* : */ || c === 47 /* / */) return false;
  }
  return true;
}

function isTarget(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= SP || c === 127 || c > 255) return false;
  }
  return true;
}
