/**
 * HTTP/1.1 message heads for the upstream client, one door for three files: the response head parsed on bytes
 * (`http1_response_head.ts`, with its lazily made strings in `http1_head_fields.ts`), the byte-level pieces both
 * directions share (`http1_codec.ts`), and, here, the request head's encoding.
 *
 * @module
 */
import { fieldValue, isHopByHop, type RequestFields } from "../headers_copy.ts";
import { parseConnection } from "./http1_codec.ts";

export {
  copyBytes,
  findHeadEnd,
  HeadSyntaxError,
  latin1Decode,
  latin1Encode,
  latin1EncodeInto,
  MAX_HEAD_SIZE,
} from "./http1_codec.ts";
export { headersOf } from "./http1_head_fields.ts";
export { parseResponseHead, type ResponseHead } from "./http1_response_head.ts";

const SP = 32;

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
