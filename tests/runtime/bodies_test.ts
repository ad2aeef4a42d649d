/**
 * Bodies through the proxy running in its own process (issue 3): gzip bytes
 * identical to the origin's (raw client and curl, neither decompressing), a
 * 300 MB download and a 100 MB upload streamed with the proxy's peak RSS
 * (VmHWM) under 300 MB, garbage requests answered 400 or closed, 502, 504
 * and a WebSocket echo, and the process still serving after all of it, then
 * exiting 0 on SIGTERM.
 *
 * @module
 */
import assert from "node:assert/strict";
import { freePort, type Origin, rawTarget, startOrigin, startSilentOrigin } from "../_support/origin.ts";
import { type Child, spawnProxy } from "../_support/process.ts";
import { GARBAGE } from "../_support/garbage.ts";
import { get, rawExchange } from "../_support/proxy.ts";

const MB = 1024 * 1024;
const DOWNLOAD = 300 * MB;
const UPLOAD = 100 * MB;
/** Byte `i` of every generated body is `i % 251`; a block of 256 periods repeats exactly. */
const PERIOD = 251;
const BLOCK = new Uint8Array(PERIOD * 256).map((_, i) => i % PERIOD);

/** A stream of `size` pattern bytes, produced on demand. */
function patternStream(size: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= size) {
        controller.close();
        return;
      }
      const n = Math.min(BLOCK.length, size - sent);
      controller.enqueue(BLOCK.slice(0, n));
      sent += n;
    },
  }, { highWaterMark: 0 });
}

/** Reads a stream, checking the pattern; returns the byte count and whether every byte matched. */
async function consumePattern(stream: ReadableStream<Uint8Array>): Promise<{ bytes: number; ok: boolean }> {
  let bytes = 0;
  let k = 0;
  let ok = true;
  for await (const chunk of stream) {
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] !== k) ok = false;
      k = k === PERIOD - 1 ? 0 : k + 1;
    }
    bytes += chunk.length;
  }
  return { bytes, ok };
}

