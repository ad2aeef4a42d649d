/**
 * The upstream side of the hostile-input findings (issue 15, item 7; Build item 8), end to end: the proxy in its own
 * process, raw TCP clients, and an origin that records every byte it receives and parses the requests itself.
 *
 * - `Connection: Content-Length` no longer unframes the body (it became the next request on the pooled upstream
 *   connection, answered to the next user); `Connection: Host` / `X-Forwarded-For` are 400 and nothing is sent.
 * - Bytes an upstream sends after a HEAD answer are not the next user's response.
 * - A POST the upstream read and dropped arrives once.
 * - Client errors (two `Content-Length`s) are 400 and do not open the circuit breaker; raw UTF-8 in the path
 *   reaches the origin byte for byte.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Child, spawnProxy } from "../_support/process.ts";
import { rawExchange, type RawResponse } from "../_support/proxy.ts";
import { answer, type RecordingOrigin, startRecordingOrigin } from "../_support/recording_origin.ts";

const decoder = new TextDecoder();

/** The proxy in its own process in front of `origin`, with a circuit breaker that opens after 5 failures. */
async function withProxy(origin: RecordingOrigin, fn: (port: number) => Promise<void>): Promise<void> {
  let child: Child | undefined;
  let file: string | undefined;
  try {
    const started = await spawnProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["all"]
[locations.all]
upstream = "o"
[upstreams.o]
addrs = ["${origin.addr}"]
health_check = "tcp://${origin.addr}?check_frequency=1h"
enable_backend_stats = true
circuit_break_max_consecutive_failures = 5
circuit_break_open_duration = "60s"
`);
    child = started.child;
    file = started.file;
    await fn(started.port);
  } finally {
    await child?.stop();
    if (file) await Deno.remove(file);
    await origin.close();
  }
}

async function send(port: number, request: string | Uint8Array): Promise<RawResponse> {
  const res = await rawExchange(port, request);
  assert.ok(res, `no answer to ${JSON.stringify(typeof request === "string" ? request.slice(0, 60) : "bytes")}`);
  return res;
}

function body(res: RawResponse): string {
  return decoder.decode(res.body);
}

Deno.test("upstream hostile: Connection: Content-Length keeps the body framed; the next user gets their answer", async () => {
  const origin = startRecordingOrigin();
  // The body is the start of a request that would swallow the next user's head (and cookie) as a header.
  const smuggled = "GET /admin HTTP/1.1\r\nHost: t\r\nX-Ignore: ";
  await withProxy(origin, async (port) => {
    // Twice: once through the fast path's parser, once from the head the screen rebuilt (a non-ASCII byte in a field
    // value sends it there).
    for (const extra of ["", "X-Screen: \u00e9\r\n"]) {
      const attack = await send(
        port,
        `POST /a HTTP/1.1\r\nHost: t\r\n${extra}Connection: close, Content-Length\r\n` +
          `Content-Length: ${smuggled.length}\r\n\r\n${smuggled}`,
      );
      assert.equal(attack.status, 200);
      const victim = await send(
        port,
        "GET /victim HTTP/1.1\r\nHost: t\r\nCookie: secret=1\r\nConnection: close\r\n\r\n",
      );
      assert.equal(victim.status, 200);
      assert.equal(body(victim), "GET /victim HTTP/1.1", "the victim's own answer");
    }
  });
  assert.deepEqual(origin.requests.map((r) => r.line), [
    "POST /a HTTP/1.1",
    "GET /victim HTTP/1.1",
    "POST /a HTTP/1.1",
    "GET /victim HTTP/1.1",
  ]);
  for (const i of [0, 2]) {
    assert.equal(origin.requests[i]!.body, smuggled, "the body arrives as a body");
    assert.match(origin.requests[i]!.head, /^content-length: 40$/im);
    assert.match(origin.requests[i + 1]!.head, /^host: t$/im);
  }
});

Deno.test("upstream hostile: Connection naming Host or X-Forwarded-For is 400 and reaches no origin", async () => {
  const origin = startRecordingOrigin();
  await withProxy(origin, async (port) => {
    for (const name of ["Host", "X-Forwarded-For", "x-forwarded-proto"]) {
      const res = await send(port, `GET /n HTTP/1.1\r\nHost: t\r\nConnection: close, ${name}\r\n\r\n`);
      assert.equal(res.status, 400, name);
    }
    const ok = await send(port, "GET /ok HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert.equal(ok.status, 200);
  });
  assert.ok(!origin.received.join("").includes("/n "), "no byte of a refused request was sent");
  assert.deepEqual(origin.requests.map((r) => r.line), ["GET /ok HTTP/1.1"]);
});

Deno.test("upstream hostile: a body sent after a HEAD answer is not the next user's answer", async () => {
  const origin = startRecordingOrigin((req) =>
    req.line.startsWith("HEAD")
      ? { answer: "HTTP/1.1 200 OK\r\ncontent-length: 29\r\n\r\n", after: answer("poison: for someone else") }
      : { answer: answer(req.line) }
  );
  await withProxy(origin, async (port) => {
    const head = await send(port, "HEAD /h HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert.equal(head.status, 200);
    // The stray bytes arrive while the upstream connection idles in the pool.
    await new Promise((r) => setTimeout(r, 400));
    const victim = await send(port, "GET /victim HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert.equal(body(victim), "GET /victim HTTP/1.1");
  });
  assert.deepEqual(origin.requests.map((r) => r.line), ["HEAD /h HTTP/1.1", "GET /victim HTTP/1.1"]);
  assert.notEqual(origin.requests[0]!.conn, origin.requests[1]!.conn, "the poisoned connection was not reused");
});

Deno.test("upstream hostile: a POST the upstream read and dropped is executed once", async () => {
  let posts = 0;
  const origin = startRecordingOrigin((req) => {
    if (!req.line.startsWith("POST")) return { answer: answer(req.line) };
    // Read it whole, then close without a word.
    posts++;
    return null;
  });
  await withProxy(origin, async (port) => {
    // A first request leaves an upstream connection in the pool, which the POST then takes.
    assert.equal((await send(port, "GET /warm HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")).status, 200);
    const res = await send(port, "POST /pay HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc");
    assert.equal(res.status, 502);
  });
  assert.equal(posts, 1, "the POST arrived exactly once");
  assert.deepEqual(origin.requests.map((r) => r.line), ["GET /warm HTTP/1.1", "POST /pay HTTP/1.1"]);
});

Deno.test("upstream hostile: client errors are 400 and never open the circuit; raw UTF-8 paths pass byte for byte", async () => {
  const origin = startRecordingOrigin();
  await withProxy(origin, async (port) => {
    // Two kinds: a framing the client will not send, and a nomination it refuses (the front end may learn to refuse
    // the first itself; either way the client gets 400 and the backend no blame).
    const hostile = [
      "POST /dup HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
      "GET /nominate HTTP/1.1\r\nHost: t\r\nConnection: close, host\r\n\r\n",
    ];
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await send(port, hostile[i < 5 ? 0 : 1]!)).status);
    const after = (await send(port, "GET /after HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")).status;
    assert.deepEqual({ statuses, after }, { statuses: Array(10).fill(400), after: 200 }, "the circuit stayed closed");
    // A string is sent as UTF-8: the raw bytes C3 A9 and E2 82 AC.
    for (const path of ["/\u00e9", "/\u20ac?x=\u00e9"]) {
      const res = await send(port, `GET ${path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
      assert.equal(res.status, 200, path);
    }
  });
  assert.deepEqual(origin.requests.map((r) => r.line), [
    "GET /after HTTP/1.1",
    "GET /\xc3\xa9 HTTP/1.1",
    "GET /\xe2\x82\xac?x=\xc3\xa9 HTTP/1.1",
  ]);
});
