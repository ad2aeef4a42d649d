/**
 * The h2 upstream client against a backend that ends connections its own way (raw frames,
 * tests/_support/raw_h2_origin.ts): GOAWAY on an idle pooled connection, GOAWAY below a stream in flight, GOAWAY
 * right after a response, a TCP close mid-response or before any answer, and a backend with a 1-byte window. Each
 * time the proxy answers what it should (a retry on a new connection, or 502), keeps serving, and later requests
 * work. The proxy runs in this process: a crash would end the test run.
 *
 * @module
 */
import assert from "node:assert/strict";
import { get, startTestProxy, type TestProxy } from "../_support/proxy.ts";
import { type RawOrigin, type RawOriginOptions, startRawH2Origin } from "../_support/raw_h2_origin.ts";

const encoder = new TextEncoder();

async function withOrigin(
  options: RawOriginOptions,
  fn: (proxy: TestProxy, origin: RawOrigin) => Promise<void>,
  upstreamExtra = "",
): Promise<void> {
  const origin = startRawH2Origin(options);
  const proxy = await startTestProxy(
    `[servers.s]\naddr = "127.0.0.1:0"\nlocations = ["l"]\n[locations.l]\nupstream = "u"\n` +
      `[upstreams.u]\naddrs = ["127.0.0.1:${origin.port}"]\nalpn = "h2"\nread_timeout = "5s"\n${upstreamExtra}`,
  );
  try {
    await fn(proxy, origin);
  } finally {
    await proxy.close();
    await origin.close();
  }
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("h2 upstream: a GOAWAY on an idle pooled connection: the next request opens a new one", async () => {
  await withOrigin({
    onStream: async (c, req) => {
      await c.head(req.id, 200, false);
      await c.data(req.id, encoder.encode(`conn ${c.index}`), true);
      // Idle a moment later: GOAWAY, then the socket closes.
      setTimeout(() => void c.goaway(req.id).then(() => setTimeout(() => c.close(), 50)), 50);
    },
  }, async (proxy, origin) => {
    assert.equal((await get(`${proxy.url}/a`)).text, "conn 1");
    await delay(300);
    const b = await get(`${proxy.url}/b`);
    assert.equal(b.status, 200);
    assert.equal(b.text, "conn 2");
    assert.equal(origin.connections, 2);
  });
});

Deno.test("h2 upstream: GOAWAY below a stream in flight: a GET is sent again on a new connection, a POST gets 502", async () => {
  const seen = new Set<string>();
  await withOrigin({
    onStream: async (c, req) => {
      const path = req.fields[req.fields.indexOf(":path") + 1]!;
      if (!seen.has(path)) {
        // The first time a path comes, its connection ends: GOAWAY saying nothing was processed.
        seen.add(path);
        await c.goaway(0);
        return;
      }
      await c.head(req.id, 200, false);
      await c.data(req.id, encoder.encode(`conn ${c.index}`), true);
    },
  }, async (proxy, origin) => {
    const a = await get(`${proxy.url}/a`);
    assert.equal(a.status, 200);
    assert.equal(a.text, "conn 2", "retried on a new connection");
    // A POST's body was sent: it is not replayed.
    const b = await get(`${proxy.url}/b`, { method: "POST", body: "payload" });
    assert.equal(b.status, 502);
    const c = await get(`${proxy.url}/c`);
    assert.equal(c.status, 200, "later requests work");
    assert.equal(origin.connections, 4, "a, a again; b (pooled); c, c again");
  });
});

Deno.test("h2 upstream: GOAWAY right after each response: every request is answered", async () => {
  await withOrigin({
    onStream: async (c, req) => {
      await c.head(req.id, 200, false);
      await c.data(req.id, encoder.encode("ok"), true);
      await c.goaway(req.id);
      c.close();
    },
  }, async (proxy) => {
    for (let i = 0; i < 5; i++) {
      const got = await get(`${proxy.url}/${i}`);
      assert.equal(got.status, 200, `request ${i}`);
      assert.equal(got.text, "ok");
    }
    const all = await Promise.all(Array.from({ length: 10 }, (_, i) => get(`${proxy.url}/p${i}`)));
    for (const got of all) assert.ok(got.status === 200 || got.status === 502, `status ${got.status}`);
    assert.equal((await get(`${proxy.url}/last`)).status, 200);
  });
});

Deno.test("h2 upstream: the backend closes TCP mid-response or before the head: a cut body or 502, then it works", async () => {
  await withOrigin({
    onStream: async (c, req) => {
      const path = req.fields[req.fields.indexOf(":path") + 1];
      if (path === "/cut") {
        await c.head(req.id, 200, false, ["content-length", "100000"]);
        await c.data(req.id, new Uint8Array(1000), false);
        await delay(20);
        c.close();
        return;
      }
      if (path === "/none") return c.close();
      await c.head(req.id, 200, false);
      await c.data(req.id, encoder.encode("fine"), true);
    },
  }, async (proxy) => {
    const res = await fetch(`${proxy.url}/cut`);
    assert.equal(res.status, 200);
    await assert.rejects(res.arrayBuffer(), "the body is cut, not whole");
    assert.equal((await get(`${proxy.url}/none`)).status, 502);
    const ok = await get(`${proxy.url}/after`);
    assert.equal(ok.status, 200);
    assert.equal(ok.text, "fine");
  });
});

Deno.test("h2 upstream: a backend with a 1-byte window gets the request body within it, whole", async () => {
  const body = new Uint8Array(3_000).map((_, i) => i % 251);
  let got: Uint8Array | undefined;
  let largest = 0;
  await withOrigin({
    settings: [0x4, 1],
    credit: () => 1,
    onStream: async (c, req) => {
      got = req.body;
      largest = req.largestFrame;
      await c.head(req.id, 200, false);
      await c.data(req.id, encoder.encode(`${req.body.byteLength}`), true);
    },
  }, async (proxy, origin) => {
    const res = await get(`${proxy.url}/up`, { method: "POST", body });
    assert.equal(res.status, 200);
    assert.equal(res.text, "3000");
    assert.deepEqual(got, body);
    assert.equal(largest, 1, "no frame beyond the window");
    assert.equal(origin.overrun, 0);
  });
});

Deno.test("h2 upstream: frames stay within the backend's default max frame size (16 KiB)", async () => {
  const body = new Uint8Array(200_000).map((_, i) => i % 13);
  let largest = 0;
  await withOrigin({
    settings: [0x4, 1 << 20],
    onStream: async (c, req) => {
      largest = req.largestFrame;
      await c.head(req.id, 200, false);
      await c.data(req.id, encoder.encode(`${req.body.byteLength}`), true);
    },
  }, async (proxy) => {
    const res = await get(`${proxy.url}/up`, { method: "POST", body });
    assert.equal(res.text, "200000");
    assert.ok(largest > 0 && largest <= 16384, `largest frame ${largest}`);
  });
});

Deno.test("h2 upstream: a backend that breaks the protocol costs its connection only: 502, then it works", async () => {
  const { frame, HEADERS, END_HEADERS, PUSH_PROMISE, DATA, WINDOW_UPDATE, SETTINGS } = await import(
    "../../runtime/listen/h2/frames.ts"
  );
  const junk: Record<string, (id: number) => Uint8Array> = {
    // HPACK index 0 does not exist: COMPRESSION_ERROR.
    "/hpack": (id) => frame(HEADERS, END_HEADERS, id, new Uint8Array([0x80])),
    "/push": (id) => frame(PUSH_PROMISE, END_HEADERS, id, new Uint8Array([0, 0, 0, 2, 0x88])),
    "/data0": () => frame(DATA, 0, 0, new Uint8Array(4)),
    "/window0": () => frame(WINDOW_UPDATE, 0, 0, new Uint8Array(4)),
    "/settings": () => frame(SETTINGS, 0, 0, new Uint8Array(5)),
    "/huge": (id) => frame(DATA, 0, id, new Uint8Array(20_000)),
  };
  await withOrigin({
    onStream: async (c, req) => {
      const path = req.fields[req.fields.indexOf(":path") + 1]!;
      const bad = junk[path];
      if (bad !== undefined) return void await c.write(bad(req.id));
      await c.head(req.id, 200, false);
      await c.data(req.id, encoder.encode("fine"), true);
    },
  }, async (proxy) => {
    for (const path of Object.keys(junk)) {
      assert.equal((await get(`${proxy.url}${path}`)).status, 502, path);
      const ok = await get(`${proxy.url}/after${path}`);
      assert.equal(ok.status, 200, `after ${path}`);
      assert.equal(ok.text, "fine");
    }
  });
});

Deno.test("h2 upstream: the backend's SETTINGS_MAX_CONCURRENT_STREAMS holds: more requests wait, all answered", async () => {
  let inflight = 0;
  let most = 0;
  await withOrigin({
    settings: [0x3, 2],
    onStream: async (c, req) => {
      inflight++;
      most = Math.max(most, inflight);
      await delay(30);
      inflight--;
      await c.head(req.id, 200, false);
      await c.data(req.id, encoder.encode("ok"), true);
    },
  }, async (proxy, origin) => {
    const all = await Promise.all(Array.from({ length: 10 }, (_, i) => get(`${proxy.url}/${i}`)));
    for (const got of all) assert.equal(got.status, 200);
    assert.ok(most <= 2, `the backend saw ${most} streams at once`);
    assert.equal(origin.connections, 1);
  }, "max_h2_streams = 100\n");
});
