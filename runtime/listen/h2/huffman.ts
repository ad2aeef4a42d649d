/**
 * The HPACK Huffman code (RFC 7541 Appendix B) and its codec.
 *
 * The code is canonical: codes are assigned in order of length, then of symbol, so the table is written down as the
 * symbols of each code length ({@linkcode CODE_GROUPS}) and every code follows from it (hpack_test.ts checks the
 * result against codes quoted from Appendix B and that the code is complete and prefix free).
 *
 * Decoding walks a state machine one octet at a time: a state is an inner node of the code tree (256 of them), and
 * each (state, octet) pair has one precomputed transition that emits at most two symbols (the shortest code has five
 * bits); the table is derived from a four-bit machine built from the tree. A string is accepted only if it ends on a symbol boundary or inside a prefix of at most seven one bits
 * (the EOS padding, RFC 7541 §5.2); the EOS symbol itself is rejected.
 *
 * @module
 */

/** The EOS symbol (256): never valid inside a string. */
export const EOS = 256;

/** Symbols by code length: `[length, symbols...]`, symbols in increasing order (canonical code order). */
const CODE_GROUPS: readonly (readonly number[])[] = [
  [5, 48, 49, 50, 97, 99, 101, 105, 111, 115, 116],
  [
    6,
    32,
    37,
    45,
    46,
    47,
    51,
    52,
    53,
    54,
    55,
    56,
    57,
    61,
    65,
    95,
    98,
    100,
    102,
    103,
    104,
    108,
    109,
    110,
    112,
    114,
    117,
  ],
  [
    7,
    58,
    66,
    67,
    68,
    69,
    70,
    71,
    72,
    73,
    74,
    75,
    76,
    77,
    78,
    79,
    80,
    81,
    82,
    83,
    84,
    85,
    86,
    87,
    89,
    106,
    107,
    113,
    118,
    119,
    120,
    121,
    122,
  ],
  [8, 38, 42, 44, 59, 88, 90],
  [10, 33, 34, 40, 41, 63],
  [11, 39, 43, 124],
  [12, 35, 62],
  [13, 0, 36, 64, 91, 93, 126],
  [14, 94, 125],
  [15, 60, 96, 123],
  [19, 92, 195, 208],
  [20, 128, 130, 131, 162, 184, 194, 224, 226],
  [21, 153, 161, 167, 172, 176, 177, 179, 209, 216, 217, 227, 229, 230],
  [
    22,
    129,
    132,
    133,
    134,
    136,
    146,
    154,
    156,
    160,
    163,
    164,
    169,
    170,
    173,
    178,
    181,
    185,
    186,
    187,
    189,
    190,
    196,
    198,
    228,
    232,
    233,
  ],
  [
    23,
    1,
    135,
    137,
    138,
    139,
    140,
    141,
    143,
    147,
    149,
    150,
    151,
    152,
    155,
    157,
    158,
    165,
    166,
    168,
    174,
    175,
    180,
    182,
    183,
    188,
    191,
    197,
    231,
    239,
  ],
  [24, 9, 142, 144, 145, 148, 159, 171, 206, 215, 225, 236, 237],
  [25, 199, 207, 234, 235],
  [26, 192, 193, 200, 201, 202, 205, 210, 213, 218, 219, 238, 240, 242, 243, 255],
  [27, 203, 204, 211, 212, 214, 221, 222, 223, 241, 244, 245, 246, 247, 248, 250, 251, 252, 253, 254],
  [
    28,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    11,
    12,
    14,
    15,
    16,
    17,
    18,
    19,
    20,
    21,
    23,
    24,
    25,
    26,
    27,
    28,
    29,
    30,
    31,
    127,
    220,
    249,
  ],
  [30, 10, 13, 22, 256],
];

/** Code of each symbol 0–256, right aligned. */
export const HUFFMAN_CODES: Uint32Array = new Uint32Array(257);
/** Length in bits of each symbol's code. */
export const HUFFMAN_LENGTHS: Uint8Array = new Uint8Array(257);

{
  let code = 0;
  let length = CODE_GROUPS[0]![0]!;
  for (const group of CODE_GROUPS) {
    const groupLength = group[0]!;
    code *= 2 ** (groupLength - length);
    length = groupLength;
    for (let i = 1; i < group.length; i++) {
      const sym = group[i]!;
      if (HUFFMAN_LENGTHS[sym] !== 0) throw new Error(`Huffman symbol ${sym} listed twice`);
      HUFFMAN_CODES[sym] = code;
      HUFFMAN_LENGTHS[sym] = length;
      code++;
    }
  }
  for (let sym = 0; sym <= EOS; sym++) {
    if (HUFFMAN_LENGTHS[sym] === 0) throw new Error(`Huffman symbol ${sym} missing`);
  }
}

// Decoding state machine. A transition entry: bits 0–7 the next state, bit 8 "emits", bit 9 "fails" (EOS reached),
// bits 16–23 the emitted symbol. ACCEPTING[state] is 1 when a string may end in that state.
const FLAG_EMIT = 0x100;
const FLAG_FAIL = 0x200;
const TRANSITIONS = new Uint32Array(256 * 16);
const ACCEPTING = new Uint8Array(256);

