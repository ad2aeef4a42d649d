/**
 * The h2 client against raw-frame backends that break the protocol's limits: DATA beyond the windows we gave
 * (RFC 9113 §6.9), a PING flood, and a SETTINGS_INITIAL_WINDOW_SIZE that overflows a stream's window. The client
 * keeps its memory bounded, ends what broke the rule, and goes on serving.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  DATA,
  DEFAULT_MAX_FRAME,
  END_STREAM,
  ENHANCE_YOUR_CALM,
  FLOW_CONTROL_ERROR,
  frame,
  HEADERS,
  MAX_WINDOW,
  PING,
  readUint32,
  RST_STREAM,
  SETTINGS,
  SETTINGS_INITIAL_WINDOW_SIZE,
  settingsPayload,
  uint32Payload,
  WINDOW_UPDATE,
} from "../../listen/h2/frames.ts";
import { headersFrame } from "../../listen/h2/_raw_client.ts";
import { createH2Client, type H2ClientOptions } from "./client.ts";
import { RawPeer } from "./_raw_backend.ts";
import { get, options, rejection, startRaw, text } from "../_test_utils.ts";
import type { ConnectOptions } from "../types.ts";

/** Runs `fn` with an h2 client to a raw backend whose connections `serve` drives. */
async function withBackend(
  serve: (peer: RawPeer) => Promise<void>,
  fn: (client: ReturnType<typeof createH2Client>, backend: ReturnType<typeof startRaw>["backend"]) => Promise<void>,
  how: { options?: Partial<ConnectOptions>; extra?: H2ClientOptions } = {},
): Promise<void> {
  const server = startRaw(async (conn) => {
    const peer = new RawPeer(conn);
    await peer.start();
    await serve(peer);
  });
  const client = createH2Client(options(how.options), 10, how.extra ?? {});
  try {
    await fn(client, server.backend);
  } finally {
    client.close();
    await server.close();
  }
}

const OK = [":status", "200"];

Deno.test("h2 client resets a stream whose backend sends past its window, and the connection goes on", async () => {
  const TEN_MB = 10 * 1024 * 1024;
  let resetCode = -1;
  await withBackend(async (peer) => {
    for (;;) {
      const f = await peer.until((f) => f.type === HEADERS || f.type === RST_STREAM);
      if (f === null) return;
      if (f.type === RST_STREAM) {
        resetCode = readUint32(f.payload, 0);
        continue;
      }
      if (f.stream !== 1) {
        await peer.send(
          headersFrame(f.stream, OK, false),
          frame(DATA, END_STREAM, f.stream, new Uint8Array([111, 107])),
        );
        continue;
      }
      // Stream 1: 10 MB, ignoring every window.
      await peer.send(headersFrame(1, OK, false));
      const chunk = new Uint8Array(DEFAULT_MAX_FRAME);
      for (let sent = chunk.byteLength; sent <= TEN_MB; sent += chunk.byteLength) {
        await peer.send(frame(DATA, sent === TEN_MB ? END_STREAM : 0, 1, chunk)).catch(() => {});
      }
    }
  }, async (client, backend) => {
    const res = await client.request(backend, get("/"));
    assert.equal(res.status, 200);
    // A slow consumer: nothing read while the backend floods.
    for (let i = 0; i < 100 && resetCode === -1; i++) await new Promise((r) => setTimeout(r, 20));
    let read = 0;
    let failure: unknown;
    try {
      for await (const chunk of res.body!) read += chunk.byteLength;
    } catch (error) {
      failure = error;
    }
    assert.equal(resetCode, FLOW_CONTROL_ERROR, "RST_STREAM FLOW_CONTROL_ERROR");
    assert.ok(failure !== undefined, "the body fails");
    // What waited for the consumer: its queue's mark and the stream's window, not the 10 MB.
    assert.ok(read <= 256 * 1024, `bytes queued ${read}`);
    const again = await client.request(backend, get("/again"));
    assert.equal(await text(again.body), "ok");
  }, { extra: { connectionWindow: 64 * 1024 * 1024 } });
});

