/**
 * The hostile corpus's client: sends raw bytes (in parts, with pauses) on one
 * TCP connection and reads back every HTTP/1.1 response, framed by its
 * Content-Length or chunked coding, until it has the responses it waits for,
 * the peer closes, or time runs out.
 *
 * @module
 */

/** One response as read off the wire. */
export interface WireResponse {
  readonly status: number;
  /** Lower-cased names, repeated ones joined by `, `. */
  readonly headers: Record<string, string>;
  readonly body: string;
  /** The body ended before its framing said (the peer closed). */
  readonly truncated: boolean;
}

/** What came back on one connection. */
export interface WireResult {
  /** Final responses, in order (1xx left out). */
  readonly responses: WireResponse[];
  /** Interim (1xx) statuses seen. */
  readonly interim: number[];
  /** The peer closed the connection. */
  readonly closed: boolean;
  /** Time ran out with the connection still open. */
  readonly timedOut: boolean;
  /** Bytes that did not parse as a response (latin1, first 200). */
  readonly garbage: string;
  /** The outcome in one word: the first final status, `closed` or `timeout`. */
  readonly outcome: Outcome;
}

/** A case's outcome: a status, `closed` (closed with no answer) or `timeout` (no answer, still open). */
export type Outcome = number | "closed" | "timeout";

/** A part of a request: bytes, or a pause in ms. */
export type Part = string | Uint8Array | { readonly pause: number };

/** Options of {@linkcode exchange}. */
export interface ExchangeOptions {
  /** Stop once this many final responses are read (then wait `linger` ms for strays). Default 1. */
  readonly responses?: number;
  /** Give up after this long. */
  readonly timeoutMs: number;
  /** After the wanted responses, read this long more for stray bytes. Default 0. */
  readonly linger?: number;
  /** Responses to HEAD have no body: which (0-based) responses answer a HEAD. */
  readonly headResponses?: readonly number[];
  /** Close the connection after sending, without reading (a client that leaves). */
  readonly leave?: boolean;
}

const latin1 = new TextDecoder("latin1");
const enc = new TextEncoder();

function toBytes(p: string | Uint8Array): Uint8Array {
  if (typeof p !== "string") return p;
  // Latin1, so a test can write any byte as \xNN in a string.
  const out = new Uint8Array(p.length);
  for (let i = 0; i < p.length; i++) out[i] = p.charCodeAt(i) & 0xff;
  return out;
}

