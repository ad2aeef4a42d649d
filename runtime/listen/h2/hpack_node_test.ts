/**
 * Cross-check with a real HPACK implementation: a `node:http2` client (nghttp2 inside Node) talks h2c with prior
 * knowledge to a bare TCP listener here that frames just enough HTTP/2 to decode its HEADERS blocks with
 * {@linkcode HpackDecoder} and to answer each with a block from {@linkcode HpackEncoder}. Many requests on one
 * connection, with repeated and changing fields, exercise both dynamic tables; Node prints what it received.
 */
import assert from "node:assert/strict";
import { HpackDecoder, HpackEncoder } from "./hpack.ts";

const CLIENT = `
const http2 = require("node:http2");
const [port, count] = process.argv.slice(1).map(Number);
const session = http2.connect("http://127.0.0.1:" + port);
session.on("error", (e) => { console.error(String(e)); process.exit(2); });
const ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
(async () => {
  const answers = [];
  for (let i = 0; i < count; i++) {
    // Half way, shrink our table: the proxy's encoder must start its next block with a size update.
    if (i === count / 2) await new Promise((resolve) => session.settings({ headerTableSize: 100 }, resolve));
    const headers = {
      ":method": i % 3 === 0 ? "POST" : "GET",
      ":path": "/items/" + i + "?q=" + "x".repeat(i),
      "user-agent": ua,
      "accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
      "accept-encoding": "gzip, deflate, br",
      "cookie": "session=" + "abcdef0123456789".repeat(2) + "; i=" + (i % 4),
      "x-binary": "caf\\u00e9 \\u00ff" + i,
      "x-seq": String(i),
    };
    answers.push(await new Promise((resolve, reject) => {
      const req = session.request(headers, { endStream: true });
      req.on("response", (h) => resolve(h));
      req.on("error", reject);
      req.resume();
    }));
  }
  console.log(JSON.stringify(answers));
  session.close();
})().catch((e) => { console.error(String(e)); process.exit(1); });
`;

const PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

function frame(type: number, flags: number, stream: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(9 + payload.length);
  out[0] = payload.length >>> 16;
  out[1] = payload.length >>> 8;
  out[2] = payload.length;
  out[3] = type;
  out[4] = flags;
  new DataView(out.buffer).setUint32(5, stream);
  out.set(payload, 9);
  return out;
}

/** The response fields of request `i` (some repeat on every answer, some change). */
function answerFields(i: number, path: string): string[] {
  return [
    ":status",
    i % 5 === 0 ? "404" : "200",
    "server",
    "pingap",
    "content-type",
    "text/html; charset=utf-8",
    "date",
    `Mon, 07 Dec 2026 18:${String(i).padStart(2, "0")}:00 GMT`,
    "x-echo-path",
    path,
    "set-cookie",
    `id=${i}; Path=/; HttpOnly`,
    "cache-control",
    "private, max-age=0",
    "x-raw",
    "\u00e9t\u00e9 z" + "z".repeat(i), // no trailing space: nghttp2 drops such a field (RFC 9113 §8.2.1)
  ];
}

