/**
 * h2c by upgrade (RFC 7540 §3.2, deprecated by RFC 9113 §3.1 but sent by `curl --http2` on `http://`, nghttp `-u` and
 * some gRPC clients): the check of an HTTP/1.1 request that asks `Upgrade: h2c`, made before the HTTP/1.1 engine
 * answers `101` and hands the connection to the HTTP/2 engine. A request passes when it has exactly one
 * `HTTP2-Settings` field whose base64url value decodes to a valid SETTINGS payload, a `Connection` naming both
 * `Upgrade` and `HTTP2-Settings`, no body (one with a body is declined, as RFC 7540 §3.2 allows: served as HTTP/1.1),
 * and a head that is a valid HTTP/2 request once its connection-specific fields are dropped. Anything else is declined.
 *
 * @module
 */
import { isHopByHop } from "../../http/headers_copy.ts";
import { namesToken } from "../../http/h1_codec.ts";
import { ConnectionError, FLOW_CONTROL_ERROR, type FrameHeader, MAX_WINDOW, SETTINGS } from "./frames.ts";
import { requestHead } from "./request_head.ts";
import { type PeerSettings, readSettings } from "./settings.ts";

/** An upgrade that passed: what the HTTP/2 engine needs to go on (`H2Engine.serveUpgraded`). */
export interface H2cUpgrade {
  /** The upgrade request as stream 1's decoded head: pseudo-header fields, then its end-to-end fields. */
  readonly head: readonly string[];
  /** The client's SETTINGS payload (from `HTTP2-Settings`), applied as if it came in a SETTINGS frame. */
  readonly settings: Uint8Array;
}

/** The HTTP/1.1 request that asks for the upgrade. */
export interface UpgradeAsk {
  readonly method: string;
  /** Origin-form (the screen made an absolute-form target one). */
  readonly target: string;
  /** `[name, value, …]`, names in lower case (`upgrade` already left out). */
  readonly fields: readonly string[];
  readonly contentLength: number;
  readonly chunked: boolean;
  readonly http10: boolean;
}

/** base64url digits (RFC 4648 §5) and their values; -1 for any other byte. */
const DIGITS = new Int8Array(128).fill(-1);
{
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (let i = 0; i < 64; i++) DIGITS[alphabet.charCodeAt(i)] = i;
}

/**
 * Decodes a base64url value (`token68`, its trailing `=` omitted as RFC 7540 asks, or kept); undefined when it is not
 * one.
 */
export function base64url(value: string): Uint8Array | undefined {
  let n = value.length;
  if (n % 4 === 0 && n > 0 && value.charCodeAt(n - 1) === 61) n -= value.charCodeAt(n - 2) === 61 ? 2 : 1;
  if (n % 4 === 1) return undefined;
  const out = new Uint8Array((n * 3) >> 2);
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    const d = c < 128 ? DIGITS[c]! : -1;
    if (d < 0) return undefined;
    acc = (acc << 6) | d;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

/** A SETTINGS payload the client may send: whole entries, each value in its range. */
function validSettings(payload: Uint8Array): boolean {
  const h: FrameHeader = { length: payload.byteLength, type: SETTINGS, flags: 0, stream: 0 };
  try {
    readSettings(h, payload, 0, {
      tableSize() {},
      initialWindow(v) {
        if (v > MAX_WINDOW) throw new ConnectionError(FLOW_CONTROL_ERROR, "SETTINGS_INITIAL_WINDOW_SIZE too large");
      },
      maxFrame() {},
    });
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks a request that asked `Upgrade: h2c` (see the module's doc).
 *
 * @returns The upgrade, or undefined when it is declined (the request is then served as HTTP/1.1).
 */
export function h2cUpgrade(ask: UpgradeAsk): H2cUpgrade | undefined {
  if (ask.http10 || ask.chunked || ask.contentLength > 0) return undefined;
  const fields = ask.fields;
  let settings: string | undefined;
  let asksUpgrade = false;
  let asksSettings = false;
  /** The fields `Connection` names: dropped with it. */
  let named: string[] | undefined;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name === "http2-settings") {
      if (settings !== undefined) return undefined;
      settings = fields[i + 1]!;
    } else if (name === "connection") {
      const value = fields[i + 1]!;
      if (namesToken(value, "upgrade")) asksUpgrade = true;
      if (namesToken(value, "http2-settings")) asksSettings = true;
      for (const part of value.split(",")) (named ??= []).push(part.trim().toLowerCase());
    }
  }
  if (settings === undefined || !asksUpgrade || !asksSettings) return undefined;
  const payload = base64url(settings);
  if (payload === undefined || payload.byteLength % 6 !== 0 || !validSettings(payload)) return undefined;
  // Stream 1's head: the request's fields but the connection-specific ones and those `Connection` names (`te:
  // trailers` may stay).
  const head: string[] = [":method", ask.method, ":scheme", "http", ":path", ask.target];
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    if (isHopByHop(name) ? !(name === "te" && value === "trailers") : named!.includes(name)) continue;
    // Bytes past ASCII (obs-text) are declined: stream 1's head goes to HPACK as one octet a char.
    for (let k = 0; k < value.length; k++) if (value.charCodeAt(k) > 127) return undefined;
    head.push(name, value);
  }
  if (typeof requestHead(head) === "string") return undefined;
  return { head, settings: payload };
}

/**
 * What the connection does first after the 101 (`H2Connection.run`): the client's settings read into `peer` as a
 * SETTINGS frame would be, without an ACK (the 101 acknowledged them), then stream 1's head as an HPACK block that the
 * connection reads as that stream's HEADERS (END_STREAM): the checks and SETTINGS_MAX_HEADER_LIST_SIZE of any request
 * apply to it.
 */
export function upgradeStart(up: H2cUpgrade): (peer: PeerSettings) => Uint8Array {
  return (peer) => {
    readSettings({ length: up.settings.byteLength, type: SETTINGS, flags: 0, stream: 0 }, up.settings, 0, peer);
    return literalBlock(up.head);
  };
}

/** `[name, value, …]` (ASCII) as an HPACK block of literals without indexing, new names (RFC 7541 §6.2.2). */
export function literalBlock(fields: readonly string[]): Uint8Array {
  let size = 0;
  for (const f of fields) size += f.length + 6;
  const out = new Uint8Array(size + fields.length / 2);
  let o = 0;
  const str = (s: string) => {
    // The length, a 7-bit prefix integer (no Huffman coding).
    let n = s.length;
    if (n < 127) out[o++] = n;
    else {
      out[o++] = 127;
      for (n -= 127; n >= 128; n >>>= 7) out[o++] = (n & 0x7f) | 0x80;
      out[o++] = n;
    }
    for (let i = 0; i < s.length; i++) out[o++] = s.charCodeAt(i);
  };
  for (let i = 0; i < fields.length; i += 2) {
    out[o++] = 0;
    str(fields[i]!);
    str(fields[i + 1]!);
  }
  return out.subarray(0, o);
}
