/**
 * The frames a client sends, read from its byte stream (RFC 9113 §3.4, §4.1): the connection preface first (checked
 * as it comes, so a wrong byte ends the connection at once), then whole frames, none larger than our
 * SETTINGS_MAX_FRAME_SIZE (16 KiB: larger is FRAME_SIZE_ERROR). A frame's payload is a view of the read buffer, valid
 * only while it is handled.
 *
 * @module
 */
import type { ByteStream } from "../byte_stream.ts";
import {
  ConnectionError,
  DEFAULT_MAX_FRAME,
  FRAME_HEADER,
  FRAME_SIZE_ERROR,
  type FrameHeader,
  PREFACE,
  PROTOCOL_ERROR,
  readFrameHeader,
} from "./frames.ts";

/** The read buffer. */
const READ_SIZE = 32 * 1024;

/** Handles one frame, its payload at `p` of `b`. */
export type OnFrame = (h: FrameHeader, b: Uint8Array, p: number) => void;

/**
 * Reads frames from `io` (`initial`, read already, first) and hands each to `onFrame` until the stream ends (or
 * fails), or `stopped()` says so.
 *
 * @throws {ConnectionError} A bad preface, a frame too large, or what `onFrame` throws.
 */
export async function readFrames(
  io: ByteStream,
  initial: Uint8Array,
  onFrame: OnFrame,
  stopped: () => boolean,
): Promise<void> {
  const h: FrameHeader = { length: 0, type: 0, flags: 0, stream: 0 };
  let buf = new Uint8Array(Math.max(READ_SIZE, initial.byteLength * 2));
  buf.set(initial);
  let start = 0;
  let end = initial.byteLength;
  let preface = false;
  for (;;) {
    // Every whole frame in the buffer.
    for (;;) {
      if (stopped()) return;
      if (!preface) {
        const n = Math.min(end - start, PREFACE.byteLength);
        for (let i = 0; i < n; i++) {
          if (buf[start + i] !== PREFACE[i]) throw new ConnectionError(PROTOCOL_ERROR, "bad connection preface");
        }
        if (n < PREFACE.byteLength) break;
        start += n;
        preface = true;
      }
      if (end - start < FRAME_HEADER) break;
      readFrameHeader(buf, start, h);
      if (h.length > DEFAULT_MAX_FRAME) throw new ConnectionError(FRAME_SIZE_ERROR, `a frame of ${h.length} bytes`);
      if (end - start < FRAME_HEADER + h.length) break;
      const at = start + FRAME_HEADER;
      start = at + h.length;
      onFrame(h, buf, at);
    }
    if (start === end) start = end = 0;
    else if (buf.byteLength - end < FRAME_HEADER + DEFAULT_MAX_FRAME) {
      if (start > 0) {
        buf.copyWithin(0, start, end);
        end -= start;
        start = 0;
      } else {
        const next = new Uint8Array(buf.byteLength * 2);
        next.set(buf.subarray(0, end));
        buf = next;
      }
    }
    if (stopped()) return;
    let n: number | null;
    try {
      n = await io.read(buf.subarray(end));
    } catch {
      n = null;
    }
    // The client went; a half-read frame or a missing preface is dropped with it.
    if (n === null) return;
    end += n;
  }
}

/**
 * Ends our side of `io`, then reads and drops what the client still sends for up to `ms` (or until it ends), so that
 * closing does not turn into a TCP reset that loses what we sent last (a GOAWAY).
 */
export async function lingerClose(io: ByteStream, ms: number): Promise<void> {
  const until = Date.now() + ms;
  try {
    // A socket that cannot take its end (a peer that reads nothing) does not hold the close.
    let t: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([io.closeWrite(), new Promise<void>((resolve) => t = setTimeout(resolve, ms))]);
    clearTimeout(t);
    const sink = new Uint8Array(16384);
    while (Date.now() < until) {
      let t: ReturnType<typeof setTimeout> | undefined;
      const n = await Promise.race([
        io.read(sink),
        new Promise<null>((resolve) => t = setTimeout(() => resolve(null), until - Date.now())),
      ]);
      clearTimeout(t);
      if (n === null) break;
    }
  } catch { /* gone */ }
}
