/**
 * Slow and greedy clients behind a 1 s `downstream_read_timeout` /
 * `downstream_write_timeout` (nginx: `client_header_timeout`,
 * `client_body_timeout`, `send_timeout` 1 s): trickled heads and bodies,
 * silence on every path (fast and screened), and clients that never read a
 * large response. The timeouts must cut them, and memory must stay flat.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { FnCase, HostileCase, WireCase } from "./case.ts";
import type { Part } from "./wire.ts";
import { rssKiB } from "./setup.ts";

type Row = Omit<WireCase, "kind" | "group">;

/** `text` split into `n`-byte parts with `ms` pauses between. */
function trickle(text: string, n: number, ms: number): Part[] {
  const parts: Part[] = [];
  for (let i = 0; i < text.length; i += n) parts.push(text.slice(i, i + n), { pause: ms });
  return parts;
}

const HEAD = "GET /c/{id}/ HTTP/1.1\r\nHost: h.test\r\nX-Case: {id}\r\n";

/** Heads that never end, on the fast path and on each that goes to the screen (issue 15 item 7). */
const SILENT_HEADS: readonly [string, string, string?][] = [
  ["plain", HEAD],
  ["request-line-only", "GET /c/{id}/ HTTP/1.1\r\n"],
  ["half-request-line", "GET /c/{id}/"],
  ["screened-absolute-form", "GET http://h.test/c/{id}/ HTTP/1.1\r\nHost: h.test\r\n"],
  ["screened-http-1.0", "GET /c/{id}/ HTTP/1.0\r\nHost: h.test\r\n"],
  ["screened-bare-cr", "GET /c/{id}/ HTTP/1.1\r\nHost: h.test\rX: y\r\n"],
  ["screened-non-ascii", "GET /c/{id}/\xc3\xa9 HTTP/1.1\r\nHost: h.test\r\n"],
];

function rows(): Row[] {
  return [
    { name: "slow/connect-and-say-nothing", parts: [{ pause: 10 }], timeoutMs: 4000 },
    ...SILENT_HEADS.map(([name, head, pending]): Row => ({
      name: `slow/silent-head/${name}`,
      parts: [head],
      timeoutMs: 4000,
      ...(pending ? { pendingFix: pending } : {}),
    })),
    {
      name: "slow/slowloris-field-every-400ms",
      parts: Array.from({ length: 12 }, (_, i) => i === 0 ? HEAD : `X-S${i}: ${i}\r\n`).flatMap((
        p,
      ) => [p, { pause: 400 }]),
      timeoutMs: 6000,
    },
    {
      name: "slow/slowloris-byte-every-300ms",
      parts: [HEAD + "X-Slow: aaaaaaaaaaaaaaaa\r\n"],
      trickle: { size: 1, pause: 300 },
      timeoutMs: 6000,
    },
    {
      name: "slow/body-stalls-after-half",
      parts: ["POST /c/{id}/ HTTP/1.1\r\nHost: h.test\r\nX-Case: {id}\r\nContent-Length: 10\r\n\r\nhello"],
      timeoutMs: 4000,
    },
    {
      name: "slow/chunked-body-stalls",
      cutUpload: "uploads are streamed (nginx buffers them): the origin sees the head and `hello` before the cut",
      parts: [
        "POST /c/{id}/ HTTP/1.1\r\nHost: h.test\r\nX-Case: {id}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
      ],
      timeoutMs: 4000,
    },
    {
      name: "slow/body-trickles-under-timeout",
      parts: [
        "POST /c/{id}/ HTTP/1.1\r\nHost: h.test\r\nX-Case: {id}\r\nContent-Length: 6\r\n\r\n",
        { pause: 300 },
        ...trickle("hello!", 1, 300),
      ],
      originBody: "hello!",
      timeoutMs: 6000,
    },
  ];
}

/** Opens a connection, asks for `mb` MiB and never reads; returns the connection. */
async function greedy(port: number, id: number, mb: number): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(`GET /c/${id}/fault/big?mb=${mb} HTTP/1.1\r\nHost: h.test\r\n\r\n`));
  return conn;
}

/** Reads what is left on `conn` until the peer closes or `ms` pass: the byte count, and whether the peer closed. */
async function drainEnd(conn: Deno.Conn, ms: number): Promise<{ n: number; peerClosed: boolean }> {
  let n = 0;
  let peerClosed = true;
  const timer = setTimeout(() => {
    peerClosed = false;
    conn.close();
  }, ms);
  const buf = new Uint8Array(1 << 20);
  try {
    for (;;) {
      const r = await conn.read(buf);
      if (r === null) break;
      n += r;
    }
  } catch {
    // Closed by the timer.
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // Closed.
    }
  }
  return { n, peerClosed };
}

/** {@linkcode drainEnd}'s byte count. */
async function drain(conn: Deno.Conn, ms: number): Promise<number> {
  return (await drainEnd(conn, ms)).n;
}

const fns: FnCase[] = [
  {
    kind: "fn",
    group: "slow",
    name: "greedy/one-client-never-reads-64mb",
    nginxNote: "send_timeout cuts it; nginx buffers to disk (proxy_max_temp_file_size)",
    async run({ port, pid, id }) {
      const before = rssKiB(pid);
      const conn = await greedy(port, id, 64);
      await new Promise((r) => setTimeout(r, 3000));
      const during = rssKiB(pid);
      const got = await drain(conn, 3000);
      console.log(`    greedy 64 MiB: RSS ${before} → ${during} KiB while held; the client could read ${got} bytes`);
      assert.ok(got < 64 * 1024 * 1024, "the write timeout cut the client that never read");
      assert.ok(during - before < 48 * 1024, `memory stays flat: RSS grew ${during - before} KiB`);
    },
  },
  {
    kind: "fn",
    group: "slow",
    name: "greedy/20-clients-never-read-16mb",
    nginxNote: "send_timeout cuts them",
    async run({ port, pid, id }) {
      const before = rssKiB(pid);
      const conns = await Promise.all(Array.from({ length: 20 }, () => greedy(port, id, 16)));
      await new Promise((r) => setTimeout(r, 3000));
      const during = rssKiB(pid);
      const got = await Promise.all(conns.map((c) => drain(c, 3000)));
      console.log(`    20 greedy × 16 MiB: RSS ${before} → ${during} KiB while held`);
      assert.ok(got.every((n) => n < 16 * 1024 * 1024), "the write timeout cut every client that never read");
      assert.ok(during - before < 128 * 1024, `memory stays flat: RSS grew ${during - before} KiB for 320 MiB asked`);
    },
  },
  {
    kind: "fn",
    group: "slow",
    name: "slowloris/200-held-heads",
    nginxNote: "client_header_timeout closes them",
    async run({ port }) {
      const conns = await Promise.all(Array.from({ length: 200 }, async () => {
        const c = await Deno.connect({ hostname: "127.0.0.1", port });
        await c.write(new TextEncoder().encode(HEAD));
        return c;
      }));
      const ends = await Promise.all(conns.map((c) => drainEnd(c, 5000)));
      const held = ends.filter((e) => !e.peerClosed).length;
      assert.equal(held, 0, `${held} of 200 slowloris connections still held after 5 s`);
    },
  },
];

/** Every case of the group, in a stable order. */
export function slowCases(): HostileCase[] {
  return [...rows().map((r): WireCase => ({ kind: "wire", group: "slow", ...r })), ...fns];
}