/** Parses complete responses from `buf`; returns them and how many characters they took. */
function parse(
  buf: string,
  closed: boolean,
  headIndexes: readonly number[],
  finalSoFar: number,
): { responses: WireResponse[]; interim: number[]; used: number; garbage: boolean } {
  const responses: WireResponse[] = [];
  const interim: number[] = [];
  let at = 0;
  for (;;) {
    if (at >= buf.length) break;
    const end = buf.indexOf("\r\n\r\n", at);
    if (end < 0) {
      if (!/^HTTP\/\d/.test(buf.slice(at, at + 8)) && buf.length - at >= 8) {
        return { responses, interim, used: at, garbage: true };
      }
      break;
    }
    const lines = buf.slice(at, end).split("\r\n");
    const m = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(lines[0]!);
    if (!m) return { responses, interim, used: at, garbage: true };
    const status = Number(m[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const c = line.indexOf(":");
      const k = line.slice(0, c).trim().toLowerCase();
      const v = line.slice(c + 1).trim();
      headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
    }
    const bodyStart = end + 4;
    if (status >= 100 && status < 200 && status !== 101) {
      interim.push(status);
      at = bodyStart;
      continue;
    }
    const noBody = status === 101 || status === 204 || status === 304 ||
      headIndexes.includes(finalSoFar + responses.length);
    if (noBody) {
      responses.push({ status, headers, body: "", truncated: false });
      at = bodyStart;
      if (status === 101) break;
      continue;
    }
    if (headers["transfer-encoding"]?.toLowerCase().includes("chunked")) {
      let i = bodyStart;
      let body = "";
      let done = false;
      let bad = false;
      for (;;) {
        const eol = buf.indexOf("\r\n", i);
        if (eol < 0) break;
        const size = parseInt(buf.slice(i, eol).split(";")[0]!.trim(), 16);
        if (Number.isNaN(size)) {
          bad = true;
          break;
        }
        if (size === 0) {
          const t = buf.indexOf("\r\n\r\n", eol);
          if (buf.startsWith("\r\n", eol + 2)) i = eol + 4;
          else if (t >= 0) i = t + 4;
          else break;
          done = true;
          break;
        }
        if (buf.length < eol + 2 + size + 2) break;
        body += buf.slice(eol + 2, eol + 2 + size);
        i = eol + 4 + size;
      }
      if (bad) return { responses, interim, used: at, garbage: true };
      if (!done) {
        if (closed) {
          responses.push({ status, headers, body, truncated: true });
          at = buf.length;
        }
        break;
      }
      responses.push({ status, headers, body, truncated: false });
      at = i;
      continue;
    }
    const cl = headers["content-length"];
    if (cl !== undefined) {
      const n = Number(cl);
      if (buf.length - bodyStart < n) {
        if (closed) {
          responses.push({ status, headers, body: buf.slice(bodyStart), truncated: true });
          at = buf.length;
        }
        break;
      }
      responses.push({ status, headers, body: buf.slice(bodyStart, bodyStart + n), truncated: false });
      at = bodyStart + n;
      continue;
    }
    // Framed by close.
    if (!closed) break;
    responses.push({ status, headers, body: buf.slice(bodyStart), truncated: false });
    at = buf.length;
  }
  return { responses, interim, used: at, garbage: false };
}

/** Sends `parts` on a new connection to 127.0.0.1:`port` and reads the responses. */
export async function exchange(port: number, parts: readonly Part[], options: ExchangeOptions): Promise<WireResult> {
  const want = options.responses ?? 1;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let closed = false;
  let timedOut = false;
  let buf = "";
  const responses: WireResponse[] = [];
  const interim: number[] = [];
  let garbage = "";
  const deadline = setTimeout(() => {
    timedOut = true;
    try {
      conn.close();
    } catch {
      // Closed.
    }
  }, options.timeoutMs);
  const writer = (async () => {
    try {
      for (const p of parts) {
        if (typeof p === "object" && "pause" in p) await new Promise((r) => setTimeout(r, p.pause));
        else await conn.write(toBytes(p));
      }
    } catch {
      // The proxy closed on us mid-request: what it answered is read below.
    }
  })();
  if (options.leave) {
    await writer;
    clearTimeout(deadline);
    conn.close();
    return { responses, interim, closed: true, timedOut: false, garbage, outcome: "closed" };
  }
  let lingerTimer: ReturnType<typeof setTimeout> | undefined;
  const chunk = new Uint8Array(256 * 1024);
  try {
    for (;;) {
      let n: number | null;
      try {
        n = await conn.read(chunk);
      } catch {
        if (!timedOut) closed = true;
        break;
      }
      if (n === null) {
        closed = true;
        break;
      }
      buf += latin1.decode(chunk.subarray(0, n));
      const p = parse(buf, false, options.headResponses ?? [], responses.length);
      responses.push(...p.responses);
      interim.push(...p.interim);
      buf = buf.slice(p.used);
      if (p.garbage) {
        garbage = buf.slice(0, 200);
        break;
      }
      if (responses.length >= want && lingerTimer === undefined) {
        if (!options.linger || responses.at(-1)?.status === 101) break;
        lingerTimer = setTimeout(() => {
          try {
            conn.close();
          } catch {
            // Closed.
          }
        }, options.linger);
      }
    }
  } finally {
    clearTimeout(deadline);
    clearTimeout(lingerTimer);
    await writer;
    try {
      conn.close();
    } catch {
      // Closed by a timer or the peer.
    }
  }
  if (closed && buf.length > 0 && !garbage) {
    const p = parse(buf, true, options.headResponses ?? [], responses.length);
    responses.push(...p.responses);
    interim.push(...p.interim);
    buf = buf.slice(p.used);
    if (p.garbage || buf.length > 0) garbage = buf.slice(0, 200);
  }
  const lingered = lingerTimer !== undefined;
  const outcome: Outcome = responses[0]?.status ?? (garbage ? "closed" : timedOut && !lingered ? "timeout" : "closed");
  return { responses, interim, closed: closed || lingered, timedOut: timedOut && !lingered, garbage, outcome };
}

/** `enc` for callers building bodies. */
export const utf8 = enc;
