/**
 * `downstream_read_timeout` on an `enabled_h2` server (HTTP/1.1 by our engine, h2c by the in-process HTTP/2 engine),
 * with the proxy in its own process and raw clients: a half head, a head dripped a byte at a time, a
 * stalled body, an h2c session that sends nothing and an h2c stream whose body stalls are all cut; normal requests on
 * both protocols still work. The timeout is 1 s and every client waits 15 s for the cut, so only the timeout (not the
 * old 30 s sniff or node's 5 s keep-alive) can end them in time.
 *
 * @module
 */
import assert from "node:assert/strict";
import { connect } from "node:http2";
import { startOrigin } from "../_support/origin.ts";
import { spawnProxy } from "../_support/process.ts";

const enc = new TextEncoder();
const WAIT_MS = 15_000;

/** Writes `first`, then `drip` (if any) a byte every 200 ms; resolves with what came back and whether the proxy closed. */
async function rawHold(
  port: number,
  first: Uint8Array | string,
  drip?: string,
): Promise<{ closed: boolean; bytes: Uint8Array }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(typeof first === "string" ? enc.encode(first) : first);
  let i = 0;
  const dripper = drip === undefined ? undefined : setInterval(() => {
    conn.write(enc.encode(drip[i++ % drip.length]!)).catch(() => {});
  }, 200);
  let closed = false;
  let gaveUp = false;
  const timer = setTimeout(() => {
    gaveUp = true;
    conn.close();
  }, WAIT_MS);
  const parts: number[] = [];
  const buf = new Uint8Array(4096);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) {
        closed = true;
        break;
      }
      parts.push(...buf.subarray(0, n));
    }
  } catch {
    // Closed by our timer (not by the proxy), or reset by the proxy.
    closed = !gaveUp;
  } finally {
    clearTimeout(timer);
    clearInterval(dripper);
  }
  if (closed) conn.close();
  return { closed, bytes: new Uint8Array(parts) };
}

/** The frame types in a server's h2 byte stream. */
function frameTypes(bytes: Uint8Array): number[] {
  const types: number[] = [];
  for (let i = 0; i + 9 <= bytes.length;) {
    const len = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    types.push(bytes[i + 3]!);
    i += 9 + len;
  }
  return types;
}

const PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/** An empty SETTINGS frame. */
const SETTINGS = new Uint8Array([0, 0, 0, 4, 0, 0, 0, 0, 0]);

Deno.test("enabled_h2 listener (h2 upstream): downstream_read_timeout cuts slow heads, stalled bodies and idle h2c sessions; requests still work", async (t) => {
  const origin = await startOrigin(
    "h2",
    async (req) => new Response(`origin ${req.method} ${await req.text().catch(() => "(cut)")}`),
  );
  const { child, port, file } = await spawnProxy(`
[upstreams.h2]
addrs = ["${origin.addr}"]
alpn = "h2"
[locations.all]
upstream = "h2"
[servers.s]
addr = "127.0.0.1:0"
enabled_h2 = true
downstream_read_timeout = "1s"
locations = ["all"]
`);
  try {
    await t.step("HTTP/1.1 and h2c requests are answered", async () => {
      const res = await fetch(`http://127.0.0.1:${port}/a`, { method: "POST", body: "hi" });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "origin POST hi");
      const session = connect(`http://127.0.0.1:${port}`);
      session.on("error", () => {});
      try {
        const stream = session.request({ ":path": "/b", ":method": "GET" });
        stream.on("error", () => {});
        let body = "";
        let status = 0;
        stream.setEncoding("utf8");
        stream.on("response", (h) => status = Number(h[":status"]));
        stream.on("data", (d: string) => body += d);
        await new Promise((r) => stream.once("close", r));
        assert.equal(status, 200);
        assert.equal(body, "origin GET ");
      } finally {
        session.destroy();
      }
    });
    await t.step("half a head, then silence: the connection is closed", async () => {
      const r = await rawHold(port, "GET /x HTTP/1.1\r\nhost: a.test\r\n");
      assert.ok(r.closed, "the proxy closed the connection");
    });
    await t.step("a head dripped a byte every 200 ms: the connection is closed (the head has 1 s in all)", async () => {
      const r = await rawHold(port, "GET /x HTTP/1.1\r\nhost: a.test\r\nx-a: ", "a");
      assert.ok(r.closed, "the proxy closed the connection");
    });
    await t.step("a body that stalls: the connection is closed", async () => {
      const r = await rawHold(port, "POST /x HTTP/1.1\r\nhost: a.test\r\ncontent-length: 10\r\n\r\nab");
      assert.ok(r.closed, "the proxy closed the connection");
    });
    await t.step("an h2c session that sends nothing after its preface: GOAWAY, then closed", async () => {
      const preface = new Uint8Array([...enc.encode(PREFACE), ...SETTINGS]);
      const r = await rawHold(port, preface);
      assert.ok(r.closed, "the proxy closed the connection");
      assert.ok(frameTypes(r.bytes).includes(7), `a GOAWAY came (frames ${frameTypes(r.bytes).join(",")})`);
    });
    await t.step("an h2c stream whose body stalls is reset", async () => {
      const session = connect(`http://127.0.0.1:${port}`);
      session.on("error", () => {});
      try {
        const stream = session.request({ ":path": "/c", ":method": "POST" }, { endStream: false });
        stream.on("error", () => {});
        stream.write("ab");
        const timer = setTimeout(() => stream.close(), WAIT_MS);
        await new Promise((r) => stream.once("close", r));
        clearTimeout(timer);
        assert.equal(stream.rstCode, 8, "RST_STREAM CANCEL from the proxy");
      } finally {
        session.destroy();
      }
    });
    await t.step("the proxy still answers", async () => {
      const res = await fetch(`http://127.0.0.1:${port}/d`);
      assert.equal(await res.text(), "origin GET ");
    });
  } finally {
    await child.stop();
    await Deno.remove(file);
    await origin.close();
  }
});
