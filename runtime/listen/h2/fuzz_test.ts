/**
 * The HTTP/2 connection against random frames (a fixed seed): whatever a client sends, the engine ends the connection
 * or the stream cleanly, nothing escapes as an uncaught error (the test would fail), and the engine still answers the
 * next client.
 *
 * @module
 */
import assert from "node:assert/strict";
import { responseWith } from "../../http/response_build.ts";
import { END_STREAM, frame, PREFACE, SETTINGS } from "./frames.ts";
import { headersFrame, literalBlock, RawClient, requestFields, serveEngine } from "./_raw_client.ts";

/** A small deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("h2 connection: 300 connections of random frames end cleanly, and the engine still answers", async () => {
  const s = serveEngine(async (req) => {
    if (req.body) await new Response(req.body).arrayBuffer().catch(() => {});
    return responseWith("ok", {});
  }, { idleTimeout: 2000 });
  try {
    const rnd = random(17);
    const int = (n: number) => Math.floor(rnd() * n);
    for (let round = 0; round < 300; round++) {
      const c = await RawClient.open(s.port, false);
      try {
        const parts: Uint8Array[] = [PREFACE, frame(SETTINGS, 0, 0)];
        const count = 1 + int(12);
        for (let i = 0; i < count; i++) {
          const kind = int(4);
          if (kind === 0) {
            parts.push(headersFrame(1 + 2 * int(4), requestFields("/", int(2) ? "GET" : "POST"), !!int(2)));
          } else if (kind === 1) {
            // A valid header block with random flags.
            parts.push(frame(1, int(256), int(6), literalBlock(requestFields())));
          } else {
            const payload = new Uint8Array(int(40));
            for (let j = 0; j < payload.length; j++) payload[j] = int(256);
            parts.push(frame(int(11), int(256), int(3) === 0 ? 0 : int(8), payload));
          }
        }
        if (int(10) === 0) parts.push(new Uint8Array([int(256), int(256), int(256)]));
        await c.send(...parts).catch(() => {});
        // Read what comes for a moment; the connection may end, or stay.
        await c.until(() => false, 20);
      } finally {
        c.close();
      }
    }
    const c = await RawClient.open(s.port);
    try {
      await c.send(headersFrame(1, requestFields()));
      const frames = await c.until((f) => f.stream === 1 && (f.flags & END_STREAM) !== 0);
      assert.ok(frames.some((f) => f.type === 0 && f.stream === 1), "the engine answers after the fuzz");
    } finally {
      c.close();
    }
  } finally {
    await s.close();
  }
});
