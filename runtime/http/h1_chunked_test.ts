import assert from "node:assert/strict";
import {
  CHUNK_DATA,
  CHUNK_END,
  CHUNK_ERROR,
  CHUNK_LINE_LIMIT,
  CHUNK_MORE,
  CHUNK_TOTAL_LIMIT,
  CHUNK_TRAILER,
  ChunkedDecoder,
  chunkSizeText,
  encodeChunk,
  encodeChunkHead,
  encodeLastChunk,
  LAST_CHUNK,
  LAST_CHUNK_TEXT,
} from "./h1_chunked.ts";

const enc = new TextEncoder();
const dec = new TextDecoder("latin1");

/** What decoding gave: the data, the trailer lines, where the body ended (or -1), or the error's reason. */
interface Decoded {
  data: string;
  trailers: string[];
  end: number;
  error: string;
}

/**
 * Decodes `text` as it would come in pieces cut at `cuts`, the way both sides feed the decoder: a window from the
 * first byte not consumed to what has arrived.
 */
function decode(text: string, strict: boolean, cuts: number[] = []): Decoded {
  const buf = enc.encode(text);
  const d = new ChunkedDecoder(strict);
  const out: Decoded = { data: "", trailers: [], end: -1, error: "" };
  let start = 0;
  for (const arrived of [...cuts, buf.length]) {
    for (;;) {
      const event = d.next(buf, start, arrived);
      if (event === CHUNK_DATA) {
        assert.ok(d.from >= start && d.to <= arrived);
        out.data += dec.decode(buf.subarray(d.from, d.to));
      } else if (event === CHUNK_TRAILER) out.trailers.push(dec.decode(buf.subarray(d.from, d.to)));
      else if (event === CHUNK_ERROR) {
        out.error = d.reason;
        return out;
      }
      assert.ok(d.pos >= start && d.pos <= arrived);
      start = d.pos;
      if (event === CHUNK_END) {
        assert.ok(d.done);
        out.end = d.pos;
        return out;
      }
      if (event === CHUNK_MORE) break;
    }
  }
  return out;
}

const BOTH = [true, false];

const GOOD: [string, string, string[], number][] = [
  ["0\r\n\r\n", "", [], 5],
  ["5\r\nhello\r\n0\r\n\r\nGET /next", "hello", [], 15],
  ["5;a=b\r\nhello\r\nA \r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n", "hello0123456789", ["X-T: 1"], 43],
  ["5 ;x\r\nhello\r\n0\r\n\r\n", "hello", [], 18],
  ["3\r\nabc\r\n1a\r\n" + "z".repeat(26) + "\r\n0\r\nA: 1\r\nB-c: two words\r\n\r\n", "abc" + "z".repeat(26), [
    "A: 1",
    "B-c: two words",
  ], 67],
  ["000000000000003\r\nabc\r\n0\r\n\r\n", "abc", [], 27],
];

Deno.test("ChunkedDecoder: every split of a good body decodes to the same data, trailers and end, on both levels", () => {
  for (const [text, data, trailers, end] of GOOD) {
    for (const strict of BOTH) {
      const whole = decode(text, strict);
      assert.deepEqual(whole, { data, trailers, end, error: "" }, `${JSON.stringify(text)} strict=${strict}`);
      for (let a = 0; a <= text.length; a++) {
        assert.deepEqual(decode(text, strict, [a]), whole, `${JSON.stringify(text)} cut at ${a}`);
        for (let b = a; b <= text.length; b += 3) assert.deepEqual(decode(text, strict, [a, b]), whole);
      }
      const bytewise = Array.from({ length: text.length }, (_, i) => i);
      assert.deepEqual(decode(text, strict, bytewise), whole);
    }
  }
});

Deno.test("ChunkedDecoder: an unfinished body wants more", () => {
  for (const strict of BOTH) {
    assert.deepEqual(decode("5\r\nhel", strict), { data: "hel", trailers: [], end: -1, error: "" });
    assert.deepEqual(decode("0\r\nX-T: 1", strict), { data: "", trailers: [], end: -1, error: "" });
  }
});

Deno.test("ChunkedDecoder: the lenient level takes what nginx takes from an upstream, the strict one refuses it", () => {
  const lenient: [string, string, string[]][] = [
    ["5\nhello\n0\n\n", "hello", []],
    ["5\r\nhello\n0\r\nA: 1\n\r\n", "hello", ["A: 1"]],
    ["5\t\r\nhello\r\n0\r\n\r\n", "hello", []],
    ["5;a\x01b\r\nhello\r\n0\r\n\r\n", "hello", []],
    ["5;a\rb\r\nhello\r\n0\r\n\r\n", "hello", []],
    ["0000000000000000005\r\nhello\r\n0\r\n\r\n", "hello", []],
    ["0\r\nX: \x01\r\n\r\n", "", ["X: \x01"]],
    [`5;${"a".repeat(8000)}\r\nhello\r\n0\r\n\r\n`, "hello", []],
  ];
  for (const [text, data, trailers] of lenient) {
    const end = decode(text, false);
    assert.deepEqual({ data: end.data, trailers: end.trailers, error: end.error }, { data, trailers, error: "" });
    for (let a = 0; a <= text.length; a++) assert.deepEqual(decode(text, false, [a]), end, JSON.stringify(text));
    assert.notEqual(decode(text, true).error, "", `strict refuses ${JSON.stringify(text)}`);
  }
});

