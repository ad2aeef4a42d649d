/**
 * Header blocks as they come (RFC 9113 §4.3, §6.2, §6.10): a HEADERS frame (padding and priority skipped), then
 * CONTINUATION frames on the same stream until END_HEADERS, with no other frame between. The block is bounded before
 * HPACK reads it: more bytes than the header list may take (compressed is never larger) or more than
 * {@linkcode MAX_CONTINUATIONS} frames end the connection (ENHANCE_YOUR_CALM: the CONTINUATION flood).
 *
 * @module
 */
import {
  ConnectionError,
  END_HEADERS,
  ENHANCE_YOUR_CALM,
  type FrameHeader,
  PADDED,
  PRIORITY_FLAG,
  PROTOCOL_ERROR,
  unpaddedEnd,
} from "./frames.ts";

/** CONTINUATION frames one header block may take. */
export const MAX_CONTINUATIONS = 128;

/** A whole header block. */
export interface Block {
  readonly id: number;
  /** The HEADERS frame's flags (END_STREAM). */
  readonly flags: number;
  readonly block: Uint8Array;
}

/** A block being read. */
interface Pending {
  readonly id: number;
  readonly flags: number;
  readonly parts: Uint8Array[];
  bytes: number;
  frames: number;
}

/** Assembles the header blocks of one connection. */
export class BlockReader {
  #pending: Pending | undefined;

  /** @param maxBytes The most bytes a block may take. */
  constructor(readonly maxBytes: number) {}

  /** The stream whose block is being read, 0 when none is. */
  get pendingId(): number {
    return this.#pending?.id ?? 0;
  }

  /** A HEADERS frame (payload at `p` of `b`): its block when whole, else undefined (CONTINUATION follows). */
  headers(h: FrameHeader, b: Uint8Array, p: number): Block | undefined {
    const end = unpaddedEnd(h, b, p);
    let off = (h.flags & PADDED) !== 0 ? p + 1 : p;
    if ((h.flags & PRIORITY_FLAG) !== 0) off += 5;
    if (end < off) throw new ConnectionError(PROTOCOL_ERROR, "HEADERS padding longer than the frame");
    const fragment = b.subarray(off, end);
    if ((h.flags & END_HEADERS) !== 0) return { id: h.stream, flags: h.flags, block: fragment };
    this.#pending = { id: h.stream, flags: h.flags, parts: [fragment.slice()], bytes: fragment.byteLength, frames: 1 };
    this.#bound(this.#pending);
    return undefined;
  }

  /** A CONTINUATION frame: the block when this one ends it, else undefined. */
  continuation(h: FrameHeader, b: Uint8Array, p: number): Block | undefined {
    const pending = this.#pending;
    if (pending === undefined || pending.id !== h.stream) {
      throw new ConnectionError(PROTOCOL_ERROR, "CONTINUATION outside a header block");
    }
    pending.parts.push(b.slice(p, p + h.length));
    pending.bytes += h.length;
    pending.frames++;
    this.#bound(pending);
    if ((h.flags & END_HEADERS) === 0) return undefined;
    this.#pending = undefined;
    const block = new Uint8Array(pending.bytes);
    let at = 0;
    for (const part of pending.parts) {
      block.set(part, at);
      at += part.byteLength;
    }
    return { id: pending.id, flags: pending.flags, block };
  }

  #bound(pending: Pending): void {
    if (pending.bytes > this.maxBytes || pending.frames > MAX_CONTINUATIONS) {
      throw new ConnectionError(ENHANCE_YOUR_CALM, "a header block too large (CONTINUATION flood)");
    }
  }
}
