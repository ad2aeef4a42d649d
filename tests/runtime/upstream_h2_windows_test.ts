/**
 * Upstream `h2_stream_window_size` and `h2_connection_window_size` (Pingap
 * 0.16): the HTTP/2 client announces them to a real h2c backend, which
 * sees them in the client's SETTINGS and in its session window.
 *
 * @module
 */
import assert from "node:assert/strict";
import http2 from "node:http2";
import { get, startTestProxy } from "../_support/proxy.ts";

Deno.test("h2 window sizes reach the backend: SETTINGS initial window and the session window", async () => {
  const seen: { stream: number; session: number }[] = [];
  const server = http2.createServer();
  server.on("stream", (stream: http2.ServerHttp2Stream) => {
    const s = stream.session!;
    seen.push({ stream: s.remoteSettings.initialWindowSize ?? -1, session: s.state.remoteWindowSize ?? -1 });
    stream.respond({ ":status": 200 });
    stream.end("ok");
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", () => ok()));
  const port = (server.address() as { port: number }).port;
  const config = (windows: string) =>
    `[servers.s]\naddr = "127.0.0.1:0"\nlocations = ["l"]\n[locations.l]\nupstream = "u"\n` +
    `[upstreams.u]\naddrs = ["127.0.0.1:${port}"]\nalpn = "h2"\n${windows}`;
  const sized = await startTestProxy(config('h2_stream_window_size = "1mib"\nh2_connection_window_size = "4mib"\n'));
  const plain = await startTestProxy(config(""));
  try {
    assert.equal((await get(`${sized.url}/`)).text, "ok");
    assert.equal((await get(`${plain.url}/`)).text, "ok");
    assert.equal(seen[0]!.stream, 1024 * 1024);
    assert.ok(seen[0]!.session > 4_000_000, `session window ${seen[0]!.session}`);
    assert.equal(seen[1]!.stream, 65535, "unset: the HTTP/2 default");
    assert.ok(seen[1]!.session <= 65535, `session window ${seen[1]!.session}`);
  } finally {
    await sized.close();
    await plain.close();
    await new Promise((ok) => server.close(ok));
  }
});
