/**
 * A strict parser of HTTP/1.1 request heads, for the fast path only. It accepts the plain case (an origin-form
 * target of visible ASCII or UTF-8, `HTTP/1.1`, token names, visible ASCII values, one `Host`, at most one numeric
 * `Content-Length`) and
 * answers {@linkcode SCREEN} for anything else — HTTP/1.0, `Transfer-Encoding`, `Upgrade`, `Expect`, obs-fold,
 * non-ASCII bytes outside the target, absolute-form targets, the HTTP/2 preface, `CONNECT`, a path or `Host` that
 * target_check.ts refuses, more than {@linkcode MAX_FIELDS} fields, and malformed input — so that the screen
 * (screen.ts) answers the refusals and rebuilds the rest, which {@linkcode parseScreenedHead} then reads: HTTP/1.0,
 * `Transfer-Encoding: chunked` alone (with `Content-Length` too, or another coding: refused), `Expect`, obs-text.
 *
 * @module
 */
import { isHopByHop } from "../../http/headers_copy.ts";
import { asksClose, TCHAR } from "../../http/h1_codec.ts";
import { badPath, validHost } from "./target_check.ts";

/** A request head the fast path serves. */
export interface RequestHead {
  readonly method: string;
  /** Origin-form target: path and query as sent (UTF-8 decoded; the head's bytes keep them as they came). */
  readonly target: string;
  /** The Host field's value. */
  readonly host: string;
  /** Names (lower case) and values, alternating. */
  readonly fields: string[];
  /** Content-Length, or -1 when absent. */
  readonly contentLength: number;
  /** The client asked to close the connection after this response. */
  readonly close: boolean;
  /** Bytes of the head, final CRLFCRLF included. */
  readonly size: number;
  /**
   * An upstream may be sent the head's bytes as they are: no hop-by-hop field (`isHopByHop`, the list the upstream
   * clients leave out when they build a head).
   */
  readonly plain: boolean;
  /** The body is chunked (`Transfer-Encoding: chunked`; only a screened head, see {@linkcode parseScreenedHead}). */
  readonly chunked: boolean;
  /** The client waits for `100 Continue` before it sends the body (`Expect: 100-continue`). */
  readonly expectContinue: boolean;
  /** The request line said `HTTP/1.0` (its answer must not be chunked). */
  readonly http10: boolean;
  /**
   * The request asks for an upgrade (a screened head keeps `Upgrade` only with `Connection: upgrade`): after a 101 the
   * connection is spliced to the upstream's byte for byte. An `Upgrade` naming `h2c` is left out (not the upstream's
   * to accept): see {@linkcode h2c}.
   */
  readonly upgrade: boolean;
  /**
   * The request asked `Upgrade: h2c` (with `Connection: upgrade`; only a screened head): the engine may switch the
   * connection to HTTP/2 (h2/upgrade.ts checks the rest). The `Upgrade` field is not in {@linkcode fields}.
   */
  readonly h2c: boolean;
}

/** An `Upgrade` value that names `h2c` (alone or in a list). */
const H2C = /(^|,)[ \t]*h2c[ \t]*(,|$)/i;

/** The head is not complete yet. */
export const INCOMPLETE = 0;
/** Not for the fast path: the head goes to the screen (screen.ts), which answers it or rebuilds it. */
export const SCREEN = -1;

/**
 * Fields per head past which the head goes to the screen (and there is answered 431). nginx counts none, only bytes (32 KiB
 * in all by default); the head's bytes are bounded here by the read buffer (64 KiB).
 */
export const MAX_FIELDS = 1000;

/**
 * {@linkcode headEnd}: a line end that is not CRLF: a blank line with a bare LF in it, or, in a head not ended yet, a
 * CR followed by anything but LF (which can never end the head).
 */
const BAD_LINE_END = -2;

/**
 * Index of the CRLFCRLF that ends the head at `from`; -1 when no blank line has come yet; {@linkcode BAD_LINE_END}
 * when the first blank line has a bare LF (`\n\n`, `\r\n\n`, `\n\r\n`), or when the head has not ended yet and
 * has a bare CR: such a head goes to the screen (answered 400), never waited on.
 */
