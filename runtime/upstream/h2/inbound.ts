/**
 * The frames an h2 upstream connection reads, checked (RFC 9113 §6) and handed to the connection's handlers: a
 * malformed frame, a frame inside a header block, a PUSH_PROMISE (push is off) or a zero connection WINDOW_UPDATE is
 * a connection error (thrown); PRIORITY and unknown types are ignored. And the one header block the connection sends
 * per stream, split into HEADERS and CONTINUATION frames.
 *
 * @module
 */
import * as F from "../../listen/h2/frames.ts";
import type { BlockReader } from "../../listen/h2/header_blocks.ts";
import type { FrameWriter } from "../../listen/h2/writer.ts";

/** Writes `block` on stream `id` in frames of at most `max` bytes (`end`: END_STREAM, no body follows). */
export function writeHeaderBlock(out: FrameWriter, id: number, block: Uint8Array, max: number, end: boolean): void {
  const flags = end ? F.END_STREAM : 0;
  if (block.byteLength <= max) return out.frame(F.HEADERS, flags | F.END_HEADERS, id, block);
  out.frame(F.HEADERS, flags, id, block, 0, max);
  for (let off = max; off < block.byteLength; off += max) {
    const n = Math.min(max, block.byteLength - off);
    out.frame(F.CONTINUATION, off + n === block.byteLength ? F.END_HEADERS : 0, id, block, off, n);
  }
}

/** What the connection does with each checked frame. */
export interface InboundHandler {
  /** The connection's header blocks being read. */
  readonly blocks: BlockReader;
  /** DATA on a stream (padding checked). */
  data(h: F.FrameHeader, b: Uint8Array, p: number): void;
  /** A whole header block. */
  block(id: number, flags: number, block: Uint8Array): void;
  /** RST_STREAM. */
  reset(id: number, code: number): void;
  /** SETTINGS (not yet checked: settings.ts reads it). */
  settings(h: F.FrameHeader, b: Uint8Array, p: number): void;
  /** A PING to acknowledge (its 8 bytes). */
  ping(payload: Uint8Array): void;
  /** GOAWAY. */
  goaway(lastStream: number, code: number): void;
  /** WINDOW_UPDATE (0 on a stream is the stream's error, left to the connection). */
  window(id: number, increment: number): void;
}

/**
 * Checks one frame (payload at `p` of `b`) and hands it to `on`.
 *
 * @throws {F.ConnectionError} A connection error.
 */
export function onFrame(on: InboundHandler, h: F.FrameHeader, b: Uint8Array, p: number): void {
  if (on.blocks.pendingId !== 0 && h.type !== F.CONTINUATION) {
    throw new F.ConnectionError(F.PROTOCOL_ERROR, "a frame inside a header block");
  }
  switch (h.type) {
    case F.DATA: {
      if (h.stream === 0) throw new F.ConnectionError(F.PROTOCOL_ERROR, "DATA on stream 0");
      const start = (h.flags & F.PADDED) !== 0 ? p + 1 : p;
      if (F.unpaddedEnd(h, b, p) < start) {
        throw new F.ConnectionError(F.PROTOCOL_ERROR, "DATA padding longer than the frame");
      }
      return on.data(h, b, p);
    }
    case F.HEADERS: {
      if (h.stream === 0) throw new F.ConnectionError(F.PROTOCOL_ERROR, "HEADERS on stream 0");
      const block = on.blocks.headers(h, b, p);
      if (block !== undefined) on.block(block.id, block.flags, block.block);
      return;
    }
    case F.CONTINUATION: {
      const block = on.blocks.continuation(h, b, p);
      if (block !== undefined) on.block(block.id, block.flags, block.block);
      return;
    }
    case F.RST_STREAM:
      if (h.length !== 4 || h.stream === 0) throw new F.ConnectionError(F.PROTOCOL_ERROR, "a malformed RST_STREAM");
      return on.reset(h.stream, F.readUint32(b, p));
    case F.SETTINGS:
      return on.settings(h, b, p);
    case F.PUSH_PROMISE:
      throw new F.ConnectionError(F.PROTOCOL_ERROR, "PUSH_PROMISE with push disabled");
    case F.PING:
      if (h.length !== 8 || h.stream !== 0) throw new F.ConnectionError(F.PROTOCOL_ERROR, "a malformed PING");
      if ((h.flags & F.ACK) === 0) on.ping(b.slice(p, p + 8));
      return;
    case F.GOAWAY:
      if (h.length < 8 || h.stream !== 0) throw new F.ConnectionError(F.PROTOCOL_ERROR, "a malformed GOAWAY");
      return on.goaway(F.readUint31(b, p), F.readUint32(b, p + 4));
    case F.WINDOW_UPDATE: {
      if (h.length !== 4) throw new F.ConnectionError(F.PROTOCOL_ERROR, "a malformed WINDOW_UPDATE");
      const inc = F.readUint31(b, p);
      if (inc === 0 && h.stream === 0) throw new F.ConnectionError(F.PROTOCOL_ERROR, "a WINDOW_UPDATE of 0");
      return on.window(h.stream, inc);
    }
  }
}