Deno.test("HPACK interoperates with nghttp2 (node:http2) both ways over one connection", async () => {
  const count = 40;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const child = new Deno.Command("node", {
    args: ["-e", CLIENT, String(listener.addr.port), String(count)],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const conn = await listener.accept();
  listener.close();
  const decoder = new HpackDecoder();
  const encoder = new HpackEncoder();
  const requests: string[][] = [];
  const sent: string[][] = [];
  const requestSizes: number[] = [];
  const answerBlocks: Uint8Array[] = [];
  await conn.write(frame(4, 0, 0, new Uint8Array(0))); // our SETTINGS: all defaults
  let buf = new Uint8Array(0);
  const chunk = new Uint8Array(65536);
  let prefaceSeen = false;
  let block: Uint8Array[] = [];
  let blockStream = 0;
  for (;;) {
    const n = await conn.read(chunk);
    if (n === null) break;
    const next = new Uint8Array(buf.length + n);
    next.set(buf);
    next.set(chunk.subarray(0, n), buf.length);
    buf = next;
    if (!prefaceSeen) {
      if (buf.length < 24) continue;
      assert.equal(new TextDecoder().decode(buf.subarray(0, 24)), PREFACE);
      buf = buf.subarray(24);
      prefaceSeen = true;
    }
    while (buf.length >= 9) {
      const len = (buf[0]! << 16) | (buf[1]! << 8) | buf[2]!;
      if (buf.length < 9 + len) break;
      const type = buf[3]!;
      const flags = buf[4]!;
      const stream = new DataView(buf.buffer, buf.byteOffset).getUint32(5) & 0x7fffffff;
      let payload = buf.subarray(9, 9 + len);
      buf = buf.subarray(9 + len);
      if (type === 4 && (flags & 1) === 0) {
        for (let at = 0; at + 6 <= payload.length; at += 6) {
          const view = new DataView(payload.buffer, payload.byteOffset + at);
          if (view.getUint16(0) === 1) encoder.setPeerMaxTableSize(view.getUint32(2));
        }
        await conn.write(frame(4, 1, 0, new Uint8Array(0)));
      }
      if (type === 1 || type === 9) {
        if (type === 1) {
          let start = 0;
          let end = payload.length;
          if (flags & 0x8) {
            start = 1;
            end -= payload[0]!;
          }
          if (flags & 0x20) start += 5;
          payload = payload.subarray(start, end);
          blockStream = stream;
          block = [];
        }
        block.push(payload.slice());
        if (flags & 0x4) {
          const whole = new Uint8Array(block.reduce((a, b) => a + b.length, 0));
          let at = 0;
          for (const part of block) {
            whole.set(part, at);
            at += part.length;
          }
          const fields = decoder.decode(whole);
          requests.push(fields);
          requestSizes.push(whole.length);
          const path = fields[fields.indexOf(":path") + 1]!;
          const answer = answerFields(requests.length - 1, path);
          sent.push(answer);
          // HEADERS with END_STREAM | END_HEADERS.
          const encoded = encoder.encode(answer);
          answerBlocks.push(encoded);
          await conn.write(frame(1, 0x5, blockStream, encoded));
        }
      }
    }
  }
  conn.close();
  const [status, stdout, stderr] = await Promise.all([
    child.status,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  assert.equal(status.code, 0, stderr);
  assert.equal(requests.length, count);
  // What nghttp2 sent, as we decoded it.
  for (let i = 0; i < count; i++) {
    const fields = requests[i]!;
    const map = new Map<string, string>();
    for (let j = 0; j < fields.length; j += 2) map.set(fields[j]!, fields[j + 1]!);
    assert.equal(map.get(":method"), i % 3 === 0 ? "POST" : "GET");
    assert.equal(map.get(":path"), "/items/" + i + "?q=" + "x".repeat(i));
    assert.equal(map.get(":scheme"), "http");
    assert.ok(map.get("user-agent")?.startsWith("Mozilla/5.0"));
    assert.equal(map.get("accept-encoding"), "gzip, deflate, br");
    assert.equal(map.get("cookie"), "session=" + "abcdef0123456789".repeat(2) + "; i=" + (i % 4));
    assert.equal(map.get("x-binary"), "caf\u00e9 \u00ff" + i);
    assert.equal(map.get("x-seq"), String(i));
  }
  // nghttp2 used its dynamic table (later blocks far smaller than the first), and so did we until the peer shrank
  // the table to 100 octets: the first block after that starts with a size update to 100 (001 11111, 69).
  assert.ok(decoder.tableSize > 0);
  assert.ok(requestSizes[2]! < requestSizes[0]! / 2, `request blocks ${requestSizes}`);
  assert.ok(
    answerBlocks[2]!.length < answerBlocks[0]!.length * 0.7,
    `answer blocks ${answerBlocks.map((b) => b.length)}`,
  );
  const shrunk = answerBlocks.findIndex((b) => b[0] === 0x3f && b[1] === 69);
  assert.ok(shrunk >= count / 2, `size update in answer ${shrunk}`);
  assert.ok(encoder.tableSize <= 100);
  // What nghttp2 decoded from our blocks.
  const answers = JSON.parse(stdout) as Record<string, string | string[] | number>[];
  assert.equal(answers.length, count);
  for (let i = 0; i < count; i++) {
    const got = answers[i]!;
    const want = sent[i]!;
    for (let j = 0; j < want.length; j += 2) {
      const name = want[j]!;
      const value = got[name];
      const text = Array.isArray(value) ? value.join("\n") : String(value);
      // Node hands values to JavaScript as latin1: each octet one char, as we sent them.
      assert.equal(text, want[j + 1], `${name} of answer ${i}: ${JSON.stringify(got)}`);
    }
  }
});