function headEnd(buf: Uint8Array, from: number, end: number): number {
  for (let i = from + 1; i < end; i++) {
    if (buf[i] !== 10) continue;
    if (buf[i - 1] === 10) return BAD_LINE_END;
    if (i >= from + 2 && buf[i - 1] === 13 && buf[i - 2] === 10) {
      return i >= from + 3 && buf[i - 3] === 13 ? i - 3 : BAD_LINE_END;
    }
  }
  // Only a head still waited on is searched for a bare CR: one that came whole pays nothing for it.
  for (let i = from; i < end - 1; i++) if (buf[i] === 13 && buf[i + 1] !== 10) return BAD_LINE_END;
  return -1;
}

/** Decodes a head (ASCII only is accepted, so UTF-8 decoding is exact): one call, then slices (4x faster than
 * building each token from its bytes). */
const decoder = new TextDecoder();
/** Decodes a screened head's fields, whose values may carry obs-text (bytes past ASCII), byte for char. */
const latin1 = new TextDecoder("latin1");
/** Decodes a target with bytes past ASCII: UTF-8 or nothing (then hyper answers it). */
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Can `buf[start..end)` still become a head the fast path takes? A method token, then a space and a `/`: anything
 * else goes to the screen at once (which refuses garbage without waiting for a head's end).
 */
function plausible(buf: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end && buf[i]! < 128 && TCHAR[buf[i]!] === 1) i++;
  if (i === end) return true;
  if (i === start || buf[i] !== 32) return false;
  return i + 1 === end || buf[i + 1] === 47;
}

/**
 * Parses the request head at `buf[start..end)`.
 *
 * @returns The head, {@linkcode INCOMPLETE} when more bytes are needed, or {@linkcode SCREEN}.
 */
export function parseHead(
  buf: Uint8Array,
  start: number,
  end: number,
): RequestHead | typeof INCOMPLETE | typeof SCREEN {
  return parse(buf, start, end, false);
}

/**
 * Parses a head the screen (screen.ts) passed and rebuilt (CRLF line ends, an origin-form target, its `Host`, and
 * `Connection: close` where the connection must end): as {@linkcode parseHead}, and also `HTTP/1.0` (a missing
 * `Host` is then empty), `Transfer-Encoding: chunked` (alone, without `Content-Length`), `Expect` and obs-text in
 * field values (decoded byte for char, so they go upstream as they came).
 *
 * @returns The head, or {@linkcode SCREEN} when it is still not one this front end serves (answer 400).
 */
export function parseScreenedHead(buf: Uint8Array, start: number, end: number): RequestHead | typeof SCREEN {
  const head = parse(buf, start, end, true);
  return head === INCOMPLETE ? SCREEN : head;
}

