/**
 * The byte stream the HTTP/1.1 engine reads requests from and writes answers to: what a `Deno.TcpConn` and a
 * `Deno.TlsConn` give, and what {@linkcode NodeSocketStream} makes of a `node:tls` socket (decrypted bytes, in
 * process, no loopback hop).
 *
 * @module
 */
import type { Socket } from "node:net";
import type { TlsFacts } from "../http/message.ts";

/** A connection as the engine uses it. */
export interface ByteStream {
  readonly remoteAddr: Deno.Addr;
  readonly localAddr: Deno.Addr;
  /** Reads into `p`; the count, or null at the end of the stream. */
  read(p: Uint8Array): Promise<number | null>;
  /** Writes from `p`; the count written. */
  write(p: Uint8Array): Promise<number>;
  /** Ends the writing side (the peer reads the end). */
  closeWrite(): Promise<void>;
  /** Closes both sides at once. */
  close(): void;
  /** TCP_NODELAY, where there is such a thing. */
  setNoDelay?(noDelay?: boolean): void;
  /** Its TLS facts, when the stream is the decrypted side of a TLS connection. */
  readonly tls?: TlsFacts | undefined;
}

/**
 * A `node:net`/`node:tls` socket as a {@linkcode ByteStream}: `data` events queue into reads (the socket paused while
 * nothing waits, so TCP's flow control holds a slow reader), writes resolve once the socket took them.
 */
export class NodeSocketStream implements ByteStream {
  readonly #socket: Socket;
  #queued: Uint8Array | undefined;
  #waiting: { p: Uint8Array; resolve: (n: number | null) => void; reject: (e: unknown) => void } | undefined;
  #ended = false;
  #error: unknown;
  readonly remoteAddr: Deno.NetAddr;
  readonly localAddr: Deno.NetAddr;
  readonly tls: TlsFacts | undefined;

  /**
   * @param socket The socket (a `node:tls` one gives its decrypted bytes).
   * @param remote The client, when it is not the socket's peer (a PROXY protocol header named it).
   * @param tls For a TLS socket whose handshake is done: what it settled (the TLS listener read it).
   */
  constructor(socket: Socket, remote?: { readonly hostname: string; readonly port: number }, tls?: TlsFacts) {
    this.#socket = socket;
    this.tls = tls;
    this.remoteAddr = {
      transport: "tcp",
      hostname: remote?.hostname ?? socket.remoteAddress ?? "",
      port: remote?.port ?? socket.remotePort ?? 0,
    };
    this.localAddr = { transport: "tcp", hostname: socket.localAddress ?? "", port: socket.localPort ?? 0 };
    socket.pause();
    socket.on("data", (chunk: Uint8Array) => {
      const w = this.#waiting;
      if (w !== undefined) {
        this.#waiting = undefined;
        const n = Math.min(chunk.byteLength, w.p.byteLength);
        w.p.set(chunk.subarray(0, n));
        if (n < chunk.byteLength) {
          this.#queued = chunk.subarray(n);
          socket.pause();
        }
        w.resolve(n);
        if (this.#queued === undefined && this.#waiting === undefined) socket.pause();
        return;
      }
      this.#queued = this.#queued === undefined ? chunk : concat(this.#queued, chunk);
      socket.pause();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#waiting?.resolve(null);
      this.#waiting = undefined;
    });
    socket.on("error", (e) => {
      this.#error = e;
      this.#waiting?.reject(e);
      this.#waiting = undefined;
    });
    socket.on("close", () => {
      this.#ended = true;
      this.#waiting?.resolve(null);
      this.#waiting = undefined;
    });
  }

  read(p: Uint8Array): Promise<number | null> {
    const q = this.#queued;
    if (q !== undefined) {
      const n = Math.min(q.byteLength, p.byteLength);
      p.set(q.subarray(0, n));
      this.#queued = n < q.byteLength ? q.subarray(n) : undefined;
      return Promise.resolve(n);
    }
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.#waiting = { p, resolve, reject };
      this.#socket.resume();
    });
  }

  write(p: Uint8Array): Promise<number> {
    if (this.#socket.destroyed) return Promise.reject(new Deno.errors.BrokenPipe("the socket is closed"));
    // The socket keeps a reference to what it is given: a copy, since the caller reuses its buffer.
    const copy = p.slice();
    return new Promise((resolve, reject) => {
      this.#socket.write(copy, (e) => e ? reject(e) : resolve(p.byteLength));
    });
  }

  closeWrite(): Promise<void> {
    return new Promise((resolve) => this.#socket.end(resolve));
  }

  /** Closes: what was written goes out, with TLS's close_notify, then the socket is destroyed. */
  close(): void {
    const socket = this.#socket;
    if (socket.destroyed) return;
    if (!socket.writable) return void socket.destroy();
    socket.end(() => socket.destroy());
    // A peer that never reads would hold the end: the socket goes anyway.
    setTimeout(() => socket.destroy(), 5000).unref?.();
  }

  setNoDelay(noDelay = true): void {
    this.#socket.setNoDelay(noDelay);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}
