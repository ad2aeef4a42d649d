/**
 * HTTP/2 settings (RFC 9113 §6.5): what a connection announces and enforces (the server's `h2_*` keys), the time
 * limits the engine's sweep applies, and a client's SETTINGS frame read and checked.
 *
 * @module
 */
import {
  ACK,
  ConnectionError,
  DEFAULT_MAX_FRAME,
  FRAME_SIZE_ERROR,
  type FrameHeader,
  MAX_MAX_FRAME,
  PROTOCOL_ERROR,
  readUint32,
  SETTINGS_ENABLE_PUSH,
  SETTINGS_HEADER_TABLE_SIZE,
  SETTINGS_INITIAL_WINDOW_SIZE,
  SETTINGS_MAX_CONCURRENT_STREAMS,
  SETTINGS_MAX_FRAME_SIZE,
  SETTINGS_MAX_HEADER_LIST_SIZE,
  settingsPayload,
} from "./frames.ts";

/** What a connection announces and enforces (the server's `h2_*` keys). */
export interface H2Settings {
  /** SETTINGS_MAX_CONCURRENT_STREAMS (`h2_max_concurrent_streams`, default 100). */
  readonly maxConcurrentStreams: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE (`h2_max_header_list_size`, default 64 KiB): larger heads get 431. */
  readonly maxHeaderListSize: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE (`h2_initial_window_size`): what a client may send on a stream unread. */
  readonly initialWindowSize: number;
  /** The connection's window (`h2_initial_connection_window_size`). */
  readonly connectionWindowSize: number;
}

/** The time limits the sweep applies (ms; 0: none). */
export interface H2Limits {
  /** A connection with no stream open this long gets GOAWAY and closes. */
  readonly idle: number;
  /** A request body the handler waits for that long is reset (CANCEL). */
  readonly read: number;
  /** A write that does not go out, or a response that waits for window, this long: cut or reset. */
  readonly write: number;
}

/** The payload of our SETTINGS frame (no server push). */
export function ourSettings(s: H2Settings): Uint8Array {
  return settingsPayload([
    SETTINGS_MAX_CONCURRENT_STREAMS,
    s.maxConcurrentStreams,
    SETTINGS_INITIAL_WINDOW_SIZE,
    s.initialWindowSize,
    SETTINGS_MAX_HEADER_LIST_SIZE,
    s.maxHeaderListSize,
    SETTINGS_ENABLE_PUSH,
    0,
  ]);
}

/** What a client's settings change on the connection. */
export interface PeerSettings {
  /** SETTINGS_HEADER_TABLE_SIZE: the encoder's table. */
  tableSize(v: number): void;
  /** SETTINGS_INITIAL_WINDOW_SIZE: the streams' send windows (flow.ts checks it). */
  initialWindow(v: number): void;
  /** SETTINGS_MAX_FRAME_SIZE: the largest frame we may send. */
  maxFrame(v: number): void;
}

/**
 * Reads a client's SETTINGS frame (payload at `p` of `b`) into `peer`.
 *
 * @returns Whether it was an acknowledgement of ours (else it must be acknowledged).
 * @throws {ConnectionError} A malformed frame or a value out of range.
 */
export function readSettings(h: FrameHeader, b: Uint8Array, p: number, peer: PeerSettings): boolean {
  if (h.stream !== 0) throw new ConnectionError(PROTOCOL_ERROR, "SETTINGS on a stream");
  if ((h.flags & ACK) !== 0) {
    if (h.length !== 0) throw new ConnectionError(FRAME_SIZE_ERROR, "a SETTINGS ACK with a payload");
    return true;
  }
  if (h.length % 6 !== 0) throw new ConnectionError(FRAME_SIZE_ERROR, "SETTINGS not a multiple of 6 bytes");
  for (let i = p; i < p + h.length; i += 6) {
    const v = readUint32(b, i + 2);
    switch ((b[i]! << 8) | b[i + 1]!) {
      case SETTINGS_HEADER_TABLE_SIZE:
        peer.tableSize(v);
        break;
      case SETTINGS_ENABLE_PUSH:
        if (v > 1) throw new ConnectionError(PROTOCOL_ERROR, "SETTINGS_ENABLE_PUSH not 0 or 1");
        break;
      case SETTINGS_INITIAL_WINDOW_SIZE:
        peer.initialWindow(v);
        break;
      case SETTINGS_MAX_FRAME_SIZE:
        if (v < DEFAULT_MAX_FRAME || v > MAX_MAX_FRAME) {
          throw new ConnectionError(PROTOCOL_ERROR, "SETTINGS_MAX_FRAME_SIZE out of range");
        }
        peer.maxFrame(v);
        break;
    }
  }
  return false;
}
