/**
 * An Upgrade protocol other than WebSocket through the proxy in its own process: after the upstream's 101 the two
 * connections are spliced byte for byte (issue 17, Build 2), and either side closing ends the other with no error
 * escaping; the proxy then still serves.
 *
 * @module
 */
import assert from "node:assert/strict";
import { spawnProxy } from "../_support/process.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * A raw TCP origin: `GET /plain` is answered 200 `plain`; an upgrade request gets a 101 (`upgrade: x-echo`), then every
 * byte is echoed back until the client ends; with `/drop` it closes right after its first echo. `ended(path)`
 * resolves with the end of the connection that requested `path`, as the origin saw it.
 */
function rawOrigin() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const ends = new Map<string, PromiseWithResolvers<string>>();
  const endOf = (path: string) => {
    let e = ends.get(path);
    if (e === undefined) ends.set(path, e = Promise.withResolvers<string>());
    return e;
  };
  const serve = async (conn: Deno.Conn) => {
    let seen = Promise.withResolvers<string>();
    const buf = new Uint8Array(65536);
    let head = "";
    let rest = new Uint8Array(0);
    try {
      while (!head.includes("\r\n\r\n")) {
        const n = await conn.read(buf);
        if (n === null) return seen.resolve("closed before a head");
        head += dec.decode(buf.subarray(0, n));
      }
      seen = endOf(head.split(" ")[1]!);
      const end = head.indexOf("\r\n\r\n") + 4;
      rest = enc.encode(head.slice(end));
      if (!/^upgrade: x-echo\r$/im.test(head) || !/^connection: upgrade\r$/im.test(head)) {
        await conn.write(enc.encode("HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nplain"));
        conn.close();
        return seen.resolve("plain");
      }
      await conn.write(
        enc.encode("HTTP/1.1 101 Switching Protocols\r\nupgrade: x-echo\r\nconnection: upgrade\r\n\r\n"),
      );
      if (rest.byteLength > 0) await conn.write(rest);
      const drop = head.startsWith("GET /drop ");
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) return seen.resolve("client ended");
        await conn.write(buf.subarray(0, n));
        if (drop) {
          conn.close();
          return seen.resolve("dropped");
        }
      }
    } catch (e) {
      seen.resolve(`error ${(e as Error).name}`);
    } finally {
      try {
        conn.close();
      } catch { /* closed */ }
    }
  };
  (async () => {
    for await (const conn of listener) serve(conn);
  })().catch(() => {});
  return {
    addr: `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    /** The end of the `i`-th connection. */
    ended: (path: string) => endOf(path).promise,
    close: () => listener.close(),
  };
}

/** Reads from `c` until `want` bytes came or it ends; returns them as text. */
async function readText(c: Deno.Conn, want: number): Promise<string> {
  const buf = new Uint8Array(65536);
  let out = "";
  while (out.length < want) {
    const n = await c.read(buf);
    if (n === null) break;
    out += dec.decode(buf.subarray(0, n));
  }
  return out;
}

/** Reads the 101 head; returns it and what came after it. */
async function switched(c: Deno.Conn): Promise<{ head: string; after: string }> {
  const buf = new Uint8Array(65536);
  let text = "";
  while (!text.includes("\r\n\r\n")) {
    const n = await c.read(buf);
    if (n === null) throw new Error(`closed before a head: ${JSON.stringify(text)}`);
    text += dec.decode(buf.subarray(0, n));
  }
  const end = text.indexOf("\r\n\r\n") + 4;
  return { head: text.slice(0, end), after: text.slice(end) };
}

const upgradeRequest = (path: string) =>
  `GET ${path} HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: x-echo\r\n\r\n`;

Deno.test("upgrade as bytes: an x-echo protocol is spliced after the 101; either side closing ends the other", async () => {
  const origin = rawOrigin();
  const toml = `
[servers.s]
addr = "127.0.0.1:0"
locations = ["l"]
[locations.l]
upstream = "u"
[upstreams.u]
addrs = ["${origin.addr}"]
h1_upgrade = "preserve"
`;
  const { child, port, file } = await spawnProxy(toml);
  try {
    // Bytes sent right behind the head, and binary bytes (every value) after the 101, come back untouched.
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    await c.write(enc.encode(upgradeRequest("/echo") + "early"));
    const { head, after } = await switched(c);
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.match(head, /\r\nupgrade: x-echo\r\n/i);
    assert.match(head, /\r\nconnection: upgrade\r\n/i);
    assert.equal(after + await readText(c, 5 - after.length), "early");
    const bytes = new Uint8Array(256 * 256).map((_, i) => i % 256);
    await c.write(bytes);
    const back = new Uint8Array(bytes.byteLength);
    let got = 0;
    while (got < back.byteLength) {
      const n = await c.read(back.subarray(got));
      assert.ok(n !== null, "the echo ended early");
      got += n;
    }
    assert.deepEqual(back, bytes);
    // The client closing abruptly ends the origin's connection.
    c.close();
    assert.equal(await origin.ended("/echo"), "client ended");

    // The origin closing ends the client's.
    const d = await Deno.connect({ hostname: "127.0.0.1", port });
    await d.write(enc.encode(upgradeRequest("/drop")));
    await switched(d);
    await d.write(enc.encode("x"));
    assert.equal(await readText(d, 1000), "x");
    assert.equal(await origin.ended("/drop"), "dropped");
    d.close();

    // Still serving.
    const res = await fetch(`http://127.0.0.1:${port}/plain`);
    assert.equal(await res.text(), "plain");
    assert.doesNotMatch(child.output(), /Uncaught|panicked/);
  } finally {
    await child.stop();
    await Deno.remove(file);
    origin.close();
  }
});
