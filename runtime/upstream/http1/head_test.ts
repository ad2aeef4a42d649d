import assert from "node:assert/strict";
import { encodeChunk as frameChunk } from "../../http/h1_chunked.ts";
import {
  buildRequestHead,
  findHeadEnd,
  HeadSyntaxError,
  latin1Decode,
  latin1Encode,
  parseResponseHead,
  type ResponseHead,
} from "./head.ts";

function bytesOf(text: string): Uint8Array {
  return latin1Encode(text, 0);
}

function parse(text: string): ResponseHead | null {
  const b = bytesOf(text);
  return parseResponseHead(b, 0, b.length);
}

Deno.test("findHeadEnd() finds CRLF CRLF and LF LF, and waits for split heads", () => {
  const text = "HTTP/1.1 200 OK\r\na: 1\r\n\r\nbody";
  const b = bytesOf(text);
  assert.equal(findHeadEnd(b, 0, b.length), text.indexOf("body"));
  for (let cut = 0; cut < text.indexOf("body"); cut++) assert.equal(findHeadEnd(b, 0, cut), -1, `cut ${cut}`);
  const lf = bytesOf("HTTP/1.1 200 OK\na: 1\n\nx");
  assert.equal(findHeadEnd(lf, 0, lf.length), lf.length - 1);
});

Deno.test("parseResponseHead() reads status, reason and headers", () => {
  const head = parse(
    "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nX-A:  spaced value \t\r\ncontent-length: 3\r\n\r\nabc",
  )!;
  assert.equal(head.status, 404);
  assert.equal(head.statusText, "Not Found");
  assert.equal(head.minor, 1);
  assert.equal(head.headers.get("content-type"), "text/html");
  assert.equal(head.headers.get("x-a"), "spaced value");
  assert.equal(head.contentLength, 3);
  assert.equal(head.end, head.end);
  assert.equal(head.close, false);
  assert.equal(parse("HTTP/1.1 204\r\n\r\n")!.statusText, "");
});

Deno.test("parseResponseHead() returns null until the head is complete", () => {
  assert.equal(parse("HTTP/1.1 200 OK\r\ncontent-len"), null);
  assert.equal(parse(""), null);
});

Deno.test("parseResponseHead() removes hop-by-hop fields and the ones connection names", () => {
  const head = parse(
    "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Secret\r\nKeep-Alive: timeout=5\r\nProxy-Connection: x\r\n" +
      "TE: trailers\r\nTrailer: x-sum\r\nUpgrade: h2c\r\nX-Secret: 1\r\nX-Kept: 2\r\ncontent-length: 0\r\n\r\n",
  )!;
  assert.deepEqual([...head.headers.keys()], ["content-length", "x-kept"]);
  const upgraded = parse("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")!;
  assert.equal(upgraded.headers.get("connection"), "Upgrade");
  assert.equal(upgraded.headers.get("upgrade"), "websocket");
});

Deno.test("parseResponseHead() decides framing and reuse", () => {
  const chunked = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n")!;
  assert.equal(chunked.chunked, true);
  assert.equal(chunked.headers.has("transfer-encoding"), false);
  const both = parse("HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n")!;
  assert.equal(both.chunked, true);
  assert.equal(both.contentLength, -1);
  assert.equal(both.close, true);
  assert.equal(both.headers.has("content-length"), false);
  const other = parse("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n")!;
  assert.equal(other.closeDelimited, true);
  assert.equal(parse("HTTP/1.0 200 OK\r\ncontent-length: 1\r\n\r\n")!.close, true);
  assert.equal(parse("HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n")!.close, true);
  assert.equal(parse("HTTP/1.1 200 OK\r\ncontent-length: 7, 7\r\n\r\n")!.contentLength, 7);
  assert.equal(parse("HTTP/1.1 200 OK\r\ncontent-length: 7\r\ncontent-length: 7\r\n\r\n")!.contentLength, 7);
});

