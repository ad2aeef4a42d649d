import assert from "node:assert/strict";
import { GoawayFilter } from "./h2_goaway_filter.ts";

const PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

function frame(type: number, payload: number[], stream = 0): Uint8Array {
  const n = payload.length;
  return new Uint8Array([n >> 16, (n >> 8) & 255, n & 255, type, 0, 0, 0, 0, stream, ...payload]);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), at += p.byteLength);
  return out;
}

Deno.test("GoawayFilter drops GOAWAY frames and passes every other byte, whatever the chunking", () => {
  const settings = frame(4, [0, 3, 0, 0, 0, 100]);
  const headers = frame(1, [1, 2, 3, 4, 5], 1);
  const goaway = frame(7, [0, 0, 0, 1, 0, 0, 0, 0]);
  const ping = frame(6, [1, 2, 3, 4, 5, 6, 7, 8]);
  const input = concat(PREFACE, settings, headers, goaway, ping);
  const expected = concat(PREFACE, settings, headers, ping);
  for (const size of [1, 2, 5, 9, 10, 17, 24, 33, input.byteLength]) {
    const f = new GoawayFilter();
    const out: Uint8Array[] = [];
    for (let i = 0; i < input.byteLength; i += size) out.push(f.filter(input.slice(i, i + size)));
    assert.deepEqual(concat(...out), expected, `chunks of ${size}`);
  }
  // Nothing dropped and nothing split: the chunk itself.
  const whole = concat(PREFACE, settings);
  assert.equal(new GoawayFilter().filter(whole), whole);
});
