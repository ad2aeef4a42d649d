/**
 * WebSocket faults through the proxy, with a raw TCP client (handshake and
 * frames by hand): abrupt closes from either side, a huge frame, a reserved
 * opcode, garbage from the upstream, 200 connections opened and dropped.
 * After each, the runner checks the proxy still answers.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { FnCase } from "./case.ts";
import { type Origin, startOrigin } from "../_support/origin.ts";
import { wsHandshake } from "../_support/ws_raw.ts";

/** A WebSocket echo origin (`Deno.upgradeWebSocket`). */
export function startWsEchoOrigin(): Promise<Origin> {
  return startOrigin("ws", (req) => {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("not a websocket", { status: 400 });
    }
    const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
    socket.onmessage = (e) => {
      try {
        socket.send(e.data);
      } catch {
        // Closed meanwhile.
      }
    };
    socket.onerror = () => {};
    return response;
  });
}

const enc = new TextEncoder();

/** A raw WebSocket client connection after its handshake. */
interface RawWs {
  readonly conn: Deno.Conn;
  /** The handshake response's status. */
  readonly status: number;
  /** Bytes read after the handshake's head. */
  leftover: Uint8Array;
}

async function handshake(port: number, path: string): Promise<RawWs> {
  const { conn, status, rest } = await wsHandshake(port, path, "h.test");
  return { conn, status, leftover: rest };
}

/** A masked client frame. */
function frame(opcode: number, payload: Uint8Array, fin = true): Uint8Array {
  const len = payload.length;
  const head: number[] = [(fin ? 0x80 : 0) | opcode];
  if (len < 126) head.push(0x80 | len);
  else if (len < 65536) head.push(0x80 | 126, len >> 8, len & 0xff);
  else {
    head.push(0x80 | 127, 0, 0, 0, 0);
    head.push((len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff);
  }
  const mask = [1, 2, 3, 4];
  const out = new Uint8Array(head.length + 4 + len);
  out.set(head);
  out.set(mask, head.length);
  const o = head.length + 4;
  for (let i = 0; i < len; i++) out[o + i] = payload[i]! ^ mask[i & 3]!;
  return out;
}

/** Reads until the peer closes or `ms` pass; returns everything read (after the leftover). */
async function readAll(ws: RawWs, ms: number): Promise<{ bytes: Uint8Array; peerClosed: boolean }> {
  const parts: Uint8Array[] = [ws.leftover];
  let peerClosed = true;
  const timer = setTimeout(() => {
    peerClosed = false;
    try {
      ws.conn.close();
    } catch {
      // Closed.
    }
  }, ms);
  const buf = new Uint8Array(1 << 16);
  try {
    for (;;) {
      const n = await ws.conn.read(buf);
      if (n === null) break;
      parts.push(buf.slice(0, n));
    }
  } catch {
    // Closed by the timer or reset.
  } finally {
    clearTimeout(timer);
    try {
      ws.conn.close();
    } catch {
      // Closed.
    }
  }
  const total = parts.reduce((a, p) => a + p.length, 0);
  const bytes = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    bytes.set(p, o);
    o += p.length;
  }
  return { bytes, peerClosed };
}

/** The close code of the first close frame in `bytes` (server frames are unmasked), or undefined. */
function closeCode(bytes: Uint8Array): number | undefined {
  let i = 0;
  while (i + 2 <= bytes.length) {
    const op = bytes[i]! & 0x0f;
    let len = bytes[i + 1]! & 0x7f;
    let h = 2;
    if (len === 126) {
      len = (bytes[i + 2]! << 8) | bytes[i + 3]!;
      h = 4;
    } else if (len === 127) {
      len = Number(new DataView(bytes.buffer, bytes.byteOffset + i + 2, 8).getBigUint64(0));
      h = 10;
    }
    if (op === 0x8) return len >= 2 ? (bytes[i + h]! << 8) | bytes[i + h + 1]! : 1005;
    i += h + len;
  }
  return undefined;
}

function fn(name: string, nginxNote: string, run: FnCase["run"], pendingFix?: string): FnCase {
  return { kind: "fn", group: "websocket", name, nginxNote, run, ...(pendingFix ? { pendingFix } : {}) };
}

