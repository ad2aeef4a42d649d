import assert from "node:assert/strict";
import { INCOMPLETE, MAX_FIELDS, parseHead, type RequestHead, SCREEN } from "./head.ts";

const enc = new TextEncoder();

function parse(text: string): RequestHead | typeof INCOMPLETE | typeof SCREEN {
  const bytes = enc.encode(text);
  return parseHead(bytes, 0, bytes.byteLength);
}

function head(text: string): RequestHead {
  const h = parse(text);
  assert.ok(typeof h === "object", `expected a head for ${JSON.stringify(text)}, got ${h}`);
  return h;
}

Deno.test("parseHead() takes a plain request: method, target, host, lower-case names, trimmed values", () => {
  const text = "GET /a/b?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nX-Trace:  abc \r\nAccept: */*\r\n\r\nNEXT";
  const h = head(text);
  assert.equal(h.method, "GET");
  assert.equal(h.target, "/a/b?x=1");
  assert.equal(h.host, "example.com:8080");
  assert.deepEqual(h.fields, ["host", "example.com:8080", "x-trace", "abc", "accept", "*/*"]);
  assert.equal(h.contentLength, -1);
  assert.equal(h.close, false);
  assert.equal(h.size, text.length - "NEXT".length);
});

Deno.test("parseHead() reads content-length and connection: close", () => {
  const h = head("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\nConnection: keep-alive, Close\r\n\r\n");
  assert.equal(h.contentLength, 12);
  assert.equal(h.close, true);
  assert.equal(head("GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n").close, false);
});

Deno.test("parseHead() parses at an offset and waits for the end of a head", () => {
  const bytes = enc.encode("xxGET / HTTP/1.1\r\nHost: h\r\n\r\n");
  const h = parseHead(bytes, 2, bytes.byteLength);
  assert.ok(typeof h === "object");
  assert.equal(h.size, bytes.byteLength - 2);
  assert.equal(parse("GET / HTTP/1.1\r\nHost: h\r\n"), INCOMPLETE);
  assert.equal(parse("GET"), INCOMPLETE);
  assert.equal(parse("GET /"), INCOMPLETE);
});

Deno.test("parseHead() leaves to Deno.serve what is not the plain case", () => {
  const screened = [
    // other versions, targets and request lines
    "GET / HTTP/1.0\r\nHost: h\r\n\r\n",
    "GET / HTTP/2.0\r\nHost: h\r\n\r\n",
    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
    "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
    "\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
    "GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n",
    // framing and upgrades
    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1234567890123456\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    // hosts
    "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    // field syntax
    "GET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: h\r\nName : x\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: h\r\nNo colon\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n folded\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: h\r\nX: caf\u00e9\r\n\r\n",
    "GET / HTTP/1.1\nHost: h\n\n\r\n\r\n",
    // not even a request line, with no end of head in sight
    "\x16\x03\x01\x02\x00",
    "GET\t/",
    "GET x",
  ];
  for (const text of screened) assert.equal(parse(text), SCREEN, JSON.stringify(text));
});

Deno.test("parseHead() takes up to MAX_FIELDS fields (1000), sends a head with more to the screen", () => {
  let text = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (let i = 0; i < MAX_FIELDS - 1; i++) text += `X-${i}: ${i}\r\n`;
  assert.equal(head(`${text}\r\n`).fields.length, 2 * MAX_FIELDS);
  assert.equal(parse(`${text}X-last: 1\r\n\r\n`), SCREEN);
});

Deno.test("parseHead() sends to the screen a head whose blank line has a bare LF instead of waiting for more", () => {
  for (
    const text of [
      "GET / HTTP/1.1\nHost: h\n\n",
      "GET / HTTP/1.1\r\nHost: h\r\n\n",
      "GET / HTTP/1.1\r\nHost: h\n\r\n",
      "GET / HTTP/1.1\nHost: h\r\n\r\n",
    ]
  ) assert.equal(parse(text), SCREEN, JSON.stringify(text));
  // A CRLF before the request line is not a blank line of the head; a head without its end yet is waited on.
  assert.equal(parse("GET / HTTP/1.1\r\nHost: h\r\n"), INCOMPLETE);
  assert.equal(parse("GET / HTTP/1.1\r\nHost: h\r\n\r"), INCOMPLETE);
});

Deno.test("parseHead() sends to the screen a head with a bare CR instead of waiting for an end that cannot come", () => {
  for (
    const text of [
      "GET /ping HTTP/1.1\rHost: x\r\r",
      "GET / HTTP/1.1\r\nHost: h\rX: 1\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\n\rX",
    ]
  ) assert.equal(parse(text), SCREEN, JSON.stringify(text));
  // A CR that is the last byte so far may still get its LF.
  assert.equal(parse("GET / HTTP/1.1\r"), INCOMPLETE);
});

Deno.test("parseHead() leaves to the screen what it answers: CONNECT, a bad path, an invalid Host", () => {
  for (
    const text of [
      "CONNECT /x HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET /a/%00 HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET /../x HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET /x HTTP/1.1\r\nHost: h/x\r\n\r\n",
      "GET /x HTTP/1.1\r\nHost:\r\n\r\n",
    ]
  ) assert.equal(parse(text), SCREEN, text);
  assert.equal(head("GET /a/../b.js?q=%zz HTTP/1.1\r\nHost: h:80\r\n\r\n").target, "/a/../b.js?q=%zz");
});
