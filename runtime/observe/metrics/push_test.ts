/**
 * Push URL rules and the shared push timer, against a local receiver.
 */
import assert from "node:assert/strict";
import { pushTarget } from "../../../compiler/mod.ts";
import { parsePushUrl, type PushTarget, PushTimers, TEXT_CONTENT_TYPE } from "./push.ts";

/** A push URL as the compiler parses it. */
function target(url: string): PushTarget {
  const r = pushTarget(url);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

/** The push timers of one proxy. */
const timers = new PushTimers();
import { countTcpTable, fdCount, tcpCount } from "./process.ts";

Deno.test("parsePushUrl: interval default, rounding to whole minutes, invalid values", () => {
  assert.equal(parsePushUrl("http://gw:9091/metrics/job/p", "h").intervalMs, 60_000);
  const t15 = parsePushUrl("http://gw:9091/metrics/job/p?interval=15s", "h");
  assert.equal(t15.intervalMs, 60_000);
  assert.equal(t15.requestedMs, 15_000);
  assert.equal(parsePushUrl("http://gw/x?interval=2m30s", "h").intervalMs, 120_000);
  assert.equal(parsePushUrl("http://gw/x?interval=1h", "h").intervalMs, 3_600_000);
  // An interval that is no duration is a check error at the key (compile_test.ts), not a silent default.
  assert.throws(() => parsePushUrl("http://gw/x?interval=soon", "h"), /Parameter interval: /);
  // The query stays on the URL, as Pingap sends it.
  assert.equal(t15.url, "http://gw:9091/metrics/job/p?interval=15s");
});

Deno.test("parsePushUrl: $HOSTNAME in host and path, basic auth from user info", () => {
  const t = parsePushUrl("https://bob:s%40cret@$HOSTNAME:9091/metrics/job/pingap/instance/$HOSTNAME", "Web-1");
  assert.equal(t.url, "https://web-1:9091/metrics/job/pingap/instance/Web-1");
  assert.equal(t.authorization, `Basic ${btoa("bob:s@cret")}`);
  const userOnly = parsePushUrl("http://alice@gw/x", "h");
  assert.equal(userOnly.authorization, `Basic ${btoa("alice:")}`);
  assert.equal(userOnly.url, "http://gw/x");
  assert.equal(parsePushUrl("http://gw/x", "h").authorization, undefined);
  assert.throws(() => parsePushUrl("not a url", "h"), TypeError);
});

function receiver(status = 200) {
  const got: { method: string; path: string; type: string | null; auth: string | null; body: string }[] = [];
  const waiters: (() => void)[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    got.push({
      method: req.method,
      path: new URL(req.url).pathname,
      type: req.headers.get("content-type"),
      auth: req.headers.get("authorization"),
      body: await req.text(),
    });
    waiters.splice(0).forEach((w) => w());
    return new Response(null, { status });
  });
  return {
    got,
    server,
    base: `http://127.0.0.1:${server.addr.port}`,
    next: () => new Promise<void>((r) => waiters.push(r)),
  };
}

Deno.test("PushTimers.start: POSTs text on the timer; stop() ends it", async () => {
  const r = receiver();
  let n = 0;
  const source = { server: "push-unit", text: () => Promise.resolve(`# TYPE x counter\nx ${++n}\n`) };
  const logs: string[] = [];
  const p = timers.start(source, target(`${r.base}/metrics/job/t`), { intervalMs: 30, log: (l) => logs.push(l) });
  try {
    await r.next();
    await r.next();
    assert.ok(r.got.length >= 2);
    assert.equal(r.got[0]!.method, "POST");
    assert.equal(r.got[0]!.path, "/metrics/job/t");
    assert.equal(r.got[0]!.type, TEXT_CONTENT_TYPE);
    assert.equal(r.got[0]!.body, "# TYPE x counter\nx 1\n");
  } finally {
    await p.stop();
  }
  const count = r.got.length;
  await new Promise((res) => setTimeout(res, 100));
  assert.equal(r.got.length, count);
  assert.deepEqual(logs, []);
  await r.server.shutdown();
});

Deno.test("PushTimers.start: one pusher per server and URL, alive until its last handle stops", async () => {
  const r = receiver();
  const source = { server: "push-shared", text: () => Promise.resolve("x 1\n") };
  const newer = { server: "push-shared", text: () => Promise.resolve("x 2\n") };
  const a = timers.start(source, target(`${r.base}/m`), { intervalMs: 60_000 });
  const b = timers.start(newer, target(`${r.base}/m`), { intervalMs: 60_000 });
  try {
    // Same pusher: concurrent pushes share the one in flight, and the newest source is read.
    await Promise.all([a.pushNow(), b.pushNow()]);
    assert.equal(r.got.length, 1);
    assert.equal(r.got[0]!.body, "x 2\n");
    await a.stop();
    await b.pushNow();
    assert.equal(r.got.length, 2);
  } finally {
    await a.stop();
    await b.stop();
    await r.server.shutdown();
  }
});

Deno.test("PushTimers.start: a failing gateway is logged, not thrown", async () => {
  const r = receiver(500);
  const logs: string[] = [];
  const source = { server: "push-fail", text: () => Promise.resolve("x 1\n") };
  const p = timers.start(source, target(`${r.base}/m`), { intervalMs: 60_000, log: (l) => logs.push(l) });
  try {
    await p.pushNow();
    assert.equal(r.got.length, 1);
    assert.match(logs[0]!, /server "push-fail": push prometheus metrics fail: .*status 500/);
  } finally {
    await p.stop();
    await r.server.shutdown();
  }
});

Deno.test("PushTimers.start: the rounding of the interval is logged once", async () => {
  const logs: string[] = [];
  const source = { server: "push-round", text: () => Promise.resolve("") };
  const p = timers.start(source, target("http://127.0.0.1:9/m?interval=90s"), { log: (l) => logs.push(l) });
  const q = timers.start(source, target("http://127.0.0.1:9/m?interval=90s"), { log: (l) => logs.push(l) });
  assert.equal(p.intervalMs, 60_000);
  assert.equal(logs.length, 1);
  assert.match(logs[0]!, /90000ms is rounded down to whole minutes: pushing every 1m/);
  await p.stop();
  await q.stop();
});

Deno.test("process figures: /proc readers, and undefined where there is no /proc", async () => {
  assert.equal(countTcpTable("header\n"), 0);
  assert.equal(countTcpTable("header\n a\n b\n\n"), 2);
  assert.equal(await fdCount("/nonexistent/fd"), undefined);
  assert.equal(await tcpCount("tcp", "/nonexistent"), undefined);
  const fds = await fdCount();
  assert.ok(fds !== undefined && fds > 2);
});
