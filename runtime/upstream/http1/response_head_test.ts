import assert from "node:assert/strict";
import { HeadSyntaxError, latin1Decode, latin1Encode, parseResponseHead, type ResponseHead } from "./head.ts";

/** `text` parsed out of a larger buffer (at offset 5, with stray bytes after it), as on a connection. */
function parse(text: string): ResponseHead | null {
  const b = latin1Encode("junk!" + text + "HTTP/1.1 999 stray", 0);
  return parseResponseHead(b, 5, 5 + text.length);
}

/** What a client is sent for a raw head: `HTTP/1.1` and the ranges. */
function rawText(head: ResponseHead): string | undefined {
  const raw = head.raw;
  if (raw === undefined) return undefined;
  let s = "HTTP/1.1";
  for (let i = 0; i < raw.ranges.length; i += 2) s += latin1Decode(raw.bytes, raw.ranges[i]!, raw.ranges[i + 1]!);
  assert.equal(s.length, raw.size);
  return s;
}

const NGINX = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 01 Jul 2025 10:00:00 GMT\r\n" +
  "Content-Type: text/plain\r\nContent-Length: 18\r\nLast-Modified: Mon, 30 Jun 2025 09:00:00 GMT\r\n" +
  'Connection: keep-alive\r\nETag: "68625e50-12"\r\nAccept-Ranges: bytes\r\n\r\n';

Deno.test("parseResponseHead() on bytes: framing facts, lazy fields and the raw ranges of an nginx head", () => {
  const head = parse(NGINX)!;
  assert.equal(head.status, 200);
  assert.equal(head.minor, 1);
  assert.equal(head.end, 5 + NGINX.length);
  assert.equal(head.contentLength, 18);
  assert.deepEqual([head.chunked, head.closeDelimited, head.close], [false, false, false]);
  assert.equal(head.statusText, "OK");
  assert.deepEqual(head.fields, [
    "Server",
    "nginx/1.22.1",
    "Date",
    "Tue, 01 Jul 2025 10:00:00 GMT",
    "Content-Type",
    "text/plain",
    "content-length",
    "18",
    "Last-Modified",
    "Mon, 30 Jun 2025 09:00:00 GMT",
    "ETag",
    '"68625e50-12"',
    "Accept-Ranges",
    "bytes",
  ]);
  const raw = head.raw!;
  assert.equal(raw.dated, true);
  assert.equal(raw.contentLength, 18);
  // Content-Length and Connection left out; the lines around each gap are one range.
  assert.equal(raw.ranges.length, 6);
  assert.equal(
    rawText(head),
    "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 01 Jul 2025 10:00:00 GMT\r\nContent-Type: text/plain\r\n" +
      'Last-Modified: Mon, 30 Jun 2025 09:00:00 GMT\r\nETag: "68625e50-12"\r\nAccept-Ranges: bytes\r\n',
  );
});

Deno.test("parseResponseHead() keeps its own copy: the buffer may be overwritten afterwards", () => {
  const b = latin1Encode(NGINX, 0);
  const head = parseResponseHead(b, 0, b.length)!;
  b.fill(120);
  assert.equal(head.fields[1], "nginx/1.22.1");
  assert.equal(head.statusText, "OK");
  assert.match(rawText(head)!, /^HTTP\/1\.1 200 OK\r\nServer: nginx/);
  // Many heads share slabs: each still reads its own bytes.
  const heads = Array.from({ length: 200 }, (_, i) => parse(`HTTP/1.1 200 OK\r\nx-n: ${i}\r\n\r\n`)!);
  heads.forEach((h, i) => assert.deepEqual(h.fields, ["x-n", String(i)]));
  const big = parse(`HTTP/1.1 200 OK\r\nx-big: ${"b".repeat(8000)}\r\n\r\n`)!;
  assert.equal(big.fields[1]!.length, 8000);
  assert.equal(rawText(big)!.length, "HTTP/1.1 200 OK\r\nx-big: \r\n".length + 8000);
});

Deno.test("parseResponseHead() on bytes: hop-by-hop fields, named ones and framing left out of the raw ranges", () => {
  const head = parse(
    "HTTP/1.1 200 OK\r\nCONNECTION: Keep-Alive, X-Secret\r\nx-secret: 1\r\nTE: trailers\r\nTrailer: x\r\n" +
      "Upgrade: h2c\r\nKEEP-ALIVE: timeout=5\r\nProxy-Connection: x\r\nSet-Cookie: a=1\r\nExpires: 0\r\n" +
      "Transfer-Encoding: chunked\r\ncontent-length: 5\r\nX-Last: z\r\n\r\n",
  )!;
  assert.deepEqual(head.fields, ["set-cookie", "a=1", "expires", "0", "X-Last", "z"]);
  assert.deepEqual([head.chunked, head.contentLength, head.close], [true, -1, true]);
  assert.equal(rawText(head), "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nExpires: 0\r\nX-Last: z\r\n");
  assert.equal(head.raw!.dated, false);
  assert.equal(head.raw!.contentLength, -1);
  assert.equal(parse("HTTP/1.1 200 OK\r\nConnection: CLOSE\r\n\r\n")!.close, true);
  assert.equal(parse("HTTP/1.1 200 OK\r\nConnection: keep-alive , close\r\n\r\n")!.close, true);
  assert.equal(parse("HTTP/1.0 200 OK\r\n\r\n")!.close, true);
  assert.equal(rawText(parse("HTTP/1.0 200 OK\r\ndate: x\r\n\r\n")!), "HTTP/1.1 200 OK\r\ndate: x\r\n");
});

