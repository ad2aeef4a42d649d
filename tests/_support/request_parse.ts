/**
 * The HTTP/1.1 request parser of the test origins that read raw TCP (tests/_support/recording_origin.ts,
 * tests/hostile/recording_origin.ts): text is latin1, one char per byte. Strict where a proxy must be (a request
 * line of token, target and version; a `content-length` of digits; `transfer-encoding: chunked` only), so that
 * what a proxy sent wrong shows as "junk" or "bad" rather than as a request.
 *
 * @module
 */

/** A request head parsed from the start of a buffer. */
export interface RequestHead {
  readonly method: string;
  readonly target: string;
  /** The request line, e.g. `GET / HTTP/1.1`. */
  readonly line: string;
  /** The head as received, request line and final CRLFCRLF included. */
  readonly head: string;
  /** Lower-cased names, repeated ones joined by `, `. */
  readonly headers: Record<string, string>;
}

const TOKEN_START = /^[!#$%&'*+.^_`|~0-9A-Za-z-]/;
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/1\.[01]$/;

/**
 * The request head at the start of `buf`: "need" when it has not all come yet, "junk" when the bytes are not a
 * request (no request line, or more than 2 MB without the end of a head).
 */
export function parseRequestHead(buf: string): RequestHead | "need" | "junk" {
  const headEnd = buf.indexOf("\r\n\r\n");
  if (headEnd < 0) return buf.length > 2_000_000 || (buf.length > 0 && !TOKEN_START.test(buf)) ? "junk" : "need";
  const head = buf.slice(0, headEnd + 4);
  const lines = head.slice(0, -4).split("\r\n");
  const m = REQUEST_LINE.exec(lines[0]!);
  if (!m) return "junk";
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    const k = line.slice(0, colon).toLowerCase();
    const v = line.slice(colon + 1).trim();
    headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
  }
  return { method: m[1]!, target: m[2]!, line: lines[0]!, head, headers };
}

/**
 * The body that starts at `start` in `buf`, framed by `headers`: where it ends and its bytes (de-chunked), "need"
 * when it has not all come yet, or "bad" when the framing is not one a proxy may send.
 */
export function bodyExtent(
  buf: string,
  start: number,
  headers: Record<string, string>,
): { end: number; body: string } | "need" | "bad" {
  const te = headers["transfer-encoding"];
  if (te !== undefined) {
    if (te.trim().toLowerCase() !== "chunked") return "bad";
    let i = start;
    let body = "";
    for (;;) {
      const eol = buf.indexOf("\r\n", i);
      if (eol < 0) return "need";
      const sizeText = buf.slice(i, eol).split(";")[0]!.trim();
      if (!/^[0-9a-fA-F]+$/.test(sizeText)) return "bad";
      const size = parseInt(sizeText, 16);
      if (size === 0) {
        // Trailers end at an empty line.
        const end = buf.indexOf("\r\n\r\n", eol);
        if (buf.startsWith("\r\n", eol + 2)) return { end: eol + 4, body };
        if (end < 0) return "need";
        return { end: end + 4, body };
      }
      if (buf.length < eol + 2 + size + 2) return "need";
      body += buf.slice(eol + 2, eol + 2 + size);
      if (buf.slice(eol + 2 + size, eol + 4 + size) !== "\r\n") return "bad";
      i = eol + 4 + size;
    }
  }
  const cl = headers["content-length"];
  if (cl !== undefined) {
    if (!/^\d+$/.test(cl)) return "bad";
    const n = Number(cl);
    if (buf.length < start + n) return "need";
    return { end: start + n, body: buf.slice(start, start + n) };
  }
  return { end: start, body: "" };
}
