/**
 * Generated statuses against real origins (issue 3, inventory §2.7): 502
 * for a refused upstream, 504 for a silent one (within 2 s of the read
 * timeout), 503 when active health checks mark every backend down,
 * failover once one backend is marked down, 413 with and without
 * Content-Length, 429 past max_processing, and max_retries moving a
 * refused connect to another backend.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  type Echo,
  echoHandler,
  freePort,
  type SilentOrigin,
  startEchoOrigin,
  startOrigin,
  startSilentOrigin,
} from "../_support/origin.ts";
import { get, getJson, startTestProxy, type TestProxy } from "../_support/proxy.ts";
import { flushAppLog, setAppLogTarget } from "../../runtime/observe/log/app_log.ts";

/** The `[servers.s]` table listing `locations`, on a free port. */
function server(locations: string[]): string {
  return `
[servers.s]
addr = "127.0.0.1:0"
locations = [${locations.map((l) => `"${l}"`).join(", ")}]
`;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await fn();
  return [v, performance.now() - t0];
}

/** Polls `check` every 50 ms until it is true or `ms` passed. */
async function eventually(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`not within ${ms} ms: ${what}`);
}

Deno.test("errors: a refused upstream gives 502 quickly; a silent one 504 within 2 s of read_timeout", async () => {
  const silent: SilentOrigin = startSilentOrigin();
  let proxy: TestProxy | undefined;
  // The application log, to see each failure's line.
  let appLines = "";
  const decoder = new TextDecoder();
  await setAppLogTarget({
    write: (bytes) => {
      appLines += decoder.decode(bytes);
      return Promise.resolve();
    },
    close() {},
  });
  try {
    proxy = await startTestProxy(`${server(["refused", "silent"])}
[locations.refused]
path = "/refused"
upstream = "refused"
[locations.silent]
path = "/silent"
upstream = "silent"
[upstreams.refused]
addrs = ["127.0.0.1:${freePort()}"]
connection_timeout = "1s"
[upstreams.silent]
addrs = ["${silent.addr}"]
read_timeout = "1s"
`);
    const [refused, refusedMs] = await timed(() => get(`${proxy!.url}/refused`));
    assert.equal(refused.status, 502, refused.text);
    assert.equal(refused.headers.get("x-pingap-etype"), "upstream");
    assert.ok(refusedMs < 2000, `502 took ${refusedMs} ms`);

    const [timeout, timeoutMs] = await timed(() => get(`${proxy!.url}/silent`));
    assert.equal(timeout.status, 504, timeout.text);
    assert.equal(timeout.headers.get("x-pingap-etype"), "upstream_timeout");
    assert.ok(silent.accepted() >= 1, "the silent origin got the connection");
    assert.ok(timeoutMs >= 900 && timeoutMs < 1000 + 2000, `504 after ${timeoutMs} ms (read_timeout 1 s)`);

    await flushAppLog();
    const failures = appLines.split("\n").filter((l) => l.includes("fail to proxy"));
    assert.equal(failures.length, 2, appLines);
    assert.match(failures[0]!, /ERROR fail to proxy status=502 error_type=upstream error=Upstream failed: .*refused/i);
    assert.match(failures[0]!, / location=refused upstream_addr=127\.0\.0\.1:\d+ remote_addr=127\.0\.0\.1 /);
    assert.match(failures[0]!, / path=\/refused$/);
    assert.match(failures[1]!, /ERROR fail to proxy status=504 error_type=upstream_timeout .* path=\/silent$/);
  } finally {
    await setAppLogTarget(undefined);
    await proxy?.close();
    await silent.close();
  }
});

Deno.test("errors: every backend marked down by the active health check gives 503 with a clear body", async () => {
  const origin = await startOrigin("sick", (req) => {
    if (new URL(req.url).pathname === "/health") return new Response("sick", { status: 500 });
    return new Response("should not be reached");
  });
  let proxy: TestProxy | undefined;
  try {
    proxy = await startTestProxy(`${server(["all"])}
[locations.all]
upstream = "sick"
[upstreams.sick]
addrs = ["${origin.addr}"]
health_check = "http://sick/health?check_frequency=200ms&failure=1"
`);
    await eventually("the backend is marked down", 5000, async () => (await get(`${proxy!.url}/x`)).status === 503);
    const [res, ms] = await timed(() => get(`${proxy!.url}/x`));
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("x-pingap-etype"), "no_upstream");
    assert.match(res.text, /No available upstream/);
    assert.match(res.text, /sick/);
    assert.ok(ms < 2000, `503 took ${ms} ms`);
    assert.ok((origin.hits.get("/health") ?? 0) >= 1, "the origin was health-checked");
  } finally {
    await proxy?.close();
    await origin.close();
  }
});