{
  // Build the code tree: inner nodes 0..255 (0 is the root); children[2n + bit] is a node id, or -(symbol + 1).
  const children = new Int32Array(512);
  const depth = new Uint8Array(256);
  const allOnes = new Uint8Array(256);
  allOnes[0] = 1;
  let nodes = 1;
  for (let sym = 0; sym <= EOS; sym++) {
    const code = HUFFMAN_CODES[sym]!;
    const len = HUFFMAN_LENGTHS[sym]!;
    let node = 0;
    for (let i = len - 1; i > 0; i--) {
      const bit = (code >>> i) & 1;
      let next = children[2 * node + bit]!;
      if (next === 0) {
        next = nodes++;
        children[2 * node + bit] = next;
        depth[next] = depth[node]! + 1;
        allOnes[next] = allOnes[node]! & bit;
      }
      node = next;
    }
    children[2 * node + (code & 1)] = -(sym + 1);
  }
  if (nodes !== 256) throw new Error(`Huffman tree has ${nodes} inner nodes`);
  for (let state = 0; state < 256; state++) {
    ACCEPTING[state] = allOnes[state]! && depth[state]! <= 7 ? 1 : 0;
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let entry = 0;
      for (let i = 3; i >= 0; i--) {
        const next = children[2 * node + ((nibble >>> i) & 1)]!;
        if (next < 0) {
          const sym = -next - 1;
          if (sym === EOS) {
            entry = FLAG_FAIL;
            break;
          }
          entry = FLAG_EMIT | (sym << 16);
          node = 0;
        } else {
          node = next;
        }
      }
      TRANSITIONS[state * 16 + nibble] = entry & FLAG_FAIL ? FLAG_FAIL : entry | node;
    }
  }
}

/** Number of bytes the Huffman encoding of `s` (latin1: char codes 0–255) takes. */
export function huffmanEncodedLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += HUFFMAN_LENGTHS[s.charCodeAt(i) & 0xff]!;
  return (bits + 7) >>> 3;
}

/**
 * Writes the Huffman encoding of `s` (latin1) into `out` from `pos`, padded with one bits; returns the end position.
 * `out` must hold {@linkcode huffmanEncodedLength} bytes from `pos`.
 */
export function huffmanEncode(s: string, out: Uint8Array, pos: number): number {
  let acc = 0; // pending bits, right aligned
  let nbits = 0; // at most 7 between symbols
  for (let i = 0; i < s.length; i++) {
    const sym = s.charCodeAt(i) & 0xff;
    let code = HUFFMAN_CODES[sym]!;
    let len = HUFFMAN_LENGTHS[sym]!;
    if (len > 24) {
      // Keep acc within 31 bits: push the high part first.
      const high = len - 16;
      acc = (acc << high) | (code >>> 16);
      nbits += high;
      while (nbits >= 8) {
        nbits -= 8;
        out[pos++] = acc >>> nbits;
      }
      acc &= (1 << nbits) - 1;
      code &= 0xffff;
      len = 16;
    }
    acc = (acc << len) | code;
    nbits += len;
    while (nbits >= 8) {
      nbits -= 8;
      out[pos++] = acc >>> nbits;
    }
    acc &= (1 << nbits) - 1;
  }
  if (nbits > 0) out[pos++] = (acc << (8 - nbits)) | (0xff >>> nbits);
  return pos;
}

// The byte machine, derived from the nibble machine: one lookup per input octet, at most two symbols (the shortest
// code has five bits). Entry: bits 0–7 the next state, 8–9 the number of symbols, bit 10 "fails", 16–23 the first
// symbol, 24–31 the second. 256 KiB, built on the first decode (a process that serves no HTTP/2 never pays for it).
const BYTE_FAIL = 0x400;
let byteTransitions: Int32Array | null = null;

function buildByteTransitions(): Int32Array {
  const table = new Int32Array(256 * 256);
  for (let state = 0; state < 256; state++) {
    for (let byte = 0; byte < 256; byte++) {
      const t1 = TRANSITIONS[(state << 4) | (byte >>> 4)]!;
      const t2 = t1 & FLAG_FAIL ? FLAG_FAIL : TRANSITIONS[((t1 & 0xff) << 4) | (byte & 0xf)]!;
      let entry: number;
      if (t2 & FLAG_FAIL) {
        entry = BYTE_FAIL;
      } else if (t1 & FLAG_EMIT) {
        entry = t2 & FLAG_EMIT
          ? (t2 & 0xff) | (2 << 8) | (((t1 >>> 16) & 0xff) << 16) | (((t2 >>> 16) & 0xff) << 24)
          : (t2 & 0xff) | (1 << 8) | (((t1 >>> 16) & 0xff) << 16);
      } else if (t2 & FLAG_EMIT) {
        entry = (t2 & 0xff) | (1 << 8) | (((t2 >>> 16) & 0xff) << 16);
      } else {
        entry = t2 & 0xff;
      }
      table[(state << 8) | byte] = entry;
    }
  }
  byteTransitions = table;
  return table;
}

/**
 * Decodes the Huffman string `src[start..end)` into `out` from 0; returns the number of symbols, or -1 for a
 * malformed string (EOS inside, padding longer than seven bits or not all ones). When `out` is too short the symbols
 * that do not fit are counted but not written (the caller only validates such a string).
 */
export function huffmanDecode(src: Uint8Array, start: number, end: number, out: Uint8Array): number {
  let state = 0;
  let n = 0;
  const cap = out.length;
  const table = byteTransitions ?? buildByteTransitions();
  for (let i = start; i < end; i++) {
    const t = table[(state << 8) | src[i]!]!;
    const count = (t >>> 8) & 7;
    if (count !== 0) {
      if (count & 4) return -1;
      if (n < cap) out[n] = t >>> 16;
      if (count === 2 && n + 1 < cap) out[n + 1] = t >>> 24;
      n += count;
    }
    state = t & 0xff;
  }
  return ACCEPTING[state] ? n : -1;
}
