/**
 * The watch's protocol handling against a fake etcd JSON gateway (the
 * real etcd, restarts included, is in `tests/etcd_test.ts`).
 */
import assert from "node:assert/strict";
import { b64 } from "./etcd_bytes.ts";
import { watchEtcd } from "./etcd_watch.ts";

interface Conn {
  readonly body: { create_request: { key: string; range_end: string; start_revision?: string } };
  readonly auth: string | null;
  send(result: unknown): void;
  end(): void;
}

/** A gateway that hands each watch connection to the test. */
function fakeGateway(): {
  url: string;
  next(): Promise<Conn>;
  authCalls: () => number;
  close(): Promise<void>;
} {
  const queue: Conn[] = [];
  const waiting: ((c: Conn) => void)[] = [];
  const open = new Set<ReadableStreamDefaultController<Uint8Array>>();
  let auths = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    const body = await req.json();
    if (path === "/v3/auth/authenticate") {
      auths++;
      return Response.json({ header: { revision: "1" }, token: `token-${auths}` });
    }
    if (path === "/v3/kv/range") return Response.json({ header: { revision: "1" }, count: "0" });
    if (path !== "/v3/watch") return new Response("not found", { status: 404 });
    const enc = new TextEncoder();
    let ctl!: ReadableStreamDefaultController<Uint8Array>;
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        ctl = c;
        open.add(c);
      },
      cancel() {
        open.delete(ctl);
      },
    });
    const conn: Conn = {
      body,
      auth: req.headers.get("authorization"),
      send(result) {
        try {
          ctl.enqueue(enc.encode(JSON.stringify({ result }) + "\n"));
        } catch { /* closed */ }
      },
      end() {
        open.delete(ctl);
        try {
          ctl.close();
        } catch { /* closed */ }
      },
    };
    const w = waiting.shift();
    if (w) w(conn);
    else queue.push(conn);
    return new Response(stream, { headers: { "content-type": "application/json" } });
  });
  const port = (server.addr as Deno.NetAddr).port;
  return {
    url: `etcd://127.0.0.1:${port}/pingap`,
    next: () => {
      const c = queue.shift();
      if (c) return Promise.resolve(c);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no watch connection within 3 s")), 3000);
        waiting.push((c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
    },
    authCalls: () => auths,
    async close() {
      for (const c of open) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await server.shutdown();
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const header = (revision: number) => ({ header: { revision: String(revision) } });
const put = (key: string, revision: number) => ({
  ...header(revision),
  events: [{ kv: { key: b64(key), mod_revision: String(revision), value: b64("x") } }],
});

Deno.test("watchEtcd: watches the prefix, debounces, resumes from the last revision + 1", async () => {
  const gw = fakeGateway();
  let calls = 0;
  const watch = watchEtcd(gw.url, () => calls++, { debounceMs: 30, minBackoffMs: 10, onError: () => {} });
  try {
    const c1 = await gw.next();
    assert.equal(c1.body.create_request.key, b64("/pingap/"));
    assert.equal(c1.body.create_request.range_end, b64("/pingap0"));
    assert.equal(c1.body.create_request.start_revision, undefined);
    assert.equal(c1.auth, null);
    c1.send({ ...header(7), created: true });
    await sleep(20);
    assert.equal(watch.revision, 7);
    assert.equal(calls, 0);
    c1.send(put("/pingap/a.toml", 8));
    c1.send(put("/pingap/b.toml", 9));
    await sleep(80);
    assert.equal(calls, 1, "two events close together: one call");
    assert.equal(watch.revision, 9);
    // A progress notification moves the revision on without a call.
    c1.send(header(12));
    await sleep(50);
    assert.equal(calls, 1);
    c1.end();
    const c2 = await gw.next();
    assert.equal(c2.body.create_request.start_revision, "13");
    c2.send({ ...header(12), created: true });
    await sleep(50);
    assert.equal(calls, 1, "a resumed watch does not call by itself");
    c2.send({ ...header(13), events: [{ type: "DELETE", kv: { key: b64("/pingap/a.toml"), mod_revision: "13" } }] });
    await sleep(80);
    assert.equal(calls, 2);
  } finally {
    await watch.close();
    await gw.close();
  }
});

Deno.test("watchEtcd: a compacted revision is watched from now on, with one onChange for what was missed", async () => {
  const gw = fakeGateway();
  let calls = 0;
  const watch = watchEtcd(gw.url, () => calls++, {
    debounceMs: 10,
    minBackoffMs: 10,
    afterRevision: 3,
    onError: () => {},
  });
  try {
    const c1 = await gw.next();
    assert.equal(c1.body.create_request.start_revision, "4");
    c1.send({ ...header(50), created: true });
    c1.send({ ...header(50), compact_revision: "40" });
    const c2 = await gw.next();
    assert.equal(c2.body.create_request.start_revision, undefined, "watching from now on");
    c2.send({ ...header(50), created: true });
    await sleep(50);
    assert.equal(calls, 1, "the missed changes are a full re-read");
    assert.equal(watch.revision, 50);
  } finally {
    await watch.close();
    await gw.close();
  }
});

Deno.test("watchEtcd: canceled watches and throwing callbacks do not stop it; auth is sent", async () => {
  const gw = fakeGateway();
  let calls = 0;
  const errors: string[] = [];
  const watch = watchEtcd(`${gw.url}?user=u&password=p`, () => {
    calls++;
    throw new Error("callback failed");
  }, { debounceMs: 10, minBackoffMs: 10, onError: (e) => errors.push(e.message) });
  try {
    const c1 = await gw.next();
    assert.equal(c1.auth, "token-1");
    c1.send({ ...header(5), created: true, canceled: true, cancel_reason: "etcdserver: invalid auth token" });
    const c2 = await gw.next();
    assert.equal(c2.auth, "token-2", "a new token for each connection");
    assert.equal(c2.body.create_request.start_revision, undefined);
    c2.send({ ...header(5), created: true });
    c2.send(put("/pingap/x.toml", 6));
    await sleep(50);
    assert.equal(calls, 1);
    assert.ok(errors.some((m) => /watch canceled: etcdserver: invalid auth token/.test(m)), errors.join("\n"));
    assert.ok(errors.includes("callback failed"), errors.join("\n"));
    c2.send(put("/pingap/y.toml", 7));
    await sleep(50);
    assert.equal(calls, 2, "still watching after the callback threw");
  } finally {
    await watch.close();
    await gw.close();
  }
});

Deno.test("watchEtcd: a burst longer than maxDelayMs still calls", async () => {
  const gw = fakeGateway();
  let calls = 0;
  const watch = watchEtcd(gw.url, () => calls++, { debounceMs: 40, maxDelayMs: 100, onError: () => {} });
  try {
    const c = await gw.next();
    c.send({ ...header(1), created: true });
    for (let i = 2; i < 14; i++) {
      c.send(put(`/pingap/k${i}`, i));
      await sleep(20);
    }
    assert.ok(calls >= 1, `called ${calls} times during a 240 ms burst`);
  } finally {
    await watch.close();
    await gw.close();
  }
});

Deno.test("watchEtcd: unreachable etcd backs off, doubling to the maximum; close ends it", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const delays: number[] = [];
  const watch = watchEtcd(`etcd://127.0.0.1:${port}/pingap`, () => {}, {
    minBackoffMs: 10,
    maxBackoffMs: 40,
    onError: (_e, ms) => delays.push(ms),
  });
  await sleep(300);
  await watch.close();
  await watch.close();
  assert.deepEqual(delays.slice(0, 5), [10, 20, 40, 40, 40]);
  const n = delays.length;
  await sleep(100);
  assert.equal(delays.length, n, "nothing after close");
});

Deno.test("watchEtcd: an invalid URL is reported, not thrown", async () => {
  const errors: Error[] = [];
  const watch = watchEtcd("etcd:///pingap", () => {}, { onError: (e) => errors.push(e) });
  await watch.close();
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /names no host/);
});
