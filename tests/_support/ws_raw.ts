/**
 * A WebSocket client on a raw TCP connection, for tests that must do what
 * the `WebSocket` API cannot: drop the connection without a close frame, or
 * write one frame far larger than any limit.
 *
 * @module
 */
import assert from "node:assert/strict";

/** An upgraded raw connection. */
export interface RawWebSocket {
  readonly conn: Deno.TcpConn;
  /** The response head as received (status line and headers). */
  readonly head: string;
  /** Bytes received after the head, before this returned. */
  readonly rest: Uint8Array;
}

/** The answer to a raw upgrade request. */
export interface WsHandshake {
  readonly conn: Deno.TcpConn;
  /** The answer's status; 0 when the connection closed before a whole head. */
  readonly status: number;
  /** The response head as received (status line and headers, one char per byte). */
  readonly head: string;
  /** Bytes received after the head (everything received when there was none). */
  readonly rest: Uint8Array;
}

/** Connects to `port`, sends an upgrade for `path` (with `host`) and reads the answer's head, whatever it is. */
export async function wsHandshake(port: number, path: string, host = `127.0.0.1:${port}`): Promise<WsHandshake> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  await conn.write(
    new TextEncoder().encode(
      `GET ${path} HTTP/1.1\r\nhost: ${host}\r\nupgrade: websocket\r\nconnection: Upgrade\r\n` +
        `sec-websocket-key: ${key}\r\nsec-websocket-version: 13\r\n\r\n`,
    ),
  );
  let got = new Uint8Array(0);
  const buf = new Uint8Array(16 * 1024);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) return { conn, status: 0, head: "", rest: got };
    const next = new Uint8Array(got.length + n);
    next.set(got);
    next.set(buf.subarray(0, n), got.length);
    got = next;
    // One char per byte, so that an index in the text is one in the bytes.
    const text = latin1.decode(got);
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) {
      const head = text.slice(0, end);
      return { conn, status: Number(head.split(" ")[1]), head, rest: got.subarray(end + 4) };
    }
  }
}

const latin1 = new TextDecoder("latin1");

/** {@linkcode wsHandshake} that must be answered 101: fails on any other answer (the connection closed). */
export async function rawWebSocket(port: number, path: string): Promise<RawWebSocket> {
  const { conn, status, head, rest } = await wsHandshake(port, path);
  if (status === 0) {
    conn.close();
    throw new Error(`closed before the upgrade answer: ${latin1.decode(rest)}`);
  }
  if (!head.startsWith("HTTP/1.1 101")) conn.close();
  assert.match(head, /^HTTP\/1\.1 101/, "the proxy upgrades");
  return { conn, head, rest };
}

/** The head of a masked client frame (FIN set) with `length` payload bytes; the mask is zero, so the payload goes as is. */
export function clientFrameHead(opcode: number, length: number): Uint8Array {
  const mask = [0, 0, 0, 0];
  if (length < 126) return new Uint8Array([0x80 | opcode, 0x80 | length, ...mask]);
  if (length < 65536) return new Uint8Array([0x80 | opcode, 0x80 | 126, length >> 8, length & 255, ...mask]);
  const b = new Uint8Array(14);
  b[0] = 0x80 | opcode;
  b[1] = 0x80 | 127;
  new DataView(b.buffer).setBigUint64(2, BigInt(length));
  b.set(mask, 10);
  return b;
}

/** Writes one binary frame of `length` zero bytes (in 1 MiB writes); resolves false when the peer closed first. */
export async function writeHugeFrame(conn: Deno.Conn, length: number): Promise<boolean> {
  const chunk = new Uint8Array(1024 * 1024);
  try {
    await conn.write(clientFrameHead(2, length));
    for (let sent = 0; sent < length; sent += chunk.length) {
      await conn.write(chunk.subarray(0, Math.min(chunk.length, length - sent)));
    }
    return true;
  } catch {
    return false;
  }
}

/** Closes a connection, ignoring one already closed. */
export function drop(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

/** The `sec-websocket-accept` a server answers to `key` (RFC 6455 §4.2.2). */
export async function wsAccept(key: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-1",
    new TextEncoder().encode(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`),
  );
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}
