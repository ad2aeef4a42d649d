/**
 * The check of a request head the fast path did not take, before the engine serves it from a rebuilt head: what hyper
 * would pass on wrongly is answered here, as nginx does, and what goes on is made safe to hand over.
 *
 * - `HTTP/2.0`…`HTTP/9.9` in the request line ⇒ 505;
 * - `CONNECT` ⇒ 405; a target that is not a path, `*` or an `http(s)` URL ⇒ 400; `OPTIONS *` ⇒ 200 here (it asks
 *   about the server, and hyper would make it `/*`); an absolute-form target with user info ⇒ 400;
 * - a path with a bad `%` escape, `%00`, or a `..` above the root ⇒ 400 (`badPath`);
 * - more than 100 field lines ⇒ 431 (hyper's limit, where it would say 400);
 * - HTTP/1.1 without `Host`, or with two, or a `Host` that is no `uri-host[:port]` (`validHost`); two
 *   `Content-Length` fields, or two `Transfer-Encoding` fields, or a `Content-Length` past 2^53 ⇒ 400;
 * - `Upgrade` without `Connection: upgrade` is dropped: a plain request (RFC 9110 §7.8);
 * - `Transfer-Encoding` with a coding before `chunked` (`gzip, chunked`) ⇒ 501 (hyper drops the coding); on
 *   HTTP/1.0 ⇒ 400;
 * - an absolute-form target becomes origin-form and its authority the `Host` (RFC 9112 §3.2.2: the target's host
 *   wins; hyper would keep the client's `Host` for the upstream);
 * - the connection stays open after an HTTP/1.1 request with a known end (a sized, chunked or no body) that does not
 *   ask to close; any other gets `Connection: close` added (except an `Upgrade`), which the front end honours.
 *
 * A head that is malformed in another way goes to hyper as it is (it answers 400). Bare-LF line ends are read as
 * hyper reads them.
 *
 * @module
 */
import { TCHAR } from "../../http/h1_codec.ts";
import { badPath, validHost } from "./target_check.ts";

/**
 * Field lines a screened head may have: `Deno.serve` (hyper) refuses more than 100 with a bare 400; here they are
 * answered 431, which names the cause. (The fast path takes up to `MAX_FIELDS` of head.ts.)
 */
const RELAY_MAX_FIELDS = 100;

/** The head has not ended yet, and may still become a request: read more. */
export const WAIT = 0;

/** An answer to write before closing. */
export interface Answer {
  readonly status: number;
  readonly reason: string;
  /** Bytes of the head, to skip before the lingering close reads the rest. */
  readonly size: number;
}

/** The rebuilt head the engine serves instead of the bytes read (see `parseScreenedHead`). */
export interface Rebuilt {
  /** The head to send instead of the first {@linkcode consumed} bytes. */
  readonly initial: Uint8Array;
  /** Bytes of the head as read. */
  readonly consumed: number;
}

const latin1 = new TextDecoder("latin1");

/** Can `buf[start..end)`, not a whole head yet, still become a request line? A method token, a space, a target. */
function plausible(buf: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end && buf[i]! < 128 && TCHAR[buf[i]!] === 1) i++;
  if (i === end) return true;
  if (i === start || buf[i] !== 32) return false;
  return i + 1 === end || buf[i + 1]! > 32;
}

/**
 * End of the head at `start` (index after its blank line), reading bare LF as a line end as hyper does; -1 when it
 * has not ended.
 */
function headEnd(buf: Uint8Array, start: number, end: number): number {
  for (let i = start + 1; i < end; i++) {
    if (buf[i] !== 10) continue;
    if (buf[i - 1] === 10) return i + 1;
    if (buf[i - 1] === 13 && i - 2 >= start && buf[i - 2] === 10) return i + 1;
  }
  return -1;
}

const isToken = (s: string) => {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 127 || TCHAR[c] !== 1) return false;
  }
  return true;
};

const answer = (status: number, reason: string, size: number): Answer => ({ status, reason, size });

/**
 * Screens the head at `buf[start..end)` (the fast path answered `SCREEN` for it).
 *
 * @returns {@linkcode WAIT}, an {@linkcode Answer}, a {@linkcode Rebuilt} with the head to serve instead, or undefined
 *   when it is malformed (the engine answers 400; or the h2c preface, for the HTTP/2 engine).
 */
