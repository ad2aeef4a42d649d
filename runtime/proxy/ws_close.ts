/**
 * What the WebSocket bridge sends to one side when the other side closes.
 * Only codes a peer may send go out (RFC 6455 §7.4): a close code received
 * from a peer is mirrored when it is sendable; a side that vanished
 * (Deno reports code 0 or 1006: no close frame) or sent a frame over
 * Deno's 64 MiB limit is described by a code of our own.
 *
 * The two sides differ: the client's socket (from `Deno.upgradeWebSocket`)
 * may send any sendable code, the upstream's (a `WebSocket` client) only
 * 1000 and 3000–4999, as the WebSocket API allows.
 *
 * | The other side | To the client | To the upstream |
 * | --- | --- | --- |
 * | closed with 1000, 3000–4999 | the same code and reason | the same code and reason |
 * | closed with 1001–1003, 1007–1013 | the same code and reason | 1000, its reason (else `client closed with <code>`) |
 * | closed with no code (1005) | no code | no code |
 * | sent a message over 64 MiB | 1009 `upstream message over 64 MiB` | 1000 `client message over 64 MiB` |
 * | vanished (no close frame), anything else | 1011 `upstream connection lost` | 1000 `client connection lost` |
 *
 * @module
 */

/** The largest message Deno's WebSocket reads (a larger frame is an error and its connection is dropped). */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * The most bytes queued for one side before the next message to it closes the bridge instead (a message is sent
 * whole, so one side may hold this plus one message).
 */
export const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/** A close to send: no code sends a close frame without a status (the peer sees 1005). */
export interface Close {
  readonly code?: number;
  readonly reason: string;
}

/**
 * Can a peer send this close code? 1000–1003, 1007–1013 and 3000–4999;
 * 1004–1006 and 1015 are reserved and 1014 is refused by Deno's client.
 *
 * @example Usage
 * ```ts
 * import { sendableCode } from "./ws_close.ts";
 * if (!sendableCode(1011) || sendableCode(1006) || sendableCode(0) || !sendableCode(4000)) throw new Error();
 * ```
 */
export function sendableCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1013) || (code >= 3000 && code <= 4999);
}

const encoder = new TextEncoder();

/**
 * A close reason cut to the 123 bytes a close frame can carry, at a
 * character boundary.
 *
 * @example Usage
 * ```ts
 * import { closeReason } from "./ws_close.ts";
 * if (new TextEncoder().encode(closeReason("é".repeat(100))).length !== 122) throw new Error();
 * ```
 */
export function closeReason(reason: string): string {
  if (encoder.encode(reason).length <= 123) return reason;
  let out = "";
  let bytes = 0;
  for (const ch of reason) {
    const n = encoder.encode(ch).length;
    if (bytes + n > 123) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/** Was this error event Deno's refusal of a frame over {@linkcode MAX_MESSAGE_BYTES}? */
export function isTooLarge(error: string | undefined): boolean {
  return error !== undefined && /too large|too big/i.test(error);
}

/**
 * What the client gets when the upstream closed with `code` and `reason`;
 * `error` is the message of the upstream's error event, if any.
 */
export function closeForClient(code: number, reason: string, error?: string): Close {
  if (sendableCode(code)) return { code, reason: closeReason(reason) };
  if (code === 1005) return { reason: "" };
  if (isTooLarge(error)) return { code: 1009, reason: "upstream message over 64 MiB" };
  return { code: 1011, reason: "upstream connection lost" };
}

/**
 * What the upstream gets when the client closed with `code` and `reason`;
 * `error` is the message of the client's error event, if any.
 */
export function closeForUpstream(code: number, reason: string, error?: string): Close {
  if (code === 1000 || (code >= 3000 && code <= 4999)) return { code, reason: closeReason(reason) };
  if (code === 1005) return { reason: "" };
  if (sendableCode(code)) return { code: 1000, reason: closeReason(reason || `client closed with ${code}`) };
  if (isTooLarge(error)) return { code: 1000, reason: "client message over 64 MiB" };
  return { code: 1000, reason: "client connection lost" };
}
