/**
 * A spliced upgrade whose one side stops reading does not hold the proxy forever (the proxy in its own process): an
 * upstream that answers 101 and never reads, while the client sends until its bytes stall and leaves, is cut by the upstream's
 * `write_timeout`; a client that never reads while the upstream sends 10 MB is cut by `downstream_write_timeout`. Both
 * connections end, and the proxy holds no connection any more.
 *
 * @module
 */
import assert from "node:assert/strict";
import { spawnProxy } from "../_support/process.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const TEN_MB = 10 * 1024 * 1024;

/**
 * TCP connections a process holds, listeners aside: its sockets (`/proc/<pid>/fd`) found in `/proc/net/tcp{,6}` in a
 * state other than LISTEN.
 */
function connections(pid: number): number {
  const inodes = new Set<string>();
  for (const e of Deno.readDirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(Deno.readLinkSync(`/proc/${pid}/fd/${e.name}`));
      if (m) inodes.add(m[1]!);
    } catch { /* closed meanwhile */ }
  }
  let n = 0;
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of Deno.readTextFileSync(table).split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] !== "0A" && inodes.has(f[9]!)) n++;
    }
  }
  return n;
}

/** Polls `test` every 50 ms until it holds, for at most `ms`; returns whether it did. */
async function until(test: () => boolean, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 50) {
    if (test()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return test();
}

/** `p`, or "not yet" when it has not settled within `ms` (a guard against a hang, not a timing). */
async function within(p: Promise<string>, ms: number): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<string>((resolve) => timer = setTimeout(() => resolve("not yet"), ms));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads `c` to its end (or its failure); resolves with how it ended. */
async function readToEnd(c: Deno.Conn): Promise<string> {
  const buf = new Uint8Array(65536);
  try {
    while (await c.read(buf) !== null) { /* drop */ }
    return "end";
  } catch (e) {
    return `error ${(e as Error).name}`;
  }
}

/** Writes all of `bytes` (or fails); resolves with the count written. */
async function writeAll(c: Deno.Conn, bytes: Uint8Array, onProgress?: (n: number) => void): Promise<number> {
  let w = 0;
  try {
    while (w < bytes.byteLength) {
      w += await c.write(bytes.subarray(w, Math.min(bytes.byteLength, w + 65536)));
      onProgress?.(w);
    }
  } catch { /* cut */ }
  return w;
}

/**
 * Writes `bytes` to `c` until a write has waited for a second (the bytes stalled on the way) or failed; returns the
 * count written. The write left waiting fails when `c` is closed.
 */
async function sendUntilStalled(c: Deno.Conn, bytes: Uint8Array): Promise<number> {
  let sent = 0;
  while (sent < bytes.byteLength) {
    const writing = c.write(bytes.subarray(sent, sent + 65536));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stalled = new Promise<true>((resolve) => timer = setTimeout(() => resolve(true), 1000));
    // A failed write: the proxy already cut the connection (its own time limit came first).
    const n = await Promise.race([writing, stalled]).catch(() => true as const);
    clearTimeout(timer);
    if (n === true) {
      writing.catch(() => {});
      return sent;
    }
    sent += n;
  }
  return sent;
}

/**
 * A raw origin: reads a request head, answers 101 (`upgrade: x-stall`); then `stall` never reads until told to end,
 * or `flood` sends 10 MB. `ended` resolves when its connection ended as it saw it.
 */
function rawOrigin(mode: "stall" | "flood") {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const ended = Promise.withResolvers<string>();
  const switched = Promise.withResolvers<void>();
  const drain = Promise.withResolvers<void>();
  const serve = async (conn: Deno.Conn) => {
    const buf = new Uint8Array(65536);
    let head = "";
    while (!head.includes("\r\n\r\n")) {
      // A health check's connection: it brings no request.
      const n = await conn.read(buf).catch(() => null);
      if (n === null) return conn.close();
      head += dec.decode(buf.subarray(0, n));
    }
    await conn.write(enc.encode("HTTP/1.1 101 Switching Protocols\r\nupgrade: x-stall\r\nconnection: upgrade\r\n\r\n"));
    switched.resolve();
    if (mode === "flood") {
      // Ends when the proxy cuts the connection (the write fails) or once all went (a client that read it all).
      await writeAll(conn, new Uint8Array(TEN_MB));
      ended.resolve(await readToEnd(conn));
    } else {
      // Reads nothing until the test has seen the client's end, then finds whether the proxy closed its side.
      await drain.promise;
      ended.resolve(await readToEnd(conn));
    }
    try {
      conn.close();
    } catch { /* closed */ }
  };
  (async () => {
    for await (const conn of listener) serve(conn).catch((e) => ended.resolve(`origin failed: ${e}`));
  })().catch(() => {});
  return {
    addr: `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    switched: switched.promise,
    ended: ended.promise,
    drain: () => drain.resolve(),
    close: () => listener.close(),
  };
}

const config = (origin: string, extra: { server?: string; upstream?: string }) => `
[servers.s]
addr = "127.0.0.1:0"
locations = ["l"]
${extra.server ?? ""}
[locations.l]
upstream = "u"
[upstreams.u]
addrs = ["${origin}"]
h1_upgrade = "preserve"
${extra.upstream ?? ""}
`;

const UPGRADE = "GET /x HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: x-stall\r\n\r\n";

/** Reads the 101 head from `c`. */
async function read101(c: Deno.Conn): Promise<string> {
  const buf = new Uint8Array(4096);
  let text = "";
  while (!text.includes("\r\n\r\n")) {
    const n = await c.read(buf);
    if (n === null) throw new Error(`closed before the 101: ${JSON.stringify(text)}`);
    text += dec.decode(buf.subarray(0, n));
  }
  return text;
}

Deno.test("upgrade splice: an upstream that never reads, a client that sends MBs and leaves: both end (write_timeout)", async () => {
  const origin = rawOrigin("stall");
  const { child, port, file } = await spawnProxy(config(origin.addr, { upstream: 'write_timeout = "1s"' }));
  try {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    await c.write(enc.encode(UPGRADE));
    assert.match(await read101(c), /^HTTP\/1\.1 101 /);
    await origin.switched;
    // The client sends up to 40 MB and leaves once a write of it waits: the upstream takes none, so the buffers on the
    // way fill up (about 8 MB here).
    const sent = await sendUntilStalled(c, new Uint8Array(4 * TEN_MB));
    c.close();
    assert.ok(sent < 4 * TEN_MB, `the client's bytes stalled after ${sent}`);
    // The proxy closes its two sockets; the upstream then sees its connection end.
    assert.ok(await until(() => connections(child.pid) === 0, 15_000), "the proxy's connections are closed");
    origin.drain();
    assert.match(await within(origin.ended, 15_000), /^(end|error)/);
    assert.doesNotMatch(child.output(), /Uncaught|panicked/);
  } finally {
    origin.drain();
    await child.stop();
    await Deno.remove(file);
    origin.close();
  }
});