export function screen(buf: Uint8Array, start: number, end: number): typeof WAIT | Answer | Rebuilt | undefined {
  // Empty lines before the request line are skipped (as hyper does), and left out of the rebuilt head.
  let from = start;
  while (from < end && (buf[from] === 13 || buf[from] === 10)) from++;
  if (from === end) return WAIT;
  const stop = headEnd(buf, from, end);
  if (stop < 0) {
    // A bare CR can never end the head: hyper's 400 at once, not a wait until the idle timeout.
    for (let i = from; i < end - 1; i++) if (buf[i] === 13 && buf[i + 1] !== 10) return undefined;
    return plausible(buf, from, end) ? WAIT : undefined;
  }
  const text = latin1.decode(buf.subarray(from, stop));
  const lines = text.split("\n");
  // The last two are the blank line and "" after its LF.
  lines.length -= 2;
  for (let k = 0; k < lines.length; k++) {
    const l = lines[k]!;
    if (l.endsWith("\r")) lines[k] = l.slice(0, -1);
    // A bare CR or any other malformation: hyper's answer.
    if (lines[k]!.indexOf("\r") >= 0) return undefined;
  }
  const line = lines[0]!.split(" ");
  if (line.length !== 3 || !isToken(line[0]!)) return undefined;
  const [method, target, version] = line as [string, string, string];
  const size = stop - start;
  if (version !== "HTTP/1.1" && version !== "HTTP/1.0") {
    // A valid version this server does not speak (HTTP/2.0 in an HTTP/1 request line): nginx's 505. The h2c
    // preface (`PRI * HTTP/2.0`) is left to the engine: the HTTP/2 engine's on an `enabled_h2` server, else 400.
    const h2c = method === "PRI" && target === "*";
    return !h2c && /^HTTP\/[2-9]\.[0-9]$/.test(version) ? answer(505, "HTTP Version Not Supported", size) : undefined;
  }
  if (method === "CONNECT") return answer(405, "Method Not Allowed", size);
  if (lines.length - 1 > RELAY_MAX_FIELDS) return answer(431, "Request Header Fields Too Large", size);
  let hosts = 0;
  const hostLines = new Set<number>();
  const codings: string[] = [];
  let transferEncodings = 0;
  let length = false;
  let upgrade = false;
  let upgradeLine = -1;
  let connectionUpgrade = false;
  let connectionClose = false;
  for (let k = 1; k < lines.length; k++) {
    const l = lines[k]!;
    const colon = l.indexOf(":");
    // Obs-fold, a space before the colon, a bad name: hyper's answer.
    if (colon <= 0 || !isToken(l.slice(0, colon))) return undefined;
    const name = l.slice(0, colon).toLowerCase();
    const value = l.slice(colon + 1).trim();
    if (name === "host") {
      hosts++;
      hostLines.add(k);
      if (!validHost(value)) return answer(400, "Bad Request", size);
    } else if (name === "transfer-encoding") {
      // A second field line: nginx's 400, whatever the codings (it never merges them).
      if (++transferEncodings > 1) return answer(400, "Bad Request", stop - start);
      for (const c of value.split(",")) codings.push(c.trim());
    } else if (name === "content-length") {
      // Two, even equal (hyper merges them into "5, 5", which no upstream client may send): nginx's 400.
      if (length) return answer(400, "Bad Request", stop - start);
      length = true;
      // Digits, and a safe integer (a client cannot send more, and a larger one loses its precision).
      if (!/^[0-9]+$/.test(value) || Number(value) > Number.MAX_SAFE_INTEGER) return answer(400, "Bad Request", size);
    } else if (name === "upgrade") {
      upgrade = true;
      upgradeLine = k;
    } else if (name === "connection") {
      if (/(^|,)[ \t]*upgrade[ \t]*(,|$)/i.test(value)) connectionUpgrade = true;
      if (/(^|,)[ \t]*close[ \t]*(,|$)/i.test(value)) connectionClose = true;
    }
  }
  // `Upgrade` without `Connection: upgrade` asks for nothing (RFC 9110 §7.8): a plain request, the field dropped.
  if (upgrade && !connectionUpgrade) upgrade = false;
  else upgradeLine = -1;
  let authority: string | undefined;
  let path = target;
  if (target === "*") {
    if (method !== "OPTIONS") return answer(400, "Bad Request", size);
    return answer(200, "OK", size);
  } else if (target.charCodeAt(0) !== 47 /* / */) {
    const m = /^(https?):\/\/([^/?#]*)(.*)$/i.exec(target);
    // User info (`u:p@`) is an error (RFC 9110 §4.2.4, nginx's 400), as any authority that is no valid Host.
    authority = m === null ? "" : m[2]!;
    if (m === null || !validHost(authority) || m[3]!.startsWith("#")) return answer(400, "Bad Request", size);
    path = m[3] === "" ? "/" : m[3]!.startsWith("?") ? `/${m[3]}` : m[3]!;
  }
  if (badPath(path)) return answer(400, "Bad Request", size);
  if (authority === undefined && version === "HTTP/1.1" && hosts !== 1) return answer(400, "Bad Request", size);
  if (hosts > 1) return answer(400, "Bad Request", size);
  if (codings.length > 0) {
    if (version === "HTTP/1.0") return answer(400, "Bad Request", size);
    // A list of valid codings ending in chunked, with another before it: valid, but the proxy cannot keep the
    // other coding. Anything odder (and CL with TE) is hyper's 400.
    if (
      !length && codings.length > 1 && codings.every(isToken) &&
      codings[codings.length - 1]!.toLowerCase() === "chunked"
    ) return answer(501, "Not Implemented", size);
  }
  // Rebuilt: the request line (origin-form), Host (the target's authority), Connection: close.
  const out: string[] = [authority === undefined ? lines[0]! : `${method} ${path} ${version}`];
  for (let k = 1; k < lines.length; k++) {
    if ((authority !== undefined && hostLines.has(k)) || k === upgradeLine) continue;
    out.push(lines[k]!);
  }
  if (authority !== undefined) out.push(`Host: ${authority}`);
  const chunked = codings.length === 1 && codings[0]!.toLowerCase() === "chunked" && !length;
  // The connection may serve a next request (this one's end is known: a sized, chunked or no body).
  const one = !upgrade && version === "HTTP/1.1" && !connectionClose && (codings.length === 0 || chunked);
  if (!upgrade && !one) out.push("Connection: close");
  const head = out.join("\r\n") + "\r\n\r\n";
  const initial = new Uint8Array(head.length);
  for (let i = 0; i < head.length; i++) initial[i] = head.charCodeAt(i);
  return { initial, consumed: size };
}
