/**
 * The h2 upstream client against a backend that ignores flow control (raw frames, tests/_support/raw_h2_origin.ts):
 * 10 MB on one stream while the proxy's client reads nothing. The proxy holds no more than the stream's window for
 * it (the stream is reset with FLOW_CONTROL_ERROR, the client's answer cut short), keeps serving, and later requests
 * work. The proxy runs in this process: a crash would end the test run.
 *
 * @module
 */
import assert from "node:assert/strict";
import { get, startTestProxy } from "../_support/proxy.ts";
import { startRawH2Origin } from "../_support/raw_h2_origin.ts";

const TEN_MB = 10 * 1024 * 1024;

Deno.test("h2 upstream: a backend that sends 10 MB past its window to a slow client is reset, the proxy goes on", async () => {
  const origin = startRawH2Origin({
    onStream: async (c, req) => {
      const path = req.fields[req.fields.indexOf(":path") + 1]!;
      await c.head(req.id, 200, false);
      if (path !== "/flood") return c.data(req.id, new TextEncoder().encode("ok"), true);
      const chunk = new Uint8Array(16384);
      for (let sent = chunk.byteLength; sent <= TEN_MB; sent += chunk.byteLength) {
        await c.data(req.id, chunk, sent === TEN_MB);
      }
    },
  });
  const proxy = await startTestProxy(
    `[servers.s]\naddr = "127.0.0.1:0"\nlocations = ["l"]\n[locations.l]\nupstream = "u"\n` +
      `[upstreams.u]\naddrs = ["127.0.0.1:${origin.port}"]\nalpn = "h2"\nread_timeout = "5s"\n` +
      `h2_connection_window_size = "64mib"\n`,
  );
  try {
    const url = new URL(proxy.url);
    const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
    await conn.write(new TextEncoder().encode(`GET /flood HTTP/1.1\r\nhost: a.test\r\nconnection: close\r\n\r\n`));
    // A slow client: nothing read for a while, then everything that comes.
    await new Promise((r) => setTimeout(r, 1500));
    let got = 0;
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      got += n;
    }
    conn.close();
    assert.ok(got > 0);
    assert.ok(got < TEN_MB, `the client got ${got} bytes: the flood was not cut`);
    const later = await get(`${proxy.url}/later`);
    assert.equal(later.status, 200);
    assert.equal(later.text, "ok");
  } finally {
    await proxy.close();
    await origin.close();
  }
});
