/**
 * The raw connection after a 101 Switching Protocols, as a readable/writable pair for bidirectional piping.
 *
 * @module
 */

import type { Http1Conn } from "./conn.ts";

/**
 * Both directions of an upgraded connection. `readable` starts with the bytes the server sent right after the 101
 * head. Closing `writable` half-closes the connection; it is fully closed once both sides ended, or at once when
 * `readable` is cancelled or `writable` aborted. No read time limit applies after the upgrade (a quiet protocol may
 * wait as long as it likes); a write to the backend is bounded by the upstream's `write_timeout` (a backend that stops
 * reading closes the connection then, and the write fails).
 */
export interface Http1Upgrade {
  /** Bytes from the backend. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the backend. */
  readonly writable: WritableStream<Uint8Array>;
}

/**
 * Hands the connection over as streams; it never returns to the pool.
 *
 * @param conn The connection, positioned just past the 101 head.
 * @param onClose Called once when the connection is closed.
 * @param writeTimeout Time limit (ms) of each write to the backend; none when undefined.
 * @returns The two directions.
 */
export function upgradeConnection(conn: Http1Conn, onClose: () => void, writeTimeout?: number): Http1Upgrade {
  const transport = conn.transport;
  const leftover = conn.start < conn.end ? conn.buf.slice(conn.start, conn.end) : null;
  conn.start = conn.end;
  conn.quiet();
  let readEnded = false;
  let writeEnded = false;
  let closed = false;
  function closeAll(): void {
    if (closed) return;
    closed = true;
    conn.close();
    onClose();
  }
  function maybeClose(): void {
    if (readEnded && writeEnded) closeAll();
  }
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      if (leftover !== null) controller.enqueue(leftover);
    },
    async pull(controller) {
      const buf = new Uint8Array(16 * 1024);
      let n: number | null;
      try {
        n = await transport.read(buf);
      } catch (error) {
        readEnded = true;
        closeAll();
        controller.error(error);
        return;
      }
      if (n === null) {
        readEnded = true;
        controller.close();
        maybeClose();
        return;
      }
      controller.enqueue(buf.subarray(0, n));
    },
    cancel() {
      readEnded = true;
      closeAll();
    },
  }, { highWaterMark: 0 });
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      try {
        await conn.write(chunk, writeTimeout);
      } catch (error) {
        closeAll();
        throw error;
      }
    },
    async close() {
      writeEnded = true;
      try {
        await transport.closeWrite();
      } catch {
        closeAll();
      }
      maybeClose();
    },
    abort() {
      writeEnded = true;
      closeAll();
    },
  });
  return { readable, writable };
}