Deno.test("h2 client ends a connection whose backend sends past the connection window", async () => {
  let code = -2;
  await withBackend(async (peer) => {
    await peer.until((f) => f.type === HEADERS);
    await peer.send(headersFrame(1, OK, false));
    const chunk = new Uint8Array(DEFAULT_MAX_FRAME);
    for (let sent = chunk.byteLength; sent <= 256 * 1024; sent += chunk.byteLength) {
      await peer.send(frame(DATA, sent === 256 * 1024 ? END_STREAM : 0, 1, chunk)).catch(() => {});
    }
    code = await peer.goawayCode();
  }, async (client, backend) => {
    const res = await client.request(backend, get("/"));
    // A slow consumer: nothing read while the backend floods.
    for (let i = 0; i < 100 && code === -2; i++) await new Promise((r) => setTimeout(r, 20));
    await assert.rejects(text(res.body));
  }, { extra: { streamWindow: 1024 * 1024 } });
  assert.equal(code, FLOW_CONTROL_ERROR);
});

Deno.test("h2 client cuts a backend that floods it with PINGs (ENHANCE_YOUR_CALM)", async () => {
  let code = -2;
  await withBackend(async (peer) => {
    await peer.until((f) => f.type === HEADERS);
    const ping = frame(PING, 0, 0, new Uint8Array(8));
    const flood = new Uint8Array(ping.byteLength * 20_000);
    for (let i = 0; i < 20_000; i++) flood.set(ping, i * ping.byteLength);
    // Sent without reading the acknowledgements.
    await peer.send(flood).catch(() => {});
    code = await peer.goawayCode();
  }, async (client, backend) => {
    await rejection(client.request(backend, get("/")));
    for (let i = 0; i < 200 && code === -2; i++) await new Promise((r) => setTimeout(r, 20));
  }, { options: { readTimeout: 5000 } });
  assert.equal(code, ENHANCE_YOUR_CALM);
});

Deno.test("h2 client refuses a SETTINGS_INITIAL_WINDOW_SIZE that overflows a stream's window", async () => {
  let code = -2;
  await withBackend(async (peer) => {
    await peer.until((f) => f.type === HEADERS);
    // Stream 1's send window to the largest allowed, then one more byte for every stream.
    await peer.send(
      frame(WINDOW_UPDATE, 0, 1, uint32Payload(MAX_WINDOW - 65535)),
      frame(SETTINGS, 0, 0, settingsPayload([SETTINGS_INITIAL_WINDOW_SIZE, 65536])),
    );
    code = await peer.goawayCode();
  }, async (client, backend) => {
    await rejection(client.request(backend, get("/")));
    for (let i = 0; i < 200 && code === -2; i++) await new Promise((r) => setTimeout(r, 20));
  }, { options: { readTimeout: 5000 } });
  assert.equal(code, FLOW_CONTROL_ERROR);
});

Deno.test("h2 client keeps one read timer per exchange, not one per DATA frame or read", async () => {
  const LIMIT = 43_210;
  const original = globalThis.setTimeout;
  let timers = 0;
  await withBackend(async (peer) => {
    await peer.until((f) => f.type === HEADERS);
    await peer.send(headersFrame(1, OK, false));
    for (let i = 0; i < 200; i++) {
      await peer.send(frame(DATA, i === 199 ? END_STREAM : 0, 1, new Uint8Array(100)));
      // One frame per read on the client's side.
      await new Promise((r) => original(r, 1));
    }
    await peer.next();
  }, async (client, backend) => {
    globalThis.setTimeout = ((fn: () => void, ms?: number) => {
      if (ms === LIMIT) timers++;
      return original(fn, ms);
    }) as typeof setTimeout;
    try {
      const res = await client.request(backend, get("/"));
      assert.equal((await text(res.body)).length, 20_000);
    } finally {
      globalThis.setTimeout = original;
    }
  }, { options: { readTimeout: LIMIT } });
  assert.ok(timers <= 3, `read timers set: ${timers}`);
});
