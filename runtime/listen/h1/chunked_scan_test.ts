import assert from "node:assert/strict";
import { BAD, ChunkedScanner, MORE } from "./chunked_scan.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

/** Scans `text` fed in pieces of `step` bytes; the index after the body, MORE or BAD. */
function scanIn(text: string, step: number): number {
  const b = bytes(text);
  const s = new ChunkedScanner();
  for (let i = 0; i < b.byteLength; i += step) {
    const r = s.scan(b, i, Math.min(i + step, b.byteLength));
    if (r !== MORE) return r;
  }
  return MORE;
}

Deno.test("ChunkedScanner: finds the end of good bodies, in any pieces", () => {
  const good: [string, number][] = [
    ["0\r\n\r\n", 5],
    ["5\r\nhello\r\n0\r\n\r\nGET /next", 15],
    ["5;a=b\r\nhello\r\nA \r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n", 43],
    ["5 ;x\r\nhello\r\n0\r\n\r\n", 18],
  ];
  for (const [text, end] of good) {
    for (const step of [1, 2, 7, 1000]) assert.equal(scanIn(text, step), end, `${JSON.stringify(text)} by ${step}`);
  }
  assert.equal(scanIn("5\r\nhel", 3), MORE);
});

Deno.test("ChunkedScanner: bad sizes, line ends and extensions", () => {
  const bad = [
    "zz\r\n",
    "-5\r\n",
    "\r\n",
    "fffffffffffffffff\r\nx",
    "5\nhello",
    "5\r\nhelloX\r\n",
    "5\r\nhello\n0\r\n\r\n",
    "5;a\nb\r\n",
    "5;\x00\r\n",
    "0\r\nX: \x01\r\n\r\n",
    "0\r\n\rX",
  ];
  for (const text of bad) for (const step of [1, 1000]) assert.equal(scanIn(text, step), BAD, JSON.stringify(text));
});