Deno.test("ChunkedDecoder: each refusal with its reason, at any split", () => {
  const strictOnly: [string, string][] = [
    ["00000000000000005\r\nhello", "chunk size has more than 15 hex digits"],
    ["5\nhello", "invalid chunk size line"],
    ["5\t\r\nhello", "invalid chunk size line"],
    ["5\r\nhello\n0\r\n\r\n", "missing CRLF after chunk data"],
    ["5;\x00\r\n", "control byte in chunk extension"],
    ["5;a\nb\r\n", "control byte in chunk extension"],
    [`5;${"a".repeat(4001)}\r\n`, "chunk extensions too long"],
    [`5;${"a".repeat(3000)}\r\nhello\r\n`.repeat(6), "chunk extensions too long"],
    ["0\r\nX: \x01\r\n\r\n", "control byte in trailer line"],
    ["0\r\n\n", "trailer line without CR before LF"],
    [`0\r\n${`X: ${"a".repeat(1000)}\r\n`.repeat(17)}\r\n`, "trailer section too long"],
  ];
  const both: [string, string][] = [
    ["zz\r\n", "invalid chunk size line"],
    ["-5\r\n", "invalid chunk size line"],
    ["\r\n", "invalid chunk size line"],
    ["5x\r\n", "invalid chunk size line"],
    ["5\r\nhelloX\r\n", "missing CRLF after chunk data"],
    ["5\r\nhello\rX", "missing CRLF after chunk data"],
    ["5\rX", "chunk size line without LF after CR"],
    ["fffffffffffff\r\n", "chunk size too large"],
  ];
  for (const [text, reason] of strictOnly) {
    for (let a = 0; a <= text.length; a += text.length > 100 ? 97 : 1) {
      assert.equal(decode(text, true, [a]).error, reason, `${JSON.stringify(text).slice(0, 60)} cut at ${a}`);
    }
  }
  for (const [text, reasons] of both) {
    for (const strict of BOTH) {
      for (let a = 0; a <= text.length; a++) {
        const got = decode(text, strict, [a]).error;
        assert.equal(got, reasons, `${JSON.stringify(text)} strict=${strict} cut at ${a}`);
      }
    }
  }
  // Lenient limits: a size line or a trailer line longer than 16 KiB, whole or in pieces.
  const longExt = `5;${"a".repeat(CHUNK_LINE_LIMIT)}\r\nhello\r\n0\r\n\r\n`;
  const longTrailer = `0\r\nX: ${"a".repeat(CHUNK_LINE_LIMIT)}\r\n\r\n`;
  for (const a of [0, 100, CHUNK_LINE_LIMIT, CHUNK_LINE_LIMIT + 2]) {
    assert.equal(decode(longExt, false, [a]).error, "chunk size line too long");
    assert.equal(decode(longTrailer, false, [a]).error, "trailer section too long");
  }
  // Many trailer lines, each short, are taken by the lenient level.
  const many = `0\r\n${"X: y\r\n".repeat(5000)}\r\n`;
  assert.equal(decode(many, false).trailers.length, 5000);
  // What a strict window without a LF may hold stays below the limit (the server's buffer is that large).
  // The trailer section, its last CRLF included, may be 16 KiB.
  const justFits = `0\r\nX: ${"a".repeat(CHUNK_TOTAL_LIMIT - 7)}\r\n\r\n`;
  const tooLong = `0\r\nX: ${"a".repeat(CHUNK_TOTAL_LIMIT - 6)}\r\n\r\n`;
  for (const a of [0, 3, CHUNK_TOTAL_LIMIT - 2, CHUNK_TOTAL_LIMIT, CHUNK_TOTAL_LIMIT + 1, CHUNK_TOTAL_LIMIT + 2]) {
    assert.equal(decode(justFits, true, [a]).error, "", `cut at ${a}`);
    assert.equal(decode(tooLong, true, [a]).error, "trailer section too long", `cut at ${a}`);
  }
});

Deno.test("chunk encoders: what they write decodes back, on both levels", () => {
  const data = enc.encode("x".repeat(300));
  const framed = [
    encodeChunk(data.subarray(0, 1)),
    encodeChunkHead(299),
    data.subarray(1),
    enc.encode("\r\n"),
    encodeChunk(enc.encode("tail"), false),
    encodeLastChunk([["grpc-status", "0"], ["x-sum", "a b"]]),
  ];
  const text = framed.map((b) => dec.decode(b)).join("");
  for (const strict of BOTH) {
    const got = decode(text, strict);
    assert.deepEqual(got, {
      data: "x".repeat(300) + "tail",
      trailers: ["grpc-status: 0", "x-sum: a b"],
      end: text.length,
      error: "",
    });
    const lastOnly = dec.decode(encodeChunk(enc.encode("ab"), true));
    assert.deepEqual(decode(lastOnly, strict), { data: "ab", trailers: [], end: lastOnly.length, error: "" });
  }
  assert.equal(dec.decode(encodeChunk(new Uint8Array(26).fill(97))), "1a\r\n" + "a".repeat(26) + "\r\n");
  assert.equal(dec.decode(encodeLastChunk()), "0\r\n\r\n");
  assert.equal(dec.decode(LAST_CHUNK), LAST_CHUNK_TEXT);
  assert.equal(chunkSizeText(4096), "1000\r\n");
  assert.equal(dec.decode(encodeChunkHead(4096)), "1000\r\n");
});