Deno.test("errors: failover — after the health check marks one backend down, all requests go to the other", async () => {
  let healthy = true;
  const echoA = echoHandler("a");
  const a = await startOrigin("a", (req, info) => {
    if (new URL(req.url).pathname === "/health") {
      return new Response(healthy ? "ok" : "down", { status: healthy ? 200 : 500 });
    }
    return echoA(req, info);
  });
  const b = await startOrigin("b", (req, info) => {
    if (new URL(req.url).pathname === "/health") return new Response("ok");
    return echoHandler("b")(req, info);
  });
  let proxy: TestProxy | undefined;
  try {
    proxy = await startTestProxy(`${server(["all"])}
[locations.all]
upstream = "pair"
[upstreams.pair]
addrs = ["${a.addr}", "${b.addr}"]
health_check = "http://pair/health?check_frequency=200ms&failure=1"
`);
    const names = async (n: number) => {
      const out = new Set<string>();
      for (let i = 0; i < n; i++) out.add((await getJson<Echo>(`${proxy!.url}/x`)).name);
      return out;
    };
    assert.deepEqual([...await names(6)].sort(), ["a", "b"], "both serve while healthy");
    healthy = false;
    await eventually("a is marked down", 5000, async () => (await names(4)).size === 1);
    const after = await names(20);
    assert.deepEqual([...after], ["b"]);
    // a comes back once its health check passes again.
    healthy = true;
    await eventually("a is healthy again", 5000, async () => (await names(4)).size === 2);
  } finally {
    await proxy?.close();
    await a.close();
    await b.close();
  }
});

Deno.test("errors: client_max_body_size gives 413 with Content-Length and while streaming", async () => {
  const origin = await startEchoOrigin("main");
  let proxy: TestProxy | undefined;
  try {
    proxy = await startTestProxy(`${server(["all"])}
[locations.all]
upstream = "main"
client_max_body_size = "1kb"
[upstreams.main]
addrs = ["${origin.addr}"]
`);
    const small = await getJson<Echo>(`${proxy.url}/up`, { method: "POST", body: "x".repeat(500) });
    assert.equal(small.bodyLength, 500);
    const before = origin.count();
    const big = await get(`${proxy.url}/up`, { method: "POST", body: "x".repeat(5000) });
    assert.equal(big.status, 413);
    assert.match(big.text, /Request Entity Too Large, max:1000/);
    assert.equal(origin.count(), before, "rejected before reaching the origin");
    // A streamed body (chunked, no Content-Length) is cut once past the limit.
    const stream = (total: number) =>
      new ReadableStream<Uint8Array>({
        start(c) {
          for (let sent = 0; sent < total; sent += 400) c.enqueue(new Uint8Array(400).fill(0x61));
          c.close();
        },
      });
    const streamedSmall = await getJson<Echo>(`${proxy.url}/up`, { method: "POST", body: stream(800) });
    assert.equal(streamedSmall.bodyLength, 800);
    const streamedBig = await get(`${proxy.url}/up`, { method: "POST", body: stream(4000) });
    assert.equal(streamedBig.status, 413, streamedBig.text);
    assert.match(streamedBig.text, /Request Entity Too Large, max:1000/);
    // Still serving.
    assert.equal((await get(`${proxy.url}/ok`)).status, 200);
  } finally {
    await proxy?.close();
    await origin.close();
  }
});

Deno.test("errors: max_processing answers 429 while the limit is in flight", async () => {
  const release = Promise.withResolvers<void>();
  let arrived = 0;
  const arrival = { wake: () => {} };
  const origin = await startOrigin("slow", async () => {
    arrived++;
    arrival.wake();
    await release.promise;
    return new Response("slow done");
  });
  let proxy: TestProxy | undefined;
  try {
    proxy = await startTestProxy(`${server(["all"])}
[locations.all]
upstream = "slow"
max_processing = 2
[upstreams.slow]
addrs = ["${origin.addr}"]
`);
    const held = [get(`${proxy.url}/a`), get(`${proxy.url}/b`)];
    while (arrived < 2) await new Promise<void>((r) => (arrival.wake = r));
    const rejected = await get(`${proxy.url}/c`);
    assert.equal(rejected.status, 429);
    assert.match(rejected.text, /Too Many Requests, max:2/);
    release.resolve();
    for (const r of await Promise.all(held)) assert.equal(r.status, 200);
    assert.equal((await get(`${proxy.url}/d`)).status, 200, "free again once they finished");
  } finally {
    release.resolve();
    await proxy?.close();
    await origin.close();
  }
});

