/**
 * The h2 upstream client under load, against a `node:http2` origin (another HTTP/2 implementation than ours):
 * 100 concurrent gRPC-shaped calls share one connection with `max_h2_streams = 100`, each with its trailers; a
 * 10 MB body goes to the origin and comes back whole (the same SHA-256), through both directions' flow control.
 *
 * @module
 */
import assert from "node:assert/strict";
import http2 from "node:http2";
import { Buffer } from "node:buffer";
import { startTestProxy } from "../_support/proxy.ts";

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("h2 upstream: 100 concurrent gRPC calls share one connection (max_h2_streams = 100), trailers and all", async () => {
  const sessions = new Set<http2.Http2Session>();
  let inflight = 0;
  let most = 0;
  const waiting: (() => void)[] = [];
  const origin = http2.createServer();
  origin.on("stream", (stream: http2.ServerHttp2Stream) => {
    sessions.add(stream.session!);
    inflight++;
    most = Math.max(most, inflight);
    const parts: Buffer[] = [];
    stream.on("data", (c: Buffer) => parts.push(c));
    stream.on("end", () => {
      const answer = () => {
        stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0", "grpc-message": "fine" }));
        stream.end(Buffer.concat(parts));
      };
      // Held until all 100 are in flight at once (or a moment passed): they must share the connection.
      waiting.push(answer);
      if (inflight >= 100) { for (const w of waiting.splice(0)) w(); }
      else setTimeout(() => waiting.includes(answer) && waiting.splice(waiting.indexOf(answer), 1) && answer(), 3000);
    });
    stream.on("close", () => inflight--);
  });
  await new Promise<void>((ok) => origin.listen(0, "127.0.0.1", () => ok()));
  const port = (origin.address() as { port: number }).port;
  const proxy = await startTestProxy(
    `[servers.s]\naddr = "127.0.0.1:0"\nenabled_h2 = true\nlocations = ["l"]\n[locations.l]\nupstream = "u"\n` +
      `[upstreams.u]\naddrs = ["127.0.0.1:${port}"]\nalpn = "h2"\nmax_h2_streams = 100\n`,
  );
  const client = http2.connect(proxy.url);
  try {
    const call = (i: number) =>
      new Promise<{ status: number; body: string; trailers: Record<string, unknown> }>((resolve, reject) => {
        const req = client.request({
          ":method": "POST",
          ":path": "/echo.Echo/Echo",
          "content-type": "application/grpc",
          te: "trailers",
        });
        let status = 0;
        let trailers: Record<string, unknown> = {};
        const parts: Buffer[] = [];
        req.on("response", (h) => status = Number(h[":status"]));
        req.on("trailers", (t) => trailers = t);
        req.on("data", (c: Buffer) => parts.push(c));
        req.on("end", () => resolve({ status, body: Buffer.concat(parts).toString(), trailers }));
        req.on("error", reject);
        req.end(`call ${i}`);
      });
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => call(i)));
    results.forEach((r, i) => {
      assert.equal(r.status, 200);
      assert.equal(r.body, `call ${i}`);
      assert.equal(r.trailers["grpc-status"], "0");
      assert.equal(r.trailers["grpc-message"], "fine");
    });
    assert.equal(sessions.size, 1, "one upstream connection carried them (a health check's may be empty)");
    assert.equal(most, 100, "all 100 in flight at once");
  } finally {
    client.close();
    await proxy.close();
    await new Promise((ok) => origin.close(ok));
  }
});

Deno.test("h2 upstream: a 10 MB body goes to the backend and back whole (same SHA-256)", async () => {
  let received = 0;
  const origin = http2.createServer();
  origin.on("stream", (stream: http2.ServerHttp2Stream) => {
    stream.respond({ ":status": 200 });
    stream.on("data", (c: Buffer) => received += c.byteLength);
    stream.pipe(stream);
  });
  await new Promise<void>((ok) => origin.listen(0, "127.0.0.1", () => ok()));
  const port = (origin.address() as { port: number }).port;
  const proxy = await startTestProxy(
    `[servers.s]\naddr = "127.0.0.1:0"\nlocations = ["l"]\n[locations.l]\nupstream = "u"\n` +
      `[upstreams.u]\naddrs = ["127.0.0.1:${port}"]\nalpn = "h2"\n`,
  );
  try {
    const body = new Uint8Array(10 * 1024 * 1024);
    for (let i = 0; i < body.byteLength; i += 65536) crypto.getRandomValues(body.subarray(i, i + 65536));
    const res = await fetch(`${proxy.url}/echo`, { method: "POST", body });
    assert.equal(res.status, 200);
    const back = new Uint8Array(await res.arrayBuffer());
    assert.equal(received, body.byteLength);
    assert.equal(back.byteLength, body.byteLength);
    assert.equal(await sha256(back), await sha256(body));
  } finally {
    await proxy.close();
    await new Promise((ok) => origin.close(ok));
  }
});