Deno.test("parseResponseHead() rejects malformed heads", () => {
  const bad = [
    "HTTP/2 200 OK\r\n\r\n",
    "HTTP/1.1 20 OK\r\n\r\n",
    "HTTP/1.1 200OK\r\n\r\n",
    "ICY 200 OK\r\n\r\n",
    "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
    "HTTP/1.1 200 OK\r\nname : value\r\n\r\n",
    "HTTP/1.1 200 OK\r\n: value\r\n\r\n",
    "HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n",
    "HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n",
    "HTTP/1.1 200 OK\r\ncontent-length: 1x\r\n\r\n",
    "HTTP/1.1 200 OK\r\nbad name: 1\r\n\r\n",
  ];
  for (const text of bad) assert.throws(() => parse(text), HeadSyntaxError, JSON.stringify(text));
  const huge = "HTTP/1.1 200 OK\r\n" + "x-big: " + "a".repeat(200 * 1024);
  assert.throws(() => parse(huge), HeadSyntaxError);
});

Deno.test("parseResponseHead() folds obs-fold lines and keeps latin1 bytes", () => {
  const head = parse("HTTP/1.1 200 OK\r\nx-long: one\r\n two\r\n\tthree\r\nx-latin: caf\xe9\r\n\r\n")!;
  assert.equal(head.headers.get("x-long"), "one two three");
  assert.equal(head.headers.get("x-latin"), "caf\xe9");
});

Deno.test("parseResponseHead() skips empty lines before the status line", () => {
  assert.equal(parse("\r\n\r\nHTTP/1.1 200 OK\r\n\r\n")!.status, 200);
});

Deno.test("buildRequestHead() leaves out hop-by-hop fields and those that connection names", () => {
  const headers = new Headers([
    ["connection", "keep-alive, X-Private"],
    ["x-private", "1"],
    ["keep-alive", "timeout=5"],
    ["proxy-connection", "keep-alive"],
    ["te", "trailers"],
    ["trailer", "x-sum"],
    ["upgrade", "h2c"],
    ["x-kept", "2"],
  ]);
  assert.equal(
    buildRequestHead("GET", "/", headers, { host: "h", framing: "none", zeroLength: false }),
    "GET / HTTP/1.1\r\nx-kept: 2\r\nhost: h\r\n\r\n",
  );
  const upgrade = new Headers({ connection: "Upgrade, x-private", upgrade: "echo", "x-private": "1" });
  assert.equal(
    buildRequestHead("GET", "/ws", upgrade, { host: "h", framing: "none", zeroLength: false }),
    "GET /ws HTTP/1.1\r\nconnection: upgrade\r\nupgrade: echo\r\nhost: h\r\n\r\n",
  );
});

Deno.test("buildRequestHead() writes the request line, headers and framing", () => {
  const headers = new Headers({ "x-a": "1", "transfer-encoding": "gzip" });
  assert.equal(
    buildRequestHead("POST", "/p?q=1", headers, { host: "h:1", framing: "chunked", zeroLength: false }),
    "POST /p?q=1 HTTP/1.1\r\nx-a: 1\r\nhost: h:1\r\ntransfer-encoding: chunked\r\n\r\n",
  );
  assert.equal(
    buildRequestHead("GET", "/", new Headers({ host: "a" }), { host: "b", framing: "none", zeroLength: true }),
    "GET / HTTP/1.1\r\nhost: a\r\ncontent-length: 0\r\n\r\n",
  );
  assert.throws(() =>
    buildRequestHead("GET", "/a b", new Headers(), { host: "h", framing: "none", zeroLength: false })
  );
  assert.throws(() => buildRequestHead("G T", "/", new Headers(), { host: "h", framing: "none", zeroLength: false }));
  assert.throws(() =>
    buildRequestHead("GET", "/\r\nx: 1", new Headers(), { host: "h", framing: "none", zeroLength: false })
  );
});

Deno.test("latin1Encode() and latin1Decode() map one byte per char", () => {
  const text = "a\xe9\xff\x80z";
  const b = latin1Encode(text, 2);
  assert.deepEqual([...b], [0x61, 0xe9, 0xff, 0x80, 0x7a, 0, 0]);
  assert.equal(latin1Decode(b, 0, 5), text);
});

Deno.test("frameChunk() frames a chunk and the last chunk", () => {
  assert.equal(new TextDecoder().decode(frameChunk(new Uint8Array(26).fill(97))), "1a\r\n" + "a".repeat(26) + "\r\n");
  assert.equal(new TextDecoder().decode(frameChunk(new Uint8Array([98]), true)), "1\r\nb\r\n0\r\n\r\n");
});
