/**
 * A raw HTTP/2 origin for tests of the h2 upstream client: frames read and written by hand over `Deno.listen`, so a
 * test can misbehave as no HTTP/2 library would (GOAWAY at any moment, a closed socket mid-response, a 1-byte
 * window). Header blocks go out as HPACK literals without indexing (runtime/listen/h2/_raw_client.ts) and are read
 * with our decoder. Each request stream is handed to the test's `onStream` with its connection.
 *
 * @module
 */
import {
  ACK,
  DATA,
  END_HEADERS,
  END_STREAM,
  frame,
  GOAWAY,
  goawayPayload,
  HEADERS,
  readUint31,
  SETTINGS,
  settingsPayload,
  uint32Payload,
  WINDOW_UPDATE,
} from "../../runtime/listen/h2/frames.ts";
import { HpackDecoder } from "../../runtime/listen/h2/hpack.ts";
import { literalBlock } from "../../runtime/listen/h2/_raw_client.ts";

/** One connection the origin accepted. */
export interface RawOriginConn {
  /** 1 for the first connection that sent a request, 2 for the next… (health checks' connections do not count). */
  readonly index: number;
  /** Writes frames (errors ignored: the proxy may have gone). */
  write(...frames: Uint8Array[]): Promise<void>;
  /** A response head (`end`: no body). */
  head(id: number, status: number, end: boolean, extra?: readonly string[]): Promise<void>;
  /** DATA on `id`. */
  data(id: number, bytes: Uint8Array, end: boolean): Promise<void>;
  /** GOAWAY. */
  goaway(lastStream: number, code?: number): Promise<void>;
  /** Closes the socket. */
  close(): void;
  /** Closed (by us or the proxy). */
  readonly closed: boolean;
}

/** A request stream as the origin read it. */
export interface RawRequest {
  readonly id: number;
  /** Decoded header fields, flat. */
  readonly fields: string[];
  /** The request body (whole: the stream is handed over at its END_STREAM). */
  readonly body: Uint8Array;
  /** The largest DATA frame the client sent on it. */
  readonly largestFrame: number;
}

/** Options of {@linkcode startRawH2Origin}. */
export interface RawOriginOptions {
  /** Extra SETTINGS `[id, value, …]` the origin announces. */
  readonly settings?: readonly number[];
  /** Window given back per DATA frame (default: what it carried, at once). */
  readonly credit?: (n: number) => number;
  /** Called for each request once whole. */
  readonly onStream: (conn: RawOriginConn, req: RawRequest) => void | Promise<void>;
}

/** A running raw origin. */
export interface RawOrigin {
  readonly port: number;
  /** Connections that sent a request so far. */
  readonly connections: number;
  /** Largest data frame seen on any stream, and the most bytes a stream sent beyond the window we gave. */
  readonly overrun: number;
  close(): Promise<void>;
}

/** Starts a raw-frame h2c origin on 127.0.0.1. */
export function startRawH2Origin(options: RawOriginOptions): RawOrigin {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  let overrun = 0;
  let requested = 0;
  const serve = async (conn: Deno.Conn) => {
    let closed = false;
    let index = 0;
    (conn as Deno.TcpConn).setNoDelay(true);
    const write = async (...frames: Uint8Array[]) => {
      const f = new Uint8Array(frames.reduce((n, x) => n + x.byteLength, 0));
      frames.reduce((at, x) => (f.set(x, at), at + x.byteLength), 0);
      try {
        let off = 0;
        while (off < f.byteLength) off += await conn.write(f.subarray(off));
      } catch {
        closed = true;
      }
    };
    const c: RawOriginConn = {
      get index() {
        return index;
      },
      write,
      head: (id, status, end, extra = []) =>
        write(
          frame(HEADERS, END_HEADERS | (end ? END_STREAM : 0), id, literalBlock([":status", `${status}`, ...extra])),
        ),
      data: (id, bytes, end) => write(frame(DATA, end ? END_STREAM : 0, id, bytes)),
      goaway: (last, code = 0) => write(frame(GOAWAY, 0, 0, goawayPayload(last, code))),
      close: () => {
        if (closed) return;
        closed = true;
        try {
          conn.close();
        } catch { /* closed */ }
      },
      get closed() {
        return closed;
      },
    };
    const initialWindow = (() => {
      const s = options.settings ?? [];
      for (let i = 0; i < s.length; i += 2) if (s[i] === 0x4) return s[i + 1]!;
      return 65535;
    })();
    await write(frame(SETTINGS, 0, 0, settingsPayload([...(options.settings ?? [])])));
    const dec = new HpackDecoder();
    const streams = new Map<number, { fields: string[]; body: Uint8Array[]; largest: number; window: number }>();
    let buf = new Uint8Array(0);
    let preface = false;
    const chunk = new Uint8Array(65536);
    const done = (id: number) => {
      const s = streams.get(id)!;
      streams.delete(id);
      const n = s.body.reduce((a, b) => a + b.byteLength, 0);
      const body = new Uint8Array(n);
      let o = 0;
      for (const b of s.body) body.set(b, (o += b.byteLength) - b.byteLength);
      void Promise.resolve(options.onStream(c, { id, fields: s.fields, body, largestFrame: s.largest })).catch(
        () => {},
      );
    };
    try {
      for (;;) {
        const n = await conn.read(chunk);
        if (n === null) break;
        const next = new Uint8Array(buf.byteLength + n);
        next.set(buf);
        next.set(chunk.subarray(0, n), buf.byteLength);
        buf = next;
        if (!preface) {
          if (buf.byteLength < 24) continue;
          buf = buf.subarray(24);
          preface = true;
        }
        while (buf.byteLength >= 9) {
          const len = (buf[0]! << 16) | (buf[1]! << 8) | buf[2]!;
          if (buf.byteLength < 9 + len) break;
          const type = buf[3]!, flags = buf[4]!, id = readUint31(buf, 5);
          const payload = buf.slice(9, 9 + len);
          buf = buf.subarray(9 + len);
          if (type === SETTINGS && (flags & ACK) === 0) await write(frame(SETTINGS, ACK, 0));
          else if (type === HEADERS) {
            if (index === 0) index = ++requested;
            streams.set(id, { fields: dec.decode(payload), body: [], largest: 0, window: initialWindow });
            if ((flags & END_STREAM) !== 0) done(id);
          } else if (type === DATA) {
            const s = streams.get(id);
            if (s === undefined) continue;
            s.body.push(payload);
            s.largest = Math.max(s.largest, len);
            s.window -= len;
            if (s.window < 0) overrun = Math.max(overrun, -s.window);
            const back = options.credit?.(len) ?? len;
            if (back > 0 && (flags & END_STREAM) === 0) {
              s.window += back;
              await write(
                frame(WINDOW_UPDATE, 0, id, uint32Payload(back)),
                frame(WINDOW_UPDATE, 0, 0, uint32Payload(len)),
              );
            } else if (len > 0) await write(frame(WINDOW_UPDATE, 0, 0, uint32Payload(len)));
            if ((flags & END_STREAM) !== 0) done(id);
          }
        }
      }
    } catch { /* the proxy went */ }
    c.close();
    conns.delete(conn);
  };
  void (async () => {
    try {
      for await (const conn of listener) {
        conns.add(conn);
        void serve(conn);
      }
    } catch { /* closed */ }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    get connections() {
      return requested;
    },
    get overrun() {
      return overrun;
    },
    close: async () => {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await new Promise((r) => setTimeout(r, 10));
    },
  };
}