Deno.test("errors: max_retries retries a refused backend on another one", async () => {
  const origin = await startEchoOrigin("good");
  const dead = freePort();
  let proxy: TestProxy | undefined;
  try {
    proxy = await startTestProxy(`${server(["retry", "noRetry", "dead"])}
[locations.retry]
path = "/retry"
upstream = "mixed"
max_retries = 1
proxy_set_headers = ["X-Upstream-Addr:$upstream_addr"]
proxy_add_headers = ["X-Once:1"]
[locations.noRetry]
path = "/once"
upstream = "mixed"
[locations.dead]
path = "/dead"
upstream = "dead"
max_retries = 3
[upstreams.mixed]
addrs = ["127.0.0.1:${dead}", "${origin.addr}"]
[upstreams.dead]
addrs = ["127.0.0.1:${dead}"]
`);
    const url = proxy.url;
    for (let i = 0; i < 10; i++) {
      const echo: Echo = await getJson<Echo>(`${url}/retry/${i}`);
      assert.equal(echo.name, "good");
      assert.equal(echo.headers["x-upstream-addr"], origin.addr, "headers rendered for the backend that answered");
      assert.equal(echo.headers["x-once"], "1", "added once, not once per attempt");
    }
    // The request body survives the failed connect and reaches the backend that answers: small, large, streamed.
    const streamed = (n: number) =>
      new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < n; i++) c.enqueue(new Uint8Array(1000).fill(0x62));
          c.close();
        },
      });
    for (let i = 0; i < 4; i++) {
      const small: Echo = await getJson<Echo>(`${url}/retry/post`, { method: "POST", body: "hello body" });
      assert.equal(small.bodyLength, 10);
      const large: Echo = await getJson<Echo>(`${url}/retry/post`, { method: "POST", body: "z".repeat(1_000_000) });
      assert.equal(large.bodyLength, 1_000_000);
      const chunked: Echo = await getJson<Echo>(`${url}/retry/post`, { method: "POST", body: streamed(50) });
      assert.equal(chunked.bodyLength, 50_000);
    }
    // With every backend refused, retries end in 502 (the connect failure), not 503.
    const allDead = await get(`${url}/dead`);
    assert.equal(allDead.status, 502, allDead.text);
    const statuses = new Set<number>();
    for (let i = 0; i < 4; i++) statuses.add((await get(`${url}/once/${i}`)).status);
    assert.deepEqual([...statuses].sort(), [200, 502], "without retries the refused backend shows");
  } finally {
    await proxy?.close();
    await origin.close();
  }
});

Deno.test("errors: a JSON error_template gives JSON error bodies with the type and message", async () => {
  let proxy: TestProxy | undefined;
  try {
    proxy = await startTestProxy(`
[basic]
error_template = '{"type":"{{error_type}}","message":"{{content}}","version":"{{version}}"}'
${server(["refused"])}
[locations.refused]
path = "/refused"
upstream = "refused"
[upstreams.refused]
addrs = ["127.0.0.1:${freePort()}"]
`);
    const res = await get(`${proxy.url}/refused`);
    assert.equal(res.status, 502);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    const body = JSON.parse(res.text) as { type: string; message: string; version: string };
    assert.equal(body.type, "upstream");
    assert.match(body.message, /refused|connect/i);
    const miss = await get(`${proxy.url}/nothing?q="quoted"`);
    assert.equal(miss.status, 404);
    assert.equal((JSON.parse(miss.text) as { type: string }).type, "no_location");
  } finally {
    await proxy?.close();
  }
});

Deno.test("errors: max_processing holds a slot until the response body has been sent", async () => {
  const origin = await startOrigin("stream", (req) => {
    const n = Number(new URL(req.url).searchParams.get("chunks") ?? "1");
    let sent = 0;
    return new Response(
      new ReadableStream<Uint8Array>({
        pull(c) {
          if (sent++ === n) c.close();
          else c.enqueue(new Uint8Array(16 * 1024).fill(0x63));
        },
      }, { highWaterMark: 0 }),
    );
  });
  let proxy: TestProxy | undefined;
  try {
    proxy = await startTestProxy(`${server(["all"])}
[locations.all]
upstream = "stream"
max_processing = 1
[upstreams.stream]
addrs = ["${origin.addr}"]
`);
    // The first download is under way (headers received, body not finished).
    const first = await fetch(`${proxy.url}/big?chunks=2000`);
    const reader = first.body!.getReader();
    await reader.read();
    const second = await get(`${proxy.url}/small?chunks=1`);
    assert.equal(second.status, 429, "the slot is still taken while the first body streams");
    let rest = 0;
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      rest += r.value.length;
    }
    assert.ok(rest > 0);
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) {
      status = (await get(`${proxy.url}/small?chunks=1`)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(status, 200, "free once the first body ended");
    // A client that cancels mid-body frees the slot too.
    const cancelled = await fetch(`${proxy.url}/big?chunks=2000`);
    await cancelled.body!.cancel();
    status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      status = (await get(`${proxy.url}/small?chunks=1`)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(status, 200, "free once the client cancelled");
  } finally {
    await proxy?.close();
    await origin.close();
  }
});