/** Every case of the group, in a stable order. */
export function wsCases(): FnCase[] {
  return [
    fn("ws/echo", "101, relays frames", async ({ port }) => {
      const ws = await handshake(port, "/ws/echo");
      assert.equal(ws.status, 101);
      await ws.conn.write(frame(0x1, enc.encode("hello")));
      // Read until the echo is in, then close cleanly (a close frame, then the server's close).
      const buf = new Uint8Array(4096);
      let got = new TextDecoder("latin1").decode(ws.leftover);
      const timer = setTimeout(() => ws.conn.close(), 3000);
      while (!got.includes("hello")) {
        const n = await ws.conn.read(buf);
        if (n === null) break;
        got += new TextDecoder("latin1").decode(buf.subarray(0, n));
      }
      clearTimeout(timer);
      assert.ok(got.includes("hello"), "the echo came back");
      ws.leftover = new Uint8Array(0);
      await ws.conn.write(frame(0x8, new Uint8Array([0x03, 0xe8])));
      const end = await readAll(ws, 3000);
      assert.ok(end.peerClosed, "the close was answered");
    }),
    fn("ws/client-drops-tcp-without-close", "relays the close to the upstream", async ({ port }) => {
      for (let i = 0; i < 5; i++) {
        const ws = await handshake(port, "/ws/drop");
        assert.equal(ws.status, 101);
        await ws.conn.write(frame(0x1, enc.encode("bye")));
        ws.conn.close();
      }
      await new Promise((r) => setTimeout(r, 300));
    }),
    fn("ws/client-drops-mid-frame", "relays the close to the upstream", async ({ port }) => {
      const ws = await handshake(port, "/ws/mid");
      assert.equal(ws.status, 101);
      await ws.conn.write(frame(0x2, new Uint8Array(100_000)).subarray(0, 5000));
      ws.conn.close();
      await new Promise((r) => setTimeout(r, 300));
    }),
    fn(
      "ws/upstream-drops-tcp",
      "closes the client's connection",
      async ({ port, id }) => {
        const ws = await handshake(port, `/c/${id}/fault/ws-drop`);
        assert.equal(ws.status, 101);
        const { bytes, peerClosed } = await readAll(ws, 3000);
        assert.ok(peerClosed, "the client's connection was closed");
        const code = closeCode(bytes);
        assert.ok(code === undefined || (code >= 1000 && code !== 1005 && code !== 1006), `close code ${code}`);
      },
    ),
    fn(
      "ws/upstream-sends-garbage-frame",
      "relays the bytes as they are",
      async ({ port, id }) => {
        const ws = await handshake(port, `/c/${id}/fault/ws-echo-then-garbage`);
        assert.equal(ws.status, 101);
        const { peerClosed } = await readAll(ws, 3000);
        assert.ok(peerClosed, "the client's connection was closed");
      },
    ),
    fn("ws/reserved-opcode-from-client", "relays the bytes as they are", async ({ port }) => {
      const ws = await handshake(port, "/ws/reserved");
      assert.equal(ws.status, 101);
      await ws.conn.write(frame(0x3, enc.encode("x")));
      const { peerClosed } = await readAll(ws, 3000);
      assert.ok(peerClosed, "the connection was closed on a protocol error");
    }),
    fn("ws/huge-frame-70mib", "relays it (no frame limit)", async ({ port }) => {
      const ws = await handshake(port, "/ws/huge");
      assert.equal(ws.status, 101);
      const big = frame(0x2, new Uint8Array(70 * 1024 * 1024));
      const reading = readAll(ws, 8000);
      await ws.conn.write(big).catch(() => 0);
      await reading;
    }),
    fn("ws/200-opened-and-dropped", "relays the closes", async ({ port }) => {
      const all = await Promise.all(Array.from({ length: 200 }, () => handshake(port, "/ws/many")));
      assert.equal(all.filter((w) => w.status === 101).length, 200, "200 upgrades");
      for (const w of all) w.conn.close();
      await new Promise((r) => setTimeout(r, 500));
    }),
  ];
}
