import assert from "node:assert/strict";
import { base64Bytes, Base64Decoder, trailerFrame } from "./grpc_web_codec.ts";

const ascii = new TextEncoder();

/** Decodes `text` fed in the pieces the cut points make. */
function decodeCut(text: string, cuts: readonly number[]): Uint8Array {
  const bytes = ascii.encode(text);
  const decoder = new Base64Decoder();
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const at of [...cuts, bytes.byteLength]) {
    parts.push(decoder.push(bytes.subarray(from, at)));
    from = at;
  }
  parts.push(decoder.end());
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let i = 0;
  for (const p of parts) {
    out.set(p, i);
    i += p.byteLength;
  }
  return out;
}

/** Bytes 0..n-1 with some high values. */
function sample(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 37 + seed * 101) & 0xff);
}

Deno.test("trailerFrame() writes flag 0x80, the big-endian length and name:value CRLF lines (Pingora's form)", () => {
  const frame = trailerFrame([["grpc-status", "0"], ["grpc-message", "OK"]]);
  const block = "grpc-status:0\r\ngrpc-message:OK\r\n";
  assert.equal(frame[0], 0x80);
  assert.deepEqual([...frame.subarray(1, 5)], [0, 0, 0, block.length]);
  assert.equal(new TextDecoder().decode(frame.subarray(5)), block);
  assert.deepEqual([...trailerFrame([])], [0x80, 0, 0, 0, 0]);
  // A length past one byte is big-endian.
  const long = trailerFrame([["x-meta", "v".repeat(300)]]);
  assert.deepEqual([...long.subarray(1, 5)], [0, 0, 0x01, 0x35]); // 7 + 300 + 2 = 309
});

Deno.test("Base64Decoder decodes one segment cut at every pair of byte boundaries", () => {
  for (const n of [0, 1, 2, 3, 4, 5, 17]) {
    const data = sample(n, n);
    const text = data.toBase64();
    for (let i = 0; i <= text.length; i++) {
      for (let j = i; j <= text.length; j++) {
        assert.deepEqual(decodeCut(text, [i, j]), data, `n=${n} cut ${i},${j}`);
      }
    }
  }
});

Deno.test("Base64Decoder decodes padded segments one after the other (a sender encoding each message on its own)", () => {
  const segments = [sample(5, 1), sample(1, 2), sample(3, 3), sample(7, 4)];
  const text = segments.map((s) => s.toBase64()).join("");
  assert.ok(text.indexOf("=") < text.length - 2, "padding in the middle");
  const whole = new Uint8Array(segments.reduce((n, s) => n + s.byteLength, 0));
  let at = 0;
  for (const s of segments) {
    whole.set(s, at);
    at += s.byteLength;
  }
  for (let i = 0; i <= text.length; i++) {
    for (let j = i; j <= text.length; j++) assert.deepEqual(decodeCut(text, [i, j]), whole, `cut ${i},${j}`);
  }
});

Deno.test("Base64Decoder accepts a last quantum without its padding, and refuses what is no base64", () => {
  assert.deepEqual(decodeCut("AQI", []), Uint8Array.of(1, 2));
  assert.deepEqual(decodeCut("AQ", [1]), Uint8Array.of(1));
  for (const bad of ["A", "AQ==A", "AQ=I", "A=AA", "AQ I", "AQ\nI", "AQ-_", "*AAA", "=AAA", "AAAA====", "AA%3D"]) {
    assert.throws(() => decodeCut(bad, []), SyntaxError, bad);
  }
});

Deno.test("base64Bytes() encodes a chunk on its own, padded", () => {
  assert.equal(new TextDecoder().decode(base64Bytes(Uint8Array.of(0, 0, 0, 5))), "AAAABQ==");
  assert.equal(base64Bytes(new Uint8Array(0)).byteLength, 0);
});
