/**
 * Bodies through buffers that are reused. Requests: bodies of up to 64 KiB are read into pooled buffers, which the
 * upstream client gives back once it copied them behind the head; many POSTs at once of every size around the
 * thresholds, some through a location with retries (whose replay copy keeps its buffer), must each reach the origin
 * byte for byte (a buffer shared too early mixes bodies: the test fails then). Responses: passed-through bodies
 * while the upstream client reuses its read buffers (a piece the front end has written is given
 * back, and the next read goes into the same buffer): many downloads at once, each with its own bytes, on kept-alive
 * connections both sides, with and without a content-length, fast and slow readers, and clients that leave mid-body.
 * Every body must come out exactly as the origin made it. (The rule itself, that a piece not given back is never read
 * into again, is tested on the client: `runtime/upstream/http1/client_test.ts`. Here, Deno's writes to loopback sockets take
 * the bytes at once, so a piece reused too early would rarely show.)
 *
 * @module
 */
import assert from "node:assert/strict";
import { startOrigin } from "../_support/origin.ts";
import { startTestProxy } from "../_support/proxy.ts";

/** The bytes of body `seed`: xorshift32, so that no two bodies (or two places in one) look alike. */
function bodyOf(seed: number, size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 255;
    if (i + 1 < size) out[i + 1] = (x >>> 8) & 255;
    if (i + 2 < size) out[i + 2] = (x >>> 16) & 255;
    if (i + 3 < size) out[i + 3] = x >>> 24;
  }
  return out;
}

/** Reads a body with a pause after each piece. */
async function slowly(body: ReadableStream<Uint8Array>): Promise<Uint8Array<ArrayBuffer>> {
  const pieces: Uint8Array[] = [];
  let size = 0;
  for await (const piece of body) {
    pieces.push(piece);
    size += piece.byteLength;
    await new Promise((r) => setTimeout(r, 2));
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

async function sha(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)).toHex();
}

Deno.test("bodies passed through while read buffers are reused arrive intact, many at once", async () => {
  const SIZE = 1_500_003; // not a multiple of any buffer size
  const origin = await startOrigin("reuse", (req) => {
    const url = new URL(req.url);
    const bytes = bodyOf(Number(url.searchParams.get("seed")), SIZE);
    // Sent in uneven pieces, so reads end at every possible place.
    let at = 0, step = 1;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (at >= bytes.length) return c.close();
        const n = Math.min(bytes.length - at, 7_001 * step++);
        c.enqueue(bytes.slice(at, at + n));
        at += n;
        if (step > 40) step = 1;
      },
    });
    const headers = url.pathname === "/sized" ? { "content-length": String(SIZE) } : undefined;
    return new Response(body, headers ? { headers } : {});
  });
  const proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["all"]
[locations.all]
upstream = "origin"
[upstreams.origin]
addrs = ["${origin.addr}"]
`);
  try {
    const expected = new Map<number, string>();
    for (let seed = 1; seed <= 48; seed++) expected.set(seed, await sha(bodyOf(seed, SIZE)));
    // Eight clients at once, each six downloads in turn on its own kept-alive connection (fetch pools them). Half of
    // them read slowly: the proxy's writes to them wait, holding their pieces while other bodies are read.
    const client = async (k: number) => {
      for (let j = 0; j < 6; j++) {
        const seed = k * 6 + j + 1;
        const path = seed % 2 === 0 ? "/sized" : "/chunked";
        const res = await fetch(`${proxy.url}${path}?seed=${seed}`);
        assert.equal(res.status, 200);
        const got = k % 2 === 0 ? new Uint8Array(await res.arrayBuffer()) : await slowly(res.body!);
        assert.equal(got.byteLength, SIZE, `length of body ${seed}`);
        assert.equal(await sha(got), expected.get(seed), `bytes of body ${seed} (${path})`);
      }
    };
    // And clients that leave in the middle of a body, between the others.
    const leaver = async (k: number) => {
      for (let j = 0; j < 3; j++) {
        const res = await fetch(`${proxy.url}/sized?seed=${100 + k * 3 + j}`);
        const reader = res.body!.getReader();
        await reader.read();
        await reader.cancel();
      }
    };
    await Promise.all([...Array.from({ length: 8 }, (_, k) => client(k)), leaver(0), leaver(1)]);
    // Still whole after all of it.
    const last = new Uint8Array(await (await fetch(`${proxy.url}/sized?seed=7`)).arrayBuffer());
    assert.equal(await sha(last), expected.get(7));
  } finally {
    await proxy.close();
    await origin.close();
  }
});

Deno.test("request bodies sent from reused buffers arrive intact, many at once", async () => {
  const origin = await startOrigin("digest", async (req) => {
    const body = new Uint8Array(await req.arrayBuffer());
    return new Response(await sha(body));
  });
  // `retry` wraps the body for a replay (its buffer is then never given back); `plain` sends it as it came.
  const proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["retry", "plain"]
[locations.retry]
path = "/retry"
upstream = "origin"
max_retries = 1
[locations.plain]
upstream = "origin"
[upstreams.origin]
addrs = ["${origin.addr}"]
`);
  try {
    const sizes = [1, 700, 9_000, 16_384, 16_385, 40_000, 65_536, 70_000];
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 32 }, async (_, i) => {
        const body = bodyOf(round * 1000 + i + 1, sizes[i % sizes.length]!);
        const path = i % 4 === 3 ? "/retry" : "/plain";
        const res = await fetch(`${proxy.url}${path}`, { method: "POST", body });
        assert.equal(await res.text(), await sha(body), `body ${i} (${body.length} bytes, ${path}), round ${round}`);
      }));
    }
  } finally {
    await proxy.close();
    await origin.close();
  }
});
