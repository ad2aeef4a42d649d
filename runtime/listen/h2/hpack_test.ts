/**
 * HPACK codec tests: every example of RFC 7541 Appendix C decoded exactly (with the dynamic table after each block),
 * encoder round trips over the same sequences, each malformed-block case, a fixed-seed fuzz of one encoder/decoder
 * pair, and the whole Huffman code.
 */
import assert from "node:assert/strict";
import { HeaderListTooLarge, HpackDecoder, HpackEncoder, HpackError } from "./hpack.ts";
import { EOS, HUFFMAN_CODES, HUFFMAN_LENGTHS, huffmanDecode, huffmanEncode, huffmanEncodedLength } from "./huffman.ts";
import { STATIC_TABLE } from "./hpack_static.ts";

const DEFAULT_SIZE = 4096;

function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** One block of an Appendix C sequence: wire bytes, the decoded list, the table afterwards (newest first) and its size. */
interface Step {
  wire: string;
  fields: string[];
  table: [string, string][];
  size: number;
}

const C3_FIELDS = [
  [":method", "GET", ":scheme", "http", ":path", "/", ":authority", "www.example.com"],
  [":method", "GET", ":scheme", "http", ":path", "/", ":authority", "www.example.com", "cache-control", "no-cache"],
  [
    ":method",
    "GET",
    ":scheme",
    "https",
    ":path",
    "/index.html",
    ":authority",
    "www.example.com",
    "custom-key",
    "custom-value",
  ],
];
const C3_TABLES: [string, string][][] = [
  [[":authority", "www.example.com"]],
  [["cache-control", "no-cache"], [":authority", "www.example.com"]],
  [["custom-key", "custom-value"], ["cache-control", "no-cache"], [":authority", "www.example.com"]],
];
const C3_SIZES = [57, 110, 164];

const C3: Step[] = [
  "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
  "8286 84be 5808 6e6f 2d63 6163 6865",
  "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
].map((wire, i) => ({ wire, fields: C3_FIELDS[i]!, table: C3_TABLES[i]!, size: C3_SIZES[i]! }));

const C4: Step[] = [
  "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
  "8286 84be 5886 a8eb 1064 9cbf",
  "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
].map((wire, i) => ({ wire, fields: C3_FIELDS[i]!, table: C3_TABLES[i]!, size: C3_SIZES[i]! }));

const DATE1 = "Mon, 21 Oct 2013 20:13:21 GMT";
const DATE2 = "Mon, 21 Oct 2013 20:13:22 GMT";
const LOC = "https://www.example.com";
const COOKIE = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";
const C5_FIELDS = [
  [":status", "302", "cache-control", "private", "date", DATE1, "location", LOC],
  [":status", "307", "cache-control", "private", "date", DATE1, "location", LOC],
  [
    ":status",
    "200",
    "cache-control",
    "private",
    "date",
    DATE2,
    "location",
    LOC,
    "content-encoding",
    "gzip",
    "set-cookie",
    COOKIE,
  ],
];
const C5_TABLES: [string, string][][] = [
  [["location", LOC], ["date", DATE1], ["cache-control", "private"], [":status", "302"]],
  [[":status", "307"], ["location", LOC], ["date", DATE1], ["cache-control", "private"]],
  [["set-cookie", COOKIE], ["content-encoding", "gzip"], ["date", DATE2]],
];
const C5_SIZES = [222, 222, 215];

const C5: Step[] = [
  `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d
   546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d`,
  "4803 3330 37c1 c0bf",
  `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f
   6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b
   2076 6572 7369 6f6e 3d31`,
].map((wire, i) => ({ wire, fields: C5_FIELDS[i]!, table: C5_TABLES[i]!, size: C5_SIZES[i]! }));