async function gzip(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function text(size: number): Uint8Array {
  let s = "";
  for (let i = 0; s.length < size; i++) s += `line ${i}: the quick brown fox jumps over the lazy dog ${i * 7919}\n`;
  return new TextEncoder().encode(s.slice(0, size));
}

async function startBodyOrigin(gzipped: Uint8Array): Promise<Origin> {
  return await startOrigin("bodies", async (req) => {
    const { path, query } = rawTarget(req.url);
    const size = Number(new URLSearchParams(query).get("size") ?? "0");
    switch (path) {
      case "/gzip":
        return new Response(gzipped as Uint8Array<ArrayBuffer>, {
          headers: { "content-encoding": "gzip", "content-type": "text/plain", vary: "accept-encoding" },
        });
      case "/download":
        return new Response(patternStream(size), {
          headers: { "content-length": String(size), "content-type": "application/octet-stream" },
        });
      case "/download-chunked":
        return new Response(patternStream(size), { headers: { "content-type": "application/octet-stream" } });
      case "/upload": {
        const result = req.body ? await consumePattern(req.body) : { bytes: 0, ok: true };
        return Response.json(result);
      }
      case "/ping":
        return new Response("origin-pong");
      case "/ws": {
        const { socket, response } = Deno.upgradeWebSocket(req);
        socket.onmessage = (e) => socket.send(e.data);
        socket.onerror = () => {};
        return response;
      }
      default:
        return new Response("not found", { status: 404 });
    }
  });
}

async function curlBytes(url: string): Promise<{ code: number; body: Uint8Array; headers: string }> {
  const out = await Deno.makeTempFile();
  try {
    const res = await new Deno.Command("curl", {
      args: ["-sS", "-D", "-", "-o", out, "-H", "Accept-Encoding: gzip", url],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: res.code, body: await Deno.readFile(out), headers: new TextDecoder().decode(res.stdout) };
  } finally {
    await Deno.remove(out);
  }
}

Deno.test({
  name: "bodies: gzip untouched, 300 MB down and 100 MB up under 300 MB peak RSS; still serving after all of it",
  async fn(t) {
    const plain = text(256 * 1024);
    const gzipped = await gzip(plain);
    const origin = await startBodyOrigin(gzipped);
    const silent = startSilentOrigin();
    let child: Child | undefined;
    let file: string | undefined;
    try {
      const refusedPort = freePort();
      const started = await spawnProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["all", "refused", "silent"]
[locations.all]
upstream = "bodies"
[locations.refused]
path = "/refused"
upstream = "refused"
[locations.silent]
path = "/silent"
upstream = "silent"
[upstreams.bodies]
addrs = ["${origin.addr}"]
[upstreams.refused]
addrs = ["127.0.0.1:${refusedPort}"]
# The default TCP check would mark it down at its second round (10 s), and then the answer is 503, not 502.
health_check = "tcp://127.0.0.1:${refusedPort}?check_frequency=1h"
[upstreams.silent]
addrs = ["${silent.addr}"]
read_timeout = "1s"
`);
      child = started.child;
      file = started.file;
      const port = started.port;
      const url = `http://127.0.0.1:${port}`;
      assert.equal((await get(`${url}/ping`)).text, "origin-pong");

      await t.step("gzip: the bytes a raw client receives are the origin's, byte for byte", async () => {
        const raw = await rawExchange(
          port,
          "GET /gzip HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n",
        );
        assert.ok(raw);
        assert.equal(raw.status, 200);
        assert.equal(raw.headers["content-encoding"], "gzip");
        assert.equal(raw.body.length, gzipped.length);
        assert.deepEqual(raw.body, gzipped);
        if (raw.headers["content-length"] !== undefined) {
          assert.equal(Number(raw.headers["content-length"]), gzipped.length);
        }
        // And fetch (which decompresses) gets the original text.
        const res = await fetch(`${url}/gzip`);
        assert.deepEqual(new Uint8Array(await res.arrayBuffer()), plain);
      });

      await t.step("gzip: curl without --compressed saves the origin's gzip bytes", async () => {
        const res = await curlBytes(`${url}/gzip`);
        assert.equal(res.code, 0, res.headers);
        assert.match(res.headers, /content-encoding: gzip/i);
        assert.deepEqual(res.body, gzipped);
      });

      await t.step("a 300 MB download streams through intact", async () => {
        const res = await fetch(`${url}/download?size=${DOWNLOAD}`);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("content-length"), String(DOWNLOAD));
        const got = await consumePattern(res.body!);
        assert.equal(got.bytes, DOWNLOAD);
        assert.ok(got.ok, "every byte as the origin sent it");
      });

      await t.step("a chunked 50 MB download (no Content-Length) streams through intact", async () => {
        const res = await fetch(`${url}/download-chunked?size=${50 * MB}`);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("content-length"), null);
        const got = await consumePattern(res.body!);
        assert.equal(got.bytes, 50 * MB);
        assert.ok(got.ok);
      });

      await t.step("a 100 MB upload streams through intact (chunked and with Content-Length)", async () => {
        const chunked = await fetch(`${url}/upload`, { method: "POST", body: patternStream(UPLOAD) });
        assert.deepEqual(await chunked.json(), { bytes: UPLOAD, ok: true });
        const res = await curlUpload(`${url}/upload`, UPLOAD);
        assert.deepEqual(res, { bytes: UPLOAD, ok: true });
      });

      await t.step("the proxy's peak RSS stayed under 300 MB", async () => {
        const peak = await child!.peakRss();
        console.log(`proxy peak RSS: ${(peak / MB).toFixed(1)} MB`);
        assert.ok(peak < 300 * MB, `peak RSS ${(peak / MB).toFixed(1)} MB`);
      });

      await t.step("garbage gets 400 or a closed connection", async () => {
        for (const junk of GARBAGE) {
          const res = await rawExchange(port, junk, 5000);
          // 505 for a version past HTTP/1 (`HTTP/9.9`), as nginx.
          if (res) {
            assert.ok(
              (res.status >= 400 && res.status < 500) || res.status === 505,
              `status ${res.status} for ${JSON.stringify(junk)}`,
            );
          }
        }
      });

      await t.step("502, 504 and a WebSocket echo in the same process", async () => {
        assert.equal((await get(`${url}/refused`)).status, 502);
        assert.equal((await get(`${url}/silent`)).status, 504);
        const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
        try {
          await new Promise((resolve, reject) => {
            ws.onopen = resolve;
            ws.onerror = reject;
          });
          const reply = new Promise((resolve) => (ws.onmessage = (e) => resolve(e.data)));
          ws.send("still here");
          assert.equal(await reply, "still here");
        } finally {
          const closed = new Promise((resolve) => (ws.onclose = resolve));
          ws.close();
          await closed;
        }
      });

      await t.step("the process is still serving after all of it", async () => {
        assert.equal((await get(`${url}/ping`)).text, "origin-pong");
        const raw = await rawExchange(port, "GET /ping HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        assert.equal(raw?.status, 200);
      });

      const code = await child.stop();
      const output = child.output();
      child = undefined;
      assert.equal(code, 0, `SIGTERM: graceful exit 0; the proxy printed:\n${output.slice(-4000)}`);
    } finally {
      await child?.stop();
      await origin.close();
      await silent.close();
      if (file) await Deno.remove(file);
    }
  },
});

/** Uploads `size` pattern bytes with curl (Content-Length known), reading them from a temp file. */
async function curlUpload(url: string, size: number): Promise<unknown> {
  const file = await Deno.makeTempFile();
  try {
    const f = await Deno.open(file, { write: true });
    await patternStream(size).pipeTo(f.writable);
    const res = await new Deno.Command("curl", {
      args: ["-sS", "-H", "Content-Type: application/octet-stream", "-H", "Expect:", "--data-binary", `@${file}`, url],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(res.code, 0, new TextDecoder().decode(res.stderr));
    return JSON.parse(new TextDecoder().decode(res.stdout));
  } finally {
    await Deno.remove(file);
  }
}
