/**
 * A raw HTTP/2 client for tests: frames written by hand over `Deno.connect`, frames read back one by one, header
 * blocks made as HPACK literals without indexing (valid for any decoder) and read with our decoder.
 *
 * @module
 */
import { createH2Engine, type H2Engine, type H2EngineOptions, type H2Handler } from "./engine.ts";
import {
  ACK,
  END_HEADERS,
  END_STREAM,
  frame,
  FRAME_HEADER,
  GOAWAY,
  HEADERS,
  PREFACE,
  readUint32,
  SETTINGS,
  settingsPayload,
} from "./frames.ts";
import { HpackDecoder } from "./hpack.ts";

const encoder = new TextEncoder();

/** A frame read back. */
export interface RawFrame {
  readonly type: number;
  readonly flags: number;
  readonly stream: number;
  readonly payload: Uint8Array;
}

/** A header block of literals without indexing, new names (`[name, value, …]`). */
export function literalBlock(fields: readonly string[]): Uint8Array {
  const out: number[] = [];
  const str = (s: string) => {
    const b = encoder.encode(s);
    if (b.byteLength < 127) out.push(b.byteLength);
    else {
      out.push(127);
      let v = b.byteLength - 127;
      while (v >= 128) {
        out.push((v & 0x7f) | 0x80);
        v >>>= 7;
      }
      out.push(v);
    }
    for (const x of b) out.push(x);
  };
  for (let i = 0; i < fields.length; i += 2) {
    out.push(0);
    str(fields[i]!);
    str(fields[i + 1]!);
  }
  return new Uint8Array(out);
}

/** A GET (or `method`) request head on `path`. */
export function requestFields(path = "/", method = "GET", extra: readonly string[] = []): string[] {
  return [":method", method, ":scheme", "http", ":path", path, ":authority", "a.test", ...extra];
}

/** A HEADERS frame (END_HEADERS, and END_STREAM with `end`). */
export function headersFrame(id: number, fields: readonly string[], end = true): Uint8Array {
  return frame(HEADERS, END_HEADERS | (end ? END_STREAM : 0), id, literalBlock(fields));
}

/** A raw client connection. */
export class RawClient {
  #buf = new Uint8Array(0);
  #reading: Promise<Uint8Array | null> | undefined;
  readonly decoder = new HpackDecoder(4096, 1 << 20);

  private constructor(readonly conn: Deno.TcpConn) {}

  /** Connects; with `preface`, sends the preface and empty SETTINGS (or `settings`). */
  static async open(port: number, preface = true, settings: readonly number[] = []): Promise<RawClient> {
    const c = new RawClient(await Deno.connect({ hostname: "127.0.0.1", port }));
    if (preface) await c.send(PREFACE, frame(SETTINGS, 0, 0, settingsPayload(settings)));
    return c;
  }

  /** Writes the bytes given, in one write. */
  async send(...parts: Uint8Array[]): Promise<void> {
    let n = 0;
    for (const p of parts) n += p.byteLength;
    const all = new Uint8Array(n);
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.byteLength;
    }
    let w = 0;
    while (w < all.byteLength) w += await this.conn.write(all.subarray(w));
  }

  /** The next frame, or null once the connection ended (or nothing came for `ms`). */
  async next(ms = 5000): Promise<RawFrame | null> {
    const deadline = Date.now() + ms;
    for (;;) {
      const b = this.#buf;
      if (b.byteLength >= FRAME_HEADER) {
        const len = (b[0]! << 16) | (b[1]! << 8) | b[2]!;
        if (b.byteLength >= FRAME_HEADER + len) {
          const f = {
            type: b[3]!,
            flags: b[4]!,
            stream: readUint32(b, 5) & 0x7fffffff,
            payload: b.slice(FRAME_HEADER, FRAME_HEADER + len),
          };
          this.#buf = b.slice(FRAME_HEADER + len);
          return f;
        }
      }
      // A read that a timeout left behind is kept for the next call: its bytes are not lost.
      const reading = this.#reading ??= this.#read();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const n = await Promise.race([
        reading,
        new Promise<"timeout">((resolve) =>
          timer = setTimeout(() => resolve("timeout"), Math.max(0, deadline - Date.now()))
        ),
      ]);
      clearTimeout(timer);
      if (n === "timeout") return null;
      this.#reading = undefined;
      if (n === null) return null;
      const next = new Uint8Array(b.byteLength + n.byteLength);
      next.set(b);
      next.set(n, b.byteLength);
      this.#buf = next;
    }
  }

  async #read(): Promise<Uint8Array | null> {
    const chunk = new Uint8Array(65536);
    try {
      const n = await this.conn.read(chunk);
      return n === null ? null : chunk.subarray(0, n);
    } catch {
      return null;
    }
  }

  /** Frames until one that `stop` accepts (included) or the end; acknowledges the server's SETTINGS. */
  async until(stop: (f: RawFrame) => boolean, ms = 5000): Promise<RawFrame[]> {
    const out: RawFrame[] = [];
    for (;;) {
      const f = await this.next(ms);
      if (f === null) return out;
      out.push(f);
      if (f.type === SETTINGS && (f.flags & ACK) === 0) await this.send(frame(SETTINGS, ACK, 0)).catch(() => {});
      if (stop(f)) return out;
    }
  }

  /** Frames until the GOAWAY; its error code (or -1 when none came). */
  async goawayCode(ms = 5000): Promise<number> {
    const frames = await this.until((f) => f.type === GOAWAY, ms);
    const g = frames.find((f) => f.type === GOAWAY);
    return g === undefined ? -1 : readUint32(g.payload, 4);
  }

  /** Decodes a header block read back. */
  fields(f: RawFrame): string[] {
    return this.decoder.decode(f.payload);
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}

/** An engine fed by a `Deno.listen` on loopback. */
export interface Served {
  readonly engine: H2Engine;
  readonly port: number;
  /** Stops accepting and shuts the engine down. */
  close(): Promise<void>;
}

/** Serves `handler` with an engine on a loopback port (h2c, as the HTTP/1.1 engine hands connections over). */
export function serveEngine(handler: H2Handler, options: Partial<H2EngineOptions> = {}): Served {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  const engine = createH2Engine({ authority: () => `127.0.0.1:${port}`, ...options }, handler);
  (async () => {
    for await (const c of l) {
      const peer = c.remoteAddr as Deno.NetAddr;
      void engine.serveStream(c, new Uint8Array(0), { hostname: peer.hostname, port: peer.port });
    }
  })().catch(() => {});
  return {
    engine,
    port,
    close: async () => {
      l.close();
      await engine.shutdown(500);
    },
  };
}
