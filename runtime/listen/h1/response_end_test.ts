import assert from "node:assert/strict";
import { MORE, ResponseEnd, UNTIL_CLOSE } from "./response_end.ts";

/** Scans `text` fed in pieces of `step` bytes; the index after the answer, MORE or UNTIL_CLOSE. */
function scanIn(text: string, step: number, head = false): number {
  const b = new TextEncoder().encode(text);
  const s = new ResponseEnd(head);
  for (let i = 0; i < b.byteLength; i += step) {
    const r = s.scan(b, i, Math.min(i + step, b.byteLength));
    if (r !== MORE) return r;
  }
  return MORE;
}

Deno.test("ResponseEnd: finds the end of sized, chunked and bodiless answers, after 1xx, in any pieces", () => {
  const sized = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";
  const chunked = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
  const cases: [string, number, boolean?][] = [
    [sized + "NEXT", sized.length],
    [chunked + "NEXT", chunked.length],
    ["HTTP/1.1 100 Continue\r\n\r\n" + sized, 25 + sized.length],
    ["HTTP/1.1 204 No Content\r\n\r\nX", 27],
    ["HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", 38],
    ["HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n", 38, true],
  ];
  for (const [text, end, head] of cases) {
    for (const step of [1, 3, 1000]) assert.equal(scanIn(text, step, head), end, `${JSON.stringify(text)} by ${step}`);
  }
  assert.equal(scanIn(sized.slice(0, -1), 4), MORE);
});

Deno.test("ResponseEnd: an answer that ends with the connection", () => {
  for (
    const text of [
      "HTTP/1.1 200 OK\r\n\r\nbody until close",
      "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello",
      "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n",
      "HTTP/1.0 200 OK\r\ncontent-length: 5\r\n\r\nhello",
    ]
  ) assert.equal(scanIn(text, 7), UNTIL_CLOSE, text);
});