function parse(
  buf: Uint8Array,
  start: number,
  end: number,
  screened: boolean,
): RequestHead | typeof INCOMPLETE | typeof SCREEN {
  const stop = headEnd(buf, start, end);
  if (stop === BAD_LINE_END) return SCREEN;
  if (stop < 0) return plausible(buf, start, end) ? INCOMPLETE : SCREEN;
  // Request line: method SP origin-form SP HTTP/1.1 CRLF.
  let i = start;
  while (i < stop && buf[i]! < 128 && TCHAR[buf[i]!] === 1) i++;
  if (i === start || buf[i] !== 32) return SCREEN;
  const m1 = i;
  const t0 = ++i;
  if (buf[i] !== 47 /* / */) return SCREEN;
  // Visible ASCII, and bytes past ASCII (UTF-8, checked below). A `%` or a `/.` has the path checked (badPath).
  let high = 0;
  let odd = false;
  for (; i < stop; i++) {
    const c = buf[i]!;
    if (c <= 32 || c === 127) break;
    high |= c;
    if (c === 37 || (c === 46 && buf[i - 1] === 47)) odd = true;
  }
  if (buf[i] !== 32) return SCREEN;
  const t1 = i++;
  if (
    stop - i < 8 || buf[i] !== 72 || buf[i + 1] !== 84 || buf[i + 2] !== 84 || buf[i + 3] !== 80 ||
    buf[i + 4] !== 47 || buf[i + 5] !== 49 || buf[i + 6] !== 46 || buf[i + 8] !== 13 || buf[i + 9] !== 10
  ) return SCREEN;
  const http10 = buf[i + 7] === 48 /* 0 */;
  if (buf[i + 7] !== 49 && !(http10 && screened)) return SCREEN;
  i += 10;
  // The head is ASCII (one char a byte) but for a UTF-8 target, which is decoded on its own: the fields are then
  // decoded from the line after it, so that string offsets stay byte offsets.
  let base = start;
  let head: string;
  let method: string;
  let target: string;
  if (screened) {
    // Latin-1, one char a byte: obs-text in a value stays the bytes it was.
    head = latin1.decode(buf.subarray(start, stop));
    method = head.slice(0, m1 - start);
    target = high < 128 ? head.slice(t0 - start, t1 - start) : "";
    if (high >= 128) {
      try {
        target = strictDecoder.decode(buf.subarray(t0, t1));
      } catch {
        return SCREEN;
      }
    }
  } else if (high < 128) {
    head = decoder.decode(buf.subarray(start, stop));
    method = head.slice(0, m1 - start);
    target = head.slice(t0 - start, t1 - start);
  } else {
    try {
      target = strictDecoder.decode(buf.subarray(t0, t1));
    } catch {
      return SCREEN;
    }
    method = decoder.decode(buf.subarray(start, m1));
    base = i;
    head = i < stop ? decoder.decode(buf.subarray(i, stop)) : "";
  }
  // CONNECT (405) and a path nginx refuses (400) are answered by the screen.
  if ((odd && badPath(target)) || (m1 - start === 7 && method === "CONNECT")) return SCREEN;
  const text = (a: number, b: number) => head.slice(a - base, b - base);
  const fields: string[] = [];
  let host: string | undefined;
  let contentLength = -1;
  let close = false;
  let hopByHop = false;
  let chunked = false;
  let expectContinue = false;
  let upgrade = false;
  let h2c = false;
  while (i < stop + 2) {
    // name ":" OWS value OWS CRLF
    const n0 = i;
    while (buf[i]! < 128 && TCHAR[buf[i]!] === 1) i++;
    if (i === n0 || buf[i] !== 58 /* : */) return SCREEN;
    const n1 = i++;
    while (buf[i] === 32 || buf[i] === 9) i++;
    const v0 = i;
    let v1 = i;
    for (;; i++) {
      const c = buf[i]!;
      if (c === 13) break;
      if ((c > 32 && c < 127) || (c > 127 && screened)) v1 = i + 1;
      else if (c !== 32 && c !== 9) return SCREEN;
    }
    if (buf[i + 1] !== 10) return SCREEN;
    i += 2;
    if (fields.length === MAX_FIELDS * 2) return SCREEN;
    const name = text(n0, n1).toLowerCase();
    const value = text(v0, v1);
    if (isHopByHop(name)) hopByHop = true;
    switch (name.length) {
      case 4:
        if (name === "host") {
          if (host !== undefined) return SCREEN;
          host = value;
        }
        break;
      case 6:
        if (name === "expect") {
          if (!screened) return SCREEN;
          // Only `100-continue` asks for anything (RFC 9110 §10.1.1); another expectation is passed on, as hyper does.
          if (value.toLowerCase() === "100-continue") expectContinue = true;
        }
        break;
      case 7:
        if (name === "upgrade") {
          if (!screened) return SCREEN;
          if (H2C.test(value)) {
            h2c = true;
            continue;
          }
          upgrade = true;
        }
        break;
      case 10:
        if (name === "connection" && asksClose(value)) close = true;
        break;
      case 14:
        if (name === "content-length") {
          if (contentLength >= 0 || value.length === 0 || value.length > 15) return SCREEN;
          for (let k = 0; k < value.length; k++) {
            const d = value.charCodeAt(k);
            if (d < 48 || d > 57) return SCREEN;
          }
          contentLength = Number(value);
        }
        break;
      case 17:
        if (name === "transfer-encoding") {
          // The screen let through one field line whose codings end in chunked: only `chunked` alone is served.
          if (!screened || chunked || value.toLowerCase() !== "chunked") return SCREEN;
          chunked = true;
        }
        break;
    }
    fields.push(name, value);
  }
  // Both framings (a smuggling attempt), or chunked on HTTP/1.0: refused.
  if (chunked && (contentLength >= 0 || http10)) return SCREEN;
  // No Host, or an invalid one (answered 400 by the screen); HTTP/1.0 needs none.
  if (host === undefined ? !http10 : !validHost(host)) return SCREEN;
  return {
    method,
    target,
    host: host ?? "",
    fields,
    contentLength,
    close: close || http10,
    size: stop + 4 - start,
    plain: !hopByHop && !screened,
    chunked,
    expectContinue,
    http10,
    upgrade: upgrade && !h2c,
    h2c,
  };
}