Deno.test("parseResponseHead() offers no raw head when the head must be rewritten", () => {
  const rewritten = [
    "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
    "HTTP/1.1 200\r\nx-a: 1\r\n\r\n",
    "HTTP/1.1 200 \r\nx-a: 1\r\n\r\n",
    "HTTP/1.1 200 OK\nx-a: 1\n\n",
    "HTTP/1.1 200 OK\r\nx-a: 1\n\r\n",
    "HTTP/1.1 200 OK\r\nx-a:1\r\n\r\n",
    "HTTP/1.1 200 OK\r\nx-a:  1\r\n\r\n",
    "HTTP/1.1 200 OK\r\nx-a: 1 \r\n\r\n",
    "HTTP/1.1 200 OK\r\nx-a:\r\n\r\n",
    "HTTP/1.1 200 OK\r\nx-a: one\r\n two\r\n\r\n",
  ];
  for (const text of rewritten) assert.equal(parse(text)!.raw, undefined, JSON.stringify(text));
  // Only forwarded lines count: an odd content-length line or hop-by-hop field does not.
  const odd = parse("HTTP/1.1 200 OK\r\ncontent-length:3\r\nconnection:close\r\nx-a: \r\n\r\n")!;
  assert.equal(rawText(odd), "HTTP/1.1 200 OK\r\nx-a: \r\n");
  assert.deepEqual(odd.fields, ["content-length", "3", "x-a", ""]);
  // What cannot be copied still has its fields.
  assert.deepEqual(parse("HTTP/1.1 200 OK\r\nx-a: one\r\n two \r\n\tthree\r\n\r\n")!.fields, [
    "x-a",
    "one two three",
  ]);
  assert.deepEqual(parse("HTTP/1.1 200\nX-A:\t1 \n\n")!.fields, ["X-A", "1"]);
});

Deno.test("parseResponseHead() keeps header bytes as they are in the raw ranges (latin1, not UTF-8)", () => {
  const head = parse("HTTP/1.1 200 Caf\xe9\r\nx-latin: caf\xe9\r\n\r\n")!;
  assert.equal(head.statusText, "Caf\xe9");
  assert.deepEqual(head.fields, ["x-latin", "caf\xe9"]);
  assert.equal(rawText(head), "HTTP/1.1 200 Caf\xe9\r\nx-latin: caf\xe9\r\n");
});

Deno.test("parseResponseHead() on bytes: null until complete, at every cut of the head", () => {
  const text = "HTTP/1.1 200 OK\r\nx-a: one\r\n two\r\nContent-Length: 2\r\n\r\n";
  for (let cut = 0; cut < text.length; cut++) assert.equal(parse(text.slice(0, cut)), null, `cut ${cut}`);
  assert.deepEqual(parse(text)!.fields, ["x-a", "one two", "content-length", "2"]);
});

Deno.test("parseResponseHead() on bytes: the same errors and messages as the string parser", () => {
  const cases: [string, string][] = [
    ["HTTP/1.1 200 OK\r\n two\r\n\r\n", "Cannot parse header: continuation line without a field"],
    ["HTTP/1.1 200 OK\r\nx-a: 1\r\nno colon\r\n\r\n", "Cannot parse header: missing colon"],
    ["HTTP/1.1 200 OK\r\n: 1\r\n\r\n", "Cannot parse header: empty field name"],
    ["HTTP/1.1 200 OK\r\nx-a\t: 1\r\n\r\n", "Cannot parse header: whitespace before colon"],
    ["HTTP/1.1 200 OK\r\nBad Name10: 1\r\n\r\n", 'Cannot parse header: invalid field "bad name10"'],
    ["HTTP/1.1 200 OK\r\nX-\xe9: 1\r\n\r\n", 'Cannot parse header: invalid field "X-\xe9"'],
    ["HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n", 'Cannot parse header: invalid value of "X-A"'],
    ["HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n", 'Cannot parse header: invalid value of "X-A"'],
    ["HTTP/1.1 200 OK\r\nX-A: a\r\n b\0\r\n\r\n", 'Cannot parse header: invalid value of "X-A"'],
    ["HTTP/1.1 200 OK\r\nX-A: fine\r\nX-B: a\0b\r\n\r\n", 'Cannot parse header: invalid value of "X-B"'],
    ["HTTP/1.1 200 OK\nX-A: fine\nX-B: a\rb\n\n", 'Cannot parse header: invalid value of "X-B"'],
    ["HTTP/1.1 200 OK\nX-A: fine\r\nX-B: b\r\r\n\r\n", 'Cannot parse header: invalid value of "X-B"'],
    ["HTTP/1.1 200 OK\r\ncontent-length: 1 2\r\n\r\n", 'Cannot parse content-length: "1 2"'],
    [
      "HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n",
      "Cannot parse content-length: conflicting values",
    ],
    ["HTTP/1.1 200 OK\r\ncontent-length: 1\r\n 2\r\n\r\n", 'Cannot parse content-length: "1 2"'],
    ["HTTP/1.2 200 OK\r\n\r\n", "Cannot parse status line: unsupported HTTP version"],
    ["HTTP/1.1 099 OK\r\n\r\n", "Cannot parse status line: status 99"],
    ["HTTP/1.1 2000 OK\r\n\r\n", 'Cannot parse status line: "HTTP/1.1 2000 OK"'],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parse(text),
      (e) => e instanceof HeadSyntaxError && e.message === message,
      JSON.stringify(text),
    );
  }
  // A hop-by-hop field is dropped before its value is looked at, as before.
  assert.deepEqual(parse("HTTP/1.1 200 OK\r\nKeep-Alive: a\0b\r\n\r\n")!.fields, []);
});