Deno.test("upgrade splice: a client that never reads while the upstream sends 10 MB: both end (downstream_write_timeout)", async () => {
  const origin = rawOrigin("flood");
  const { child, port, file } = await spawnProxy(config(origin.addr, { server: 'downstream_write_timeout = "1s"' }));
  try {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    await c.write(enc.encode(UPGRADE));
    // The 101 is read; nothing after it.
    const buf = new Uint8Array(256);
    let head = "";
    while (!head.includes("\r\n\r\n")) {
      const n = await c.read(buf.subarray(0, 1));
      assert.ok(n !== null);
      head += dec.decode(buf.subarray(0, n));
    }
    assert.match(head, /^HTTP\/1\.1 101 /);
    // The upstream's write stalls, the proxy cuts both: the upstream's connection ends.
    assert.match(await within(origin.ended, 15_000), /^(end|error)/);
    // The client's connection was closed by the proxy too (what it holds of the flood, then its end).
    assert.match(await within(readToEnd(c), 15_000), /^(end|error)/);
    c.close();
    assert.ok(await until(() => connections(child.pid) === 0, 15_000), "the proxy's connections are closed");
    assert.doesNotMatch(child.output(), /Uncaught|panicked/);
  } finally {
    await child.stop();
    await Deno.remove(file);
    origin.close();
  }
});
