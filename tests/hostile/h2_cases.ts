/**
 * HTTP/2 (h2c, prior knowledge) abuse with the `node:http2` client and raw
 * frames: rapid reset, huge and many headers, many streams, a CONTINUATION
 * flood and a bad preface. After each, the runner checks the proxy still
 * answers.
 *
 * @module
 */
import assert from "node:assert/strict";
import http2 from "node:http2";
import type { FnCase } from "./case.ts";

function connect(port: number): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = http2.connect(`http://127.0.0.1:${port}`);
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

/** One request; resolves with the status, or the error's code when the stream fails. */
function request(
  s: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
): Promise<number | string> {
  return new Promise((resolve) => {
    let req: http2.ClientHttp2Stream;
    try {
      req = s.request(headers);
    } catch (e) {
      resolve((e as { code?: string }).code ?? String(e));
      return;
    }
    let status = 0;
    req.on("response", (h) => status = Number(h[":status"]));
    req.on("data", () => {});
    req.on("end", () => resolve(status));
    req.on("error", (e: { code?: string }) => resolve(e.code ?? "error"));
    req.on("close", () => resolve(status || `closed ${req.rstCode}`));
    req.end();
  });
}

function close(s: http2.ClientHttp2Session): Promise<void> {
  return new Promise((r) => {
    if (s.destroyed) return r();
    s.close(() => r());
    setTimeout(() => {
      s.destroy();
      r();
    }, 2000);
  });
}

function fn(name: string, nginxNote: string, run: FnCase["run"], pendingFix?: string): FnCase {
  return { kind: "fn", group: "h2", name, nginxNote, run, ...(pendingFix ? { pendingFix } : {}) };
}

/** A raw h2 frame. */
function h2frame(type: number, flags: number, stream: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(9 + payload.length);
  out[0] = (payload.length >> 16) & 0xff;
  out[1] = (payload.length >> 8) & 0xff;
  out[2] = payload.length & 0xff;
  out[3] = type;
  out[4] = flags;
  new DataView(out.buffer).setUint32(5, stream);
  out.set(payload, 9);
  return out;
}

const PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** Sends raw frames after the preface, then reads until the peer closes or `ms` pass. */
async function rawH2(port: number, frames: Uint8Array[], ms: number): Promise<{ peerClosed: boolean; bytes: number }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let peerClosed = true;
  const timer = setTimeout(() => {
    peerClosed = false;
    try {
      conn.close();
    } catch {
      // Closed.
    }
  }, ms);
  const writing = (async () => {
    try {
      await conn.write(PREFACE);
      for (const f of frames) await conn.write(f);
    } catch {
      // The proxy gave up on us.
    }
  })();
  let bytes = 0;
  const buf = new Uint8Array(65536);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      bytes += n;
    }
  } catch {
    // Reset or closed by the timer.
  } finally {
    clearTimeout(timer);
    await writing;
    try {
      conn.close();
    } catch {
      // Closed.
    }
  }
  return { peerClosed, bytes };
}

/** Every case of the group, in a stable order. */
export function h2Cases(): FnCase[] {
  return [
    fn("h2/get", "200", async ({ extra, id }) => {
      const s = await connect(extra.h2!);
      assert.equal(await request(s, { ":path": `/c/${id}/` }), 200);
      await close(s);
    }),
    fn("h2/rapid-reset-2000", "survives (CVE-2023-44487 limits)", async ({ extra, id }) => {
      const s = await connect(extra.h2!);
      s.on("error", () => {});
      for (let i = 0; i < 2000 && !s.destroyed; i++) {
        try {
          const r = s.request({ ":path": `/c/${id}/r${i}` });
          r.on("error", () => {});
          r.close(http2.constants.NGHTTP2_CANCEL);
        } catch {
          break;
        }
      }
      await new Promise((r) => setTimeout(r, 500));
      await close(s);
    }),
    fn("h2/500-concurrent-streams", "serves up to max_concurrent_streams, refuses the rest", async ({ extra, id }) => {
      const s = await connect(extra.h2!);
      s.on("error", () => {});
      const got = await Promise.all(Array.from({ length: 500 }, (_, i) => request(s, { ":path": `/c/${id}/s${i}` })));
      const ok = got.filter((g) => g === 200).length;
      assert.ok(ok >= 100, `only ${ok} of 500 streams answered 200 (${[...new Set(got)].join(",")})`);
      await close(s);
    }),
    fn("h2/huge-header-1mib", "refuses (431 or a stream/connection error)", async ({ extra, id }) => {
      const s = await connect(extra.h2!);
      s.on("error", () => {});
      const got = await request(s, { ":path": `/c/${id}/`, "x-huge": "h".repeat(1024 * 1024) });
      assert.notEqual(got, 200, "a 1 MiB header was not served");
      await close(s);
    }),
    fn("h2/10000-headers", "refuses", async ({ extra, id }) => {
      const s = await connect(extra.h2!);
      s.on("error", () => {});
      const h: http2.OutgoingHttpHeaders = { ":path": `/c/${id}/` };
      for (let i = 0; i < 10000; i++) h[`x-h${i}`] = String(i);
      const got = await request(s, h);
      assert.notEqual(got, 200, "10,000 headers were not served");
      await close(s);
    }),
    fn("h2/continuation-flood", "closes the connection", async ({ extra }) => {
      // HEADERS without END_HEADERS, then 10,000 CONTINUATION frames that never end it.
      const frames = [h2frame(0x4, 0, 0, new Uint8Array(0)), h2frame(0x1, 0x1, 1, new Uint8Array([0x82]))];
      const junk = new Uint8Array(1000).fill(0x40);
      for (let i = 0; i < 10_000; i++) frames.push(h2frame(0x9, 0, 1, junk));
      const r = await rawH2(extra.h2!, frames, 5000);
      assert.ok(r.peerClosed, "the flood was cut");
    }),
    fn("h2/bad-preface", "closes the connection", async ({ extra }) => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: extra.h2! });
      await conn.write(new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\ngarbage"));
      const buf = new Uint8Array(1024);
      const timer = setTimeout(() => conn.close(), 3000);
      let closed = false;
      try {
        while ((await conn.read(buf)) !== null) { /* discard */ }
        closed = true;
      } catch {
        // Closed by the timer.
      }
      clearTimeout(timer);
      try {
        conn.close();
      } catch {
        // Closed.
      }
      assert.ok(closed, "the bad preface was answered by a close");
    }),
    fn("h2/ping-flood", "answers or closes (flood detection)", async ({ extra }) => {
      const frames = [h2frame(0x4, 0, 0, new Uint8Array(0))];
      for (let i = 0; i < 10_000; i++) frames.push(h2frame(0x6, 0, 0, new Uint8Array(8)));
      const r = await rawH2(extra.h2!, frames, 3000);
      assert.ok(r.bytes > 0, "the proxy answered");
    }),
  ];
}