const C6: Step[] = [
  `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7
   8f0b 97c8 e9ae 82ae 43d3`,
  "4883 640e ffc1 c0bf",
  `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335
   dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
].map((wire, i) => ({ wire, fields: C5_FIELDS[i]!, table: C5_TABLES[i]!, size: C5_SIZES[i]! }));

function runSequence(steps: Step[], tableSize: number): void {
  const decoder = new HpackDecoder(tableSize);
  for (const step of steps) {
    assert.deepEqual(decoder.decode(hex(step.wire)), step.fields);
    assert.deepEqual(decoder.tableEntries(), step.table);
    assert.equal(decoder.tableSize, step.size);
  }
}

function roundTrip(steps: Step[], tableSize: number): void {
  const encoder = new HpackEncoder(tableSize);
  const decoder = new HpackDecoder(tableSize);
  for (const step of steps) assert.deepEqual(decoder.decode(encoder.encode(step.fields)), step.fields);
}

Deno.test("HpackDecoder decodes RFC 7541 C.2 single representations", () => {
  const d = new HpackDecoder();
  assert.deepEqual(
    d.decode(hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572")),
    ["custom-key", "custom-header"],
  );
  assert.deepEqual(d.tableEntries(), [["custom-key", "custom-header"]]);
  assert.equal(d.tableSize, 55);
  const d2 = new HpackDecoder();
  assert.deepEqual(d2.decode(hex("040c 2f73 616d 706c 652f 7061 7468")), [":path", "/sample/path"]);
  assert.equal(d2.tableSize, 0);
  const d3 = new HpackDecoder();
  assert.deepEqual(d3.decode(hex("1008 7061 7373 776f 7264 0673 6563 7265 74")), ["password", "secret"]);
  assert.equal(d3.tableSize, 0);
  const d4 = new HpackDecoder();
  assert.deepEqual(d4.decode(hex("82")), [":method", "GET"]);
  assert.equal(d4.tableSize, 0);
});

Deno.test("HpackDecoder decodes RFC 7541 C.3 requests without Huffman, with table state", () => runSequence(C3, 4096));
Deno.test("HpackDecoder decodes RFC 7541 C.4 requests with Huffman, with table state", () => runSequence(C4, 4096));
Deno.test("HpackDecoder decodes RFC 7541 C.5 responses with evictions in a 256-octet table", () =>
  runSequence(C5, 256));
Deno.test("HpackDecoder decodes RFC 7541 C.6 Huffman responses with evictions", () => runSequence(C6, 256));

Deno.test("HpackEncoder round trips the RFC 7541 C sequences", () => {
  roundTrip(C3, 4096);
  roundTrip(C5, 256);
  roundTrip(C5, 0);
});

Deno.test("HpackEncoder uses the static table, Huffman when shorter, and indexes a repeated field", () => {
  const e = new HpackEncoder();
  // :status 200 is static index 8; :method GET index 2.
  assert.equal(toHex(e.encode([":status", "200", ":method", "GET"])), "8882");
  // RFC C.4.1 :authority www.example.com: literal with indexing, name index 1, Huffman value.
  assert.equal(toHex(e.encode([":authority", "www.example.com"])), "418cf1e3c2e5f23a6ba0ab90f4ff");
  // The second time it is the newest dynamic entry, index 62.
  assert.equal(toHex(e.encode([":authority", "www.example.com"])), "be");
  const server = e.encode(["server", "pingap"]);
  assert.equal(server[0], 0x40 | 54);
  assert.equal(toHex(e.encode(["server", "pingap"])), "be");
});

Deno.test("HpackEncoder writes never-indexed literals for credentials and a short cookie", () => {
  const e = new HpackEncoder();
  const d = new HpackDecoder();
  const fields = [
    "authorization",
    "Basic abc",
    "cookie",
    "a=1",
    "set-cookie",
    "x=1",
    "cookie",
    "session=0123456789abcdef",
  ];
  const block = e.encode(fields);
  assert.deepEqual(d.decode(block), fields);
  assert.equal(block[0]! & 0xf0, 0x10); // authorization: never indexed (0001xxxx), name index 23 ≥ 15
  // Only the long cookie went into the table.
  assert.deepEqual(d.tableEntries(), [["cookie", "session=0123456789abcdef"]]);
  // A repeated credential is still never indexed.
  assert.equal(e.encode(["authorization", "Basic abc"])[0]! & 0xf0, 0x10);
});

Deno.test("HpackEncoder takes its own never-indexed names", () => {
  const e = new HpackEncoder(4096, new Set(["x-secret"]));
  const d = new HpackDecoder();
  const fields = ["x-secret", "s3cr3t-value", "authorization", "Basic abc"];
  const block = e.encode(fields);
  assert.equal(block[0], 0x10); // never indexed, new name
  assert.deepEqual(d.decode(block), fields);
  assert.deepEqual(d.tableEntries(), [["authorization", "Basic abc"]]);
});

Deno.test("HpackEncoder does not index date-like fields", () => {
  const e = new HpackEncoder();
  const d = new HpackDecoder();
  const fields = ["date", DATE1, "content-length", "12", "etag", '"abc"'];
  assert.deepEqual(d.decode(e.encode(fields)), fields);
  assert.equal(d.tableSize, 0);
});

Deno.test("HpackEncoder signals a smaller peer table size, the smallest first", () => {
  const e = new HpackEncoder();
  const d = new HpackDecoder();
  d.decode(e.encode(["server", "pingap", "content-type", "text/plain"]));
  assert.equal(d.tableSize, e.tableSize);
  e.setPeerMaxTableSize(0);
  e.setPeerMaxTableSize(100);
  const block = e.encode(["server", "pingap"]);
  assert.equal(toHex(block.subarray(0, 3)), "203f45"); // size update 0, then 100 (31 + 69)
  assert.deepEqual(d.decode(block), ["server", "pingap"]);
  assert.equal(d.tableSize, 44);
  assert.equal(e.tableSize, 44);
  // No change: no update.
  e.setPeerMaxTableSize(100);
  assert.equal(toHex(e.encode(["server", "pingap"])), "be");
  // The largest SETTINGS value (2^32 - 1) is accepted and bounded by our own size: back to 4096.
  e.setPeerMaxTableSize(0xffffffff);
  assert.equal(toHex(e.encode([":status", "200"]).subarray(0, 3)), "3fe11f");
  e.setPeerMaxTableSize(0xffffffff);
  assert.equal(toHex(e.encode([":status", "200"])), "88");
  // An encoder limited below the default signals at its first block.
  const small = new HpackEncoder(0);
  assert.equal(toHex(small.encode([":status", "200"])), "2088");
});

Deno.test("HpackDecoder keeps a long table in order as its ring grows and evicts", () => {
  const d = new HpackDecoder(4096);
  const e = new HpackEncoder(4096);
  const paired = new HpackDecoder(4096);
  const names: string[] = [];
  for (let i = 0; i < 300; i++) {
    const name = `k${i}`;
    names.push(name);
    // Literal with incremental indexing, new name, raw strings: "k<i>": "v".
    const block = new Uint8Array([0x40, name.length, ...new TextEncoder().encode(name), 1, 0x76]);
    assert.deepEqual(d.decode(block), [name, "v"]);
    assert.deepEqual(paired.decode(e.encode([name, "v"])), [name, "v"]);
  }
  // Each entry is 32 + 4 + 1 = 37 octets: 110 fit in 4096; newest first.
  const entries = d.tableEntries();
  assert.equal(entries.length, 110);
  assert.equal(d.tableSize, 110 * 37);
  assert.deepEqual(entries.map((x) => x[0]), names.slice(-110).reverse());
  assert.deepEqual(d.decode(hex("be")), ["k299", "v"]);
  assert.deepEqual(d.decode(new Uint8Array([0xff, 110 + 61 - 127])), ["k190", "v"]); // index 171, the oldest
  assertMalformed(new Uint8Array([0xff, 111 + 61 - 127]), d);
  assert.deepEqual(paired.tableEntries(), entries);
  assert.equal(e.tableSize, d.tableSize);
});

Deno.test("HPACK codecs refuse sizes that are not whole numbers up to 2^31 - 1", () => {
  assert.throws(() => new HpackDecoder(4096, Infinity), RangeError);
  assert.throws(() => new HpackDecoder(-1), RangeError);
  assert.throws(() => new HpackEncoder(1.5), RangeError);
  assert.throws(() => new HpackEncoder().setPeerMaxTableSize(NaN), RangeError);
});

/** Decoding `wire` must throw an HpackError that is not HeaderListTooLarge. */
function assertMalformed(wire: Uint8Array | string, decoder = new HpackDecoder(), message?: RegExp): void {
  const block = typeof wire === "string" ? hex(wire) : wire;
  assert.throws(
    () => decoder.decode(block),
    (e: unknown) =>
      e instanceof HpackError && !(e instanceof HeaderListTooLarge) &&
      (message === undefined || message.test(e.message)),
  );
}

Deno.test("HpackDecoder rejects index 0 and indexes past the table", () => {
  assertMalformed("80");
  assertMalformed("be"); // 62: the dynamic table is empty
  assertMalformed("7e 00"); // literal, name index 62
  assertMalformed("0f 30 00"); // literal without indexing, name index 15 + 48 = 63
  const d = new HpackDecoder();
  d.decode(hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"));
  assert.deepEqual(d.decode(hex("be")), ["custom-key", "custom-header"]);
  assertMalformed("bf", d);
});

Deno.test("HpackDecoder rejects integers that overflow, run long or are cut short", () => {
  assertMalformed("ff ff ff ff ff 0f", undefined, /too large/); // > 2^31
  assertMalformed("ff 81 ff ff ff 07", undefined, /too large/); // 127 + 1 + 2^31 - 128 = 2^31
  assertMalformed("ff 80 ff ff ff 07", undefined, /index 2147483647 is past/); // 2^31 - 1: a valid integer
  assertMalformed("ff 80 80 80 80 80 00", undefined, /continuation/); // six continuation bytes
  assertMalformed("ff"); // cut short
  assertMalformed("ff 80"); // cut short
  assertMalformed("04 ff ff ff ff 07"); // string length 2^31 + 126
  // Five continuation bytes are allowed: 127 + 0 = index 127, past the table.
  const d = new HpackDecoder();
  assert.throws(() => d.decode(hex("ff 80 80 80 80 00")), /index 127 is past/);
});

Deno.test("HpackDecoder rejects a string past the block", () => {
  assertMalformed("40 05 61");
  assertMalformed("40 01 61 03 61 62");
  assertMalformed("04"); // value missing
  assertMalformed("04 85 1f");
});

Deno.test("HpackDecoder rejects bad Huffman padding and EOS", () => {
  const d = new HpackDecoder();
  assert.deepEqual(d.decode(hex("04 81 1f")), [":path", "a"]); // 'a' 00011 + 111
  assertMalformed("04 81 18"); // padding 000
  assertMalformed("04 82 1f ff"); // padding of 11 bits
  assertMalformed("04 81 ff"); // padding of 8 bits
  assertMalformed("04 84 ff ff ff ff"); // EOS (30 ones) inside
  assertMalformed("04 84 ff ff ff fc"); // EOS exactly
});

Deno.test("HpackDecoder accepts table size updates only at the start and up to its maximum", () => {
  const d = new HpackDecoder();
  d.decode(hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"));
  assert.deepEqual(d.decode(hex("20 3f e1 1f 82")), [":method", "GET"]); // 0 then 4096
  assert.equal(d.tableSize, 0);
  assertMalformed("3f e2 1f"); // 4097
  assertMalformed("82 20"); // after a field
  const small = new HpackDecoder(100);
  assertMalformed("3f 46", small); // 101
  assert.deepEqual(small.decode(hex("3f 45")), []);
});

Deno.test("HpackDecoder: a header list over the limit throws HeaderListTooLarge after updating the table", () => {
  const d = new HpackDecoder(4096, 100);
  // custom-key: custom-header (55) + custom-key: custom-header again from the table (110 > 100).
  const block = hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572 be 82");
  assert.throws(() => d.decode(block), (e: unknown) => e instanceof HeaderListTooLarge && e.tooLarge === true);
  assert.deepEqual(d.tableEntries(), [["custom-key", "custom-header"]]);
  assert.deepEqual(d.decode(hex("be")), ["custom-key", "custom-header"]);
  // The field over the limit is a literal with indexing, and a field after it is still added to the table.
  const late = new HpackDecoder(4096, 60);
  const lateBlock = hex("82 400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572 4001 7801 31");
  assert.throws(() => late.decode(lateBlock), HeaderListTooLarge);
  assert.deepEqual(late.tableEntries(), [["x", "1"], ["custom-key", "custom-header"]]);
  // Past the limit, strings are still checked: a malformed one is a COMPRESSION_ERROR, not a list too large.
  assertMalformed("82 04 81 18", new HpackDecoder(4096, 40), /Huffman/);
  assertMalformed("82 04 05 61", new HpackDecoder(4096, 40), /past the block/);
  assert.throws(() => new HpackDecoder(4096, 40).decode(hex("82 04 81 1f 00 01 78 81 1f")), HeaderListTooLarge);
  // A list of exactly the limit passes (55 octets by RFC 9113 counting).
  const exact = new HpackDecoder(4096, 55);
  assert.deepEqual(exact.decode(hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572")), [
    "custom-key",
    "custom-header",
  ]);
});

Deno.test("HpackDecoder: a 16 MiB literal fails by the header list limit, and a later block still decodes", () => {
  for (const huffman of [false, true]) {
    // Huffman: "aaaaaaaa" is 40 bits, 5 octets; a whole number of them ends on a symbol boundary.
    const size = 16 * 1024 * 1024 - (huffman ? (16 * 1024 * 1024) % 5 : 0);
    // Literal with incremental indexing, new name "x", value of `size` octets.
    const head = [0x40, 0x01, 0x78, huffman ? 0xff : 0x7f];
    let rest = size - 127;
    while (rest >= 128) {
      head.push((rest & 0x7f) | 0x80);
      rest = Math.floor(rest / 128);
    }
    head.push(rest);
    const block = new Uint8Array(head.length + size + 1);
    block.set(head);
    if (huffman) {
      const five = new Uint8Array(5);
      huffmanEncode("aaaaaaaa", five, 0);
      for (let i = 0; i < size; i += 5) block.set(five, head.length + i);
    } else {
      block.fill(0x61, head.length, head.length + size);
    }
    block[head.length + size] = 0x82;
    const d = new HpackDecoder();
    d.decode(hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"));
    const before = Deno.memoryUsage().heapUsed;
    assert.throws(() => d.decode(block), (e: unknown) => e instanceof HeaderListTooLarge);
    // The value is never turned into a string (that alone would take 16 MiB of heap).
    const grown = Deno.memoryUsage().heapUsed - before;
    assert.ok(grown < 4 * 1024 * 1024, `heap grew by ${grown} octets`);
    // The entry was larger than the table: RFC 7541 §4.4 empties it.
    assert.equal(d.tableSize, 0);
    assert.deepEqual(d.decode(hex("82")), [":method", "GET"]);
  }
});

Deno.test("huffman: the code is complete, prefix free and matches RFC 7541 Appendix B", () => {
  // Kraft sum of a complete prefix code is exactly 1.
  let kraft = 0;
  for (let s = 0; s <= EOS; s++) kraft += 2 ** -HUFFMAN_LENGTHS[s]!;
  assert.equal(kraft, 1);
  // Codes quoted from Appendix B.
  const quoted: [number, number, number][] = [
    [0, 0x1ff8, 13],
    [1, 0x7fffd8, 23],
    [9, 0xffffea, 24],
    [10, 0x3ffffffc, 30],
    [13, 0x3ffffffd, 30],
    [22, 0x3ffffffe, 30],
    [32, 0x14, 6],
    [34, 0x3f9, 10],
    [48, 0x0, 5],
    [58, 0x5c, 7],
    [60, 0x7ffc, 15],
    [88, 0xfc, 8],
    [92, 0x7fff0, 19],
    [97, 0x3, 5],
    [122, 0x7b, 7],
    [126, 0x1ffd, 13],
    [127, 0xffffffc, 28],
    [128, 0xfffe6, 20],
    [195, 0x7fff1, 19],
    [255, 0x3ffffee, 26],
    [EOS, 0x3fffffff, 30],
  ];
  for (const [sym, code, len] of quoted) {
    assert.equal(HUFFMAN_CODES[sym], code, `code of ${sym}`);
    assert.equal(HUFFMAN_LENGTHS[sym], len, `length of ${sym}`);
  }
});

Deno.test("huffman: all 256 octets encode and decode back, alone and together", () => {
  const out = new Uint8Array(64);
  const back = new Uint8Array(64);
  for (let b = 0; b < 256; b++) {
    const s = String.fromCharCode(b);
    const end = huffmanEncode(s, out, 0);
    assert.equal(end, huffmanEncodedLength(s));
    assert.equal(huffmanDecode(out, 0, end, back), 1, `octet ${b}`);
    assert.equal(back[0], b);
  }
  let all = "";
  for (let b = 0; b < 256; b++) all += String.fromCharCode(b);
  all += all.split("").reverse().join("");
  const big = new Uint8Array(huffmanEncodedLength(all));
  assert.equal(huffmanEncode(all, big, 0), big.length);
  const decoded = new Uint8Array(all.length);
  assert.equal(huffmanDecode(big, 0, big.length, decoded), all.length);
  assert.equal(String.fromCharCode(...decoded), all);
});

Deno.test("static table has the 61 entries of RFC 7541 Appendix A", () => {
  assert.equal(STATIC_TABLE.length, 61);
  assert.deepEqual(STATIC_TABLE[0], [":authority", ""]);
  assert.deepEqual(STATIC_TABLE[15], ["accept-encoding", "gzip, deflate"]);
  assert.deepEqual(STATIC_TABLE[53], ["server", ""]);
  assert.deepEqual(STATIC_TABLE[60], ["www-authenticate", ""]);
});

/** Stories of hpack-test-case (hpack_stories.json): header blocks written by eight other encoders. */
interface Stories {
  stories: { name: string; cases: { wire: string; headers: string[]; size?: number }[] }[];
}

/** A JSON string (UTF-8 text) as the byte string HPACK carries. */
function octets(s: string): string {
  return String.fromCharCode(...new TextEncoder().encode(s));
}

Deno.test("HpackDecoder decodes the blocks of eight other encoders (hpack-test-case), table size changes too", async () => {
  const data = JSON.parse(await Deno.readTextFile(new URL("./hpack_stories.json", import.meta.url))) as Stories;
  assert.equal(data.stories.length, 16);
  let blocks = 0;
  for (const story of data.stories) {
    // Our advertised maximum is the largest size the story acknowledges; the encoder signals each change in-band.
    const max = Math.max(DEFAULT_SIZE, ...story.cases.map((c) => c.size ?? 0));
    const decoder = new HpackDecoder(max, 1 << 20);
    const encoder = new HpackEncoder();
    const paired = new HpackDecoder();
    for (const c of story.cases) {
      const want = c.headers.map(octets);
      assert.deepEqual(decoder.decode(hex(c.wire)), want, `${story.name} block ${blocks}`);
      assert.deepEqual(paired.decode(encoder.encode(want)), want);
      blocks++;
    }
  }
  assert.equal(blocks, 104);
});

/** mulberry32: a small seeded generator, so the fuzz is the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("HpackEncoder/HpackDecoder stay in sync over random blocks (fixed seed)", () => {
  const rand = rng(7541);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const names = [
    ...STATIC_TABLE.map((e) => e[0]),
    "x-custom",
    "x-trace",
    "x-a",
    "x-long-header-name-for-testing",
    "cookie",
  ];
  const values = ["", "1", "GET", "200", "text/html; charset=utf-8", "gzip, deflate", "no-cache", "pingap"];
  const randomValue = (): string => {
    const len = rand() < 0.9 ? Math.floor(rand() * 40) : Math.floor(rand() * 3000);
    let s = "";
    const binary = rand() < 0.2;
    for (let i = 0; i < len; i++) {
      s += String.fromCharCode(binary ? Math.floor(rand() * 256) : 32 + Math.floor(rand() * 95));
    }
    return s;
  };
  for (const tableSize of [4096, 256, 0, 65536]) {
    const encoder = new HpackEncoder(tableSize);
    const decoder = new HpackDecoder(tableSize, 1 << 20);
    for (let block = 0; block < 500; block++) {
      if (rand() < 0.03) encoder.setPeerMaxTableSize(Math.floor(rand() * tableSize * 1.5));
      const fields: string[] = [];
      const n = Math.floor(rand() * 20);
      for (let i = 0; i < n; i++) {
        fields.push(rand() < 0.8 ? pick(names) : randomValue().toLowerCase());
        fields.push(rand() < 0.6 ? pick(values) : randomValue());
      }
      assert.deepEqual(decoder.decode(encoder.encode(fields)), fields, `block ${block}, table ${tableSize}`);
      assert.equal(decoder.tableSize, encoder.tableSize);
    }
  }
});

Deno.test("HpackDecoder never crashes on random bytes (fixed seed)", () => {
  const rand = rng(9113);
  const decoder = new HpackDecoder(4096, 8192);
  for (let i = 0; i < 5000; i++) {
    const block = new Uint8Array(Math.floor(rand() * 40));
    for (let j = 0; j < block.length; j++) block[j] = Math.floor(rand() * 256);
    try {
      decoder.decode(block);
    } catch (e) {
      assert.ok(e instanceof HpackError, String(e));
    }
  }
});
