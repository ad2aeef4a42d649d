/**
 * HTTP/1.1 message heads for the upstream client, one door for three files: the response head parsed on bytes
 * (`response_head.ts`, with its lazily made strings in `head_fields.ts`), the byte-level pieces both directions and the
 * front end share (`runtime/http/h1_codec.ts`), and, here, the request head's encoding.
 *
 * @module
 */
import type { HeaderPolicy } from "../../../compiler/mod.ts";
import { fieldValue, isConnectionOwn, isHopByHop, type RequestFields } from "../../http/headers_copy.ts";
import { ClientRequestError } from "../types.ts";
import { namesToken } from "../../http/h1_codec.ts";
import { isToken, nominations } from "../nominations.ts";

export {
  copyBytes,
  findHeadEnd,
  HeadSyntaxError,
  latin1Decode,
  latin1Encode,
  latin1EncodeInto,
  MAX_HEAD_SIZE,
} from "../../http/h1_codec.ts";
export { headersOf } from "./head_fields.ts";
export { parseResponseHead, type ResponseHead } from "./response_head.ts";

const SP = 32;

/** How the request body is framed on the wire. */
export type RequestFraming = "none" | "length" | "chunked";

/**
 * Builds the request head text: request line, headers and the blank line.
 *
 * Adds `host` when missing and `transfer-encoding: chunked` for a chunked body. Hop-by-hop fields in `headers`
 * (`connection` and the fields it names, `keep-alive`, `proxy-connection`, `proxy-authenticate`,
 * `proxy-authorization`, `te`, `trailer`, `upgrade`, `http2-settings`, `transfer-encoding`: the client frames the body
 * itself) are left out, except that a request for an upgrade (`connection` naming `upgrade`, and `upgrade`) sends
 * `connection: upgrade` and its `upgrade`. A `content-length` that `connection` names is kept (it frames the body this
 * head is sent with, as nginx does: dropping it would send the body unframed, to be read as the next request on the
 * connection). The upstream's `policy` (`strip_hop_by_hop`, `strip_connection_nominated`,
 * `reject_malformed_connection_nominations` off) keeps the hop-by-hop fields but `connection`, `upgrade`,
 * `http2-settings` and `transfer-encoding`, or the named ones, or ignores malformed names.
 *
 * The target goes as its UTF-8 bytes (a path with raw non-ASCII bytes reaches `Deno.serve` decoded as UTF-8).
 *
 * @param method Request method.
 * @param target Request target (path and query).
 * @param headers Final request headers.
 * @param options `host` to add when `headers` has none, `framing` of the body, `zeroLength` to add
 *   `content-length: 0`, and the upstream's header `policy` when one of its options is off.
 * @returns The head as a byte string.
 * @throws {ClientRequestError} When the method or target contains whitespace or control characters, or
 *   `connection` names a field a proxy must not drop (runtime/upstream/nominations.ts).
 */
export function buildRequestHead(
  method: string,
  target: string,
  headers: RequestFields,
  options: { host: string; framing: RequestFraming; zeroLength: boolean; policy?: HeaderPolicy | undefined },
): string {
  if (!isToken(method)) throw new ClientRequestError(`Cannot send request: invalid method "${method}"`);
  const line = targetBytes(target);
  if (line === null) throw new ClientRequestError(`Cannot send request: invalid target ${JSON.stringify(target)}`);
  let head = method + " " + line + " HTTP/1.1\r\n";
  let hasHost = false;
  const connection = fieldValue(headers, "connection");
  const policy = options.policy;
  let nominated: string[] | null;
  // An upgrade asked for (`connection: upgrade` with `upgrade`) keeps both.
  let upgrade: boolean;
  if (policy === undefined) {
    nominated = connection === null ? null : nominations(connection, true, false);
    upgrade = nominated !== null && nominated.includes("upgrade") && fieldValue(headers, "upgrade") !== null;
  } else {
    const strip = connection !== null && policy.stripNominated;
    nominated = strip ? nominations(connection, policy.rejectMalformed, true) : null;
    upgrade = connection !== null && fieldValue(headers, "upgrade") !== null &&
      (strip ? nominated !== null && nominated.includes("upgrade") : namesToken(connection, "upgrade"));
  }
  // `strip_hop_by_hop = false`: only the fields that carry the connection's own state or framing stay behind.
  const keepHop = policy !== undefined && !policy.stripHopByHop;
  if (upgrade) head += "connection: upgrade\r\n";
  const addField = (value: string, name: string) => {
    if (upgrade && name === "upgrade") head += "upgrade: " + value + "\r\n";
    if (isHopByHop(name) && (!keepHop || isConnectionOwn(name))) return;
    if (nominated !== null && nominated.includes(name)) return;
    if (name === "host") hasHost = true;
    head += name + ": " + value + "\r\n";
  };
  // forEach, not for…of: Deno's pair iterator costs about 6× as much (see runtime/http/headers_copy.ts).
  if (headers instanceof Headers) headers.forEach(addField);
  else for (let i = 0; i < headers.length; i += 2) addField(headers[i + 1]!, headers[i]!);
  if (!hasHost) head += "host: " + options.host + "\r\n";
  if (options.framing === "chunked") head += "transfer-encoding: chunked\r\n";
  else if (options.zeroLength) head += "content-length: 0\r\n";
  return head + "\r\n";
}

/**
 * The target as a byte string (one char per byte, as the head is encoded): as it is when it is ASCII, its UTF-8
 * bytes otherwise; null when it holds whitespace or control characters.
 */
function targetBytes(s: string): string | null {
  if (s.length === 0) return null;
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= SP || c === 127) return null;
    if (c >= 0x80) ascii = false;
  }
  if (ascii) return s;
  const bytes = encoder.encode(s);
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += String.fromCharCode(bytes[i]!);
  return out;
}

const encoder = new TextEncoder();
