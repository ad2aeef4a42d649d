/**
 * HPACK (RFC 7541): the header compression of HTTP/2. One {@linkcode HpackDecoder} per connection decodes the
 * client's header blocks, one {@linkcode HpackEncoder} encodes ours; each keeps its dynamic table in a ring buffer
 * with the RFC's size accounting (32 + name octets + value octets per entry).
 *
 * Header names and values are byte strings: each octet is one char code 0–255 (latin1), as HTTP/2 carries them. The
 * decoder rejects every malformed block with {@linkcode HpackError} (the connection error COMPRESSION_ERROR, RFC 9113
 * §4.3) and never materialises a string no caller could keep (longer than both the header list limit and the table).
 *
 * Over 400 lines because the decoder and the encoder share one dynamic-table model (its ring, sizes and evictions) and
 * the integer and string codecs of the RFC; apart, each half would carry a copy of them.
 *
 * @module
 */
import { huffmanDecode, huffmanEncode, huffmanEncodedLength } from "./huffman.ts";
import { STATIC_COUNT, STATIC_NAME_INDEX, STATIC_NAMES, STATIC_PAIR_INDEX, STATIC_VALUES } from "./hpack_static.ts";

/** Thrown on a malformed block: the connection error is COMPRESSION_ERROR (RFC 9113 §4.3). */
export class HpackError extends Error {
  override name = "HpackError";
}

/**
 * The decoded header list is larger than the decoder's `maxHeaderListSize`. The block was still decoded whole and the
 * dynamic table updated, so the connection can go on (the stream gets a 431 or RST_STREAM).
 */
export class HeaderListTooLarge extends HpackError {
  override name = "HeaderListTooLarge";
  /** Always true: tells this error from a real COMPRESSION_ERROR. */
  readonly tooLarge = true;
}

/** Default SETTINGS_HEADER_TABLE_SIZE (RFC 9113 §6.5.2). */
const DEFAULT_TABLE_SIZE = 4096;
/** Default header list limit of the decoder, in RFC 9113 octets (name + value + 32 per field). */
const DEFAULT_MAX_HEADER_LIST_SIZE = 65536;
/** Largest integer a block may carry (RFC 7541 §5.1 leaves the limit to the implementation). */
const MAX_INT = 0x7fffffff;
/** RFC 7541 §4.1: each entry costs 32 octets beside its name and value. */
const ENTRY_OVERHEAD = 32;

/** The dynamic table: a ring buffer of entries, newest at `head`, RFC 7541 §4 size accounting. */
class DynamicTable {
  names: string[];
  values: string[];
  /** Slot mask: slots are a power of two, grown (doubled) when full, so an idle connection holds only 16. */
  mask = 15;
  /** Slot of the newest entry. */
  head = 0;
  /** Number of entries. */
  count = 0;
  /** Sum of the entries' sizes. */
  size = 0;
  /** Current maximum size (changed by dynamic table size updates). */
  capacity: number;
  /** Entries ever inserted (the encoder numbers entries by it). */
  inserted = 0;

  constructor(capacity: number) {
    this.names = new Array<string>(16).fill("");
    this.values = new Array<string>(16).fill("");
    this.capacity = capacity;
  }

  /** Name of dynamic entry `i` (1 = newest); `i` must be ≤ count. */
  name(i: number): string {
    return this.names[(this.head - i + 1) & this.mask]!;
  }

  /** Value of dynamic entry `i` (1 = newest). */
  value(i: number): string {
    return this.values[(this.head - i + 1) & this.mask]!;
  }

  /** Drops the oldest entry. */
  evictOldest(): void {
    const slot = (this.head - this.count + 1) & this.mask;
    this.size -= this.names[slot]!.length + this.values[slot]!.length + ENTRY_OVERHEAD;
    this.names[slot] = "";
    this.values[slot] = "";
    this.count--;
  }

  /** Evicts until the size is at most `limit`. */
  evictTo(limit: number, onEvict?: DynamicTableEvict): void {
    while (this.size > limit) {
      if (onEvict !== undefined) {
        const slot = (this.head - this.count + 1) & this.mask;
        onEvict.evicted(this.names[slot]!, this.values[slot]!, this.inserted - this.count + 1);
      }
      this.evictOldest();
    }
  }

  /** Sets a new maximum size (evicting as needed). */
  resize(capacity: number, onEvict?: DynamicTableEvict): void {
    this.capacity = capacity;
    this.evictTo(capacity, onEvict);
  }

  /** Doubles the slots, keeping the entries in order (oldest at slot 0, newest at count - 1). */
  grow(): void {
    const slots = (this.mask + 1) * 2;
    const names = new Array<string>(slots).fill("");
    const values = new Array<string>(slots).fill("");
    for (let i = this.count; i >= 1; i--) {
      names[this.count - i] = this.name(i);
      values[this.count - i] = this.value(i);
    }
    this.names = names;
    this.values = values;
    this.mask = slots - 1;
    this.head = this.count - 1;
  }

  /** Inserts a new entry (RFC 7541 §4.4: one larger than the table empties it and is not added). Returns whether added. */
  add(name: string, value: string, onEvict?: DynamicTableEvict): boolean {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    if (size > this.capacity) {
      this.evictTo(0, onEvict);
      return false;
    }
    this.evictTo(this.capacity - size, onEvict);
    if (this.count > this.mask) this.grow();
    this.head = (this.head + 1) & this.mask;
    this.names[this.head] = name;
    this.values[this.head] = value;
    this.count++;
    this.size += size;
    this.inserted++;
    return true;
  }
}

/** Notified of each eviction (the encoder keeps its lookup maps in step). */
interface DynamicTableEvict {
  evicted(name: string, value: string, insertion: number): void;
}

/**
 * Huffman output of the string being decoded, shared by every decoder (decoding is synchronous and the octets become
 * a string before the next one): grown on demand, never past the largest decoder's longest useful string.
 */
let huffmanScratch = new Uint8Array(256);
/** Huffman output of a string that is only validated and measured. */
const NO_OUTPUT = new Uint8Array(0);

/** Decodes header blocks of one connection. */
export class HpackDecoder {
  #table: DynamicTable;
  #maxTableSize: number;
  #maxHeaderListSize: number;
  /** Largest string worth materialising: longer ones can neither be kept in the list nor in the table. */
  #maxString: number;
  // Cursor state of the block being decoded (fields, not closures, keep the hot path free of allocations).
  #pos = 0;
  /** Length in octets of the last string read (also when it was not materialised). */
  #strLen = 0;

  /**
   * @param maxTableSize the SETTINGS_HEADER_TABLE_SIZE we advertise (default 4096). The table starts at this size;
   *   advertise at least 4096: a peer may use the default 4096 until it has read our SETTINGS, and a smaller table
   *   here would then evict entries it still refers to (a larger one is harmless: indexes count from the newest)
   * @param maxHeaderListSize bytes as RFC 9113 counts them (name + value + 32 each); over it {@linkcode decode}
   *   throws {@linkcode HeaderListTooLarge} after decoding the whole block (default 65536)
   */
  constructor(maxTableSize = DEFAULT_TABLE_SIZE, maxHeaderListSize = DEFAULT_MAX_HEADER_LIST_SIZE) {
    checkSize("maxTableSize", maxTableSize);
    checkSize("maxHeaderListSize", maxHeaderListSize);
    this.#maxTableSize = maxTableSize;
    this.#maxHeaderListSize = maxHeaderListSize;
    this.#table = new DynamicTable(maxTableSize);
    this.#maxString = Math.max(maxHeaderListSize, maxTableSize);
  }

  /** Current dynamic table size in octets (RFC 7541 §4.1), for tests and diagnostics. */
  get tableSize(): number {
    return this.#table.size;
  }

  /** Current dynamic table entries, newest first, as `[name, value]` pairs (tests and diagnostics). */
  tableEntries(): [string, string][] {
    const out: [string, string][] = [];
    for (let i = 1; i <= this.#table.count; i++) out.push([this.#table.name(i), this.#table.value(i)]);
    return out;
  }

  /**
   * Decodes one whole header block (HEADERS + CONTINUATION fragments joined). Returns a flat array
   * `[name0, value0, name1, value1, ...]` in wire order; names as sent.
   */
  decode(block: Uint8Array): string[] {
    const out: string[] = [];
    const table = this.#table;
    const end = block.length;
    let listSize = 0;
    let tooLarge = false;
    let fieldSeen = false;
    this.#pos = 0;
    while (this.#pos < end) {
      const b = block[this.#pos]!;
      if (b & 0x80) {
        // Indexed header field (§6.1).
        const index = this.#readInt(block, 7);
        fieldSeen = true;
        let name: string;
        let value: string;
        if (index === 0) throw new HpackError("Invalid HPACK block: index 0");
        if (index <= STATIC_COUNT) {
          name = STATIC_NAMES[index]!;
          value = STATIC_VALUES[index]!;
        } else if (index - STATIC_COUNT <= table.count) {
          name = table.name(index - STATIC_COUNT);
          value = table.value(index - STATIC_COUNT);
        } else {
          throw new HpackError(`Invalid HPACK block: index ${index} is past the table`);
        }
        const size = name.length + value.length + ENTRY_OVERHEAD;
        listSize += size;
        if (listSize > this.#maxHeaderListSize) tooLarge = true;
        else out.push(name, value);
        continue;
      }
      if ((b & 0xe0) === 0x20) {
        // Dynamic table size update (§6.3): only at the start of a block.
        if (fieldSeen) throw new HpackError("Invalid HPACK block: dynamic table size update after a field");
        const size = this.#readInt(block, 5);
        if (size > this.#maxTableSize) {
          throw new HpackError(`Invalid HPACK block: table size ${size} is above the maximum ${this.#maxTableSize}`);
        }
        table.resize(size);
        continue;
      }
      // Literal (§6.2): 01 with incremental indexing (6-bit prefix), 0000 without, 0001 never indexed (4-bit).
      fieldSeen = true;
      const indexing = (b & 0xc0) === 0x40;
      const index = this.#readInt(block, indexing ? 6 : 4);
      // Once the list is too large, only a field the table keeps is still turned into strings.
      const keep = indexing || !tooLarge;
      let name: string | null;
      let nameLen: number;
      if (index === 0) {
        name = this.#readString(block, keep);
        nameLen = this.#strLen;
      } else {
        if (index <= STATIC_COUNT) name = STATIC_NAMES[index]!;
        else if (index - STATIC_COUNT <= table.count) name = table.name(index - STATIC_COUNT);
        else throw new HpackError(`Invalid HPACK block: name index ${index} is past the table`);
        nameLen = name.length;
      }
      const value = this.#readString(block, keep);
      const size = nameLen + this.#strLen + ENTRY_OVERHEAD;
      listSize += size;
      if (listSize > this.#maxHeaderListSize) tooLarge = true;
      if (indexing) {
        // A string too long to materialise makes an entry larger than the table: RFC 7541 §4.4 empties it.
        if (name !== null && value !== null) table.add(name, value);
        else table.evictTo(0);
      }
      if (!tooLarge && name !== null && value !== null) out.push(name, value);
    }
    if (tooLarge) {
      throw new HeaderListTooLarge(
        `Header list of ${listSize} octets is above the limit of ${this.#maxHeaderListSize}`,
      );
    }
    return out;
  }

  /** Reads an integer with an `n`-bit prefix at #pos (§5.1); rejects more than 2^31 - 1 or a truncated one. */
  #readInt(block: Uint8Array, n: number): number {
    const mask = (1 << n) - 1;
    let value = block[this.#pos++]! & mask;
    if (value < mask) return value;
    const end = block.length;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      if (this.#pos >= end) throw new HpackError("Invalid HPACK block: integer is cut short");
      const b = block[this.#pos++]!;
      value += (b & 0x7f) * 2 ** shift;
      if (value > MAX_INT) throw new HpackError("Invalid HPACK block: integer is too large");
      if ((b & 0x80) === 0) return value;
      shift += 7;
    }
    throw new HpackError("Invalid HPACK block: integer has too many continuation bytes");
  }

  /**
   * Reads a string literal at #pos (§5.2) and sets #strLen to its decoded length. Returns null for a string longer
   * than #maxString or when `keep` is false: it is validated and measured but never materialised.
   */
  #readString(block: Uint8Array, keep: boolean): string | null {
    if (this.#pos >= block.length) throw new HpackError("Invalid HPACK block: string is missing");
    const huffman = (block[this.#pos]! & 0x80) !== 0;
    const len = this.#readInt(block, 7);
    const start = this.#pos;
    const end = start + len;
    if (end > block.length) throw new HpackError("Invalid HPACK block: string length is past the block");
    this.#pos = end;
    if (!huffman) {
      this.#strLen = len;
      if (!keep || len > this.#maxString) return null;
      return latin1(block, start, end);
    }
    // Each symbol takes at least five bits: the output holds at most len * 8 / 5 octets.
    const bound = keep ? Math.min(Math.floor((len * 8) / 5), this.#maxString + 1) : 0;
    let scratch = keep ? huffmanScratch : NO_OUTPUT;
    if (scratch.length < bound) {
      let size = scratch.length * 2;
      while (size < bound) size *= 2;
      huffmanScratch = scratch = new Uint8Array(Math.min(size, this.#maxString + 1));
    }
    const n = huffmanDecode(block, start, end, scratch);
    if (n < 0) throw new HpackError("Invalid HPACK block: malformed Huffman string");
    this.#strLen = n;
    if (!keep || n > this.#maxString) return null;
    return latin1(scratch, 0, n);
  }
}

/** A size must be a whole number from 0 to 2^31 - 1: an unbounded limit would let one block take any memory. */
function checkSize(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > MAX_INT) {
    throw new RangeError(`Cannot create the HPACK codec: ${what} ${n} is not an integer from 0 to ${MAX_INT}`);
  }
}

/** ASCII is the same in UTF-8: longer ASCII strings are decoded by the (native) UTF-8 decoder. */
const ASCII_DECODER = new TextDecoder();

/**
 * Octets to a byte string (one char per octet, latin1). Short strings are built by `String.fromCharCode` eight octets
 * at a time; a longer one that is all ASCII goes through the native decoder. (`TextDecoder("latin1")` is
 * windows-1252, which maps 0x80–0x9f elsewhere, and `fromCharCode.apply` on a typed array is slow.)
 */
function latin1(bytes: Uint8Array, start: number, end: number): string {
  if (end - start > 32) {
    let high = 0;
    for (let i = start; i < end; i++) high |= bytes[i]!;
    if (high < 0x80) return ASCII_DECODER.decode(bytes.subarray(start, end));
  }
  let s = "";
  let i = start;
  for (; i + 8 <= end; i += 8) {
    s += String.fromCharCode(
      bytes[i]!,
      bytes[i + 1]!,
      bytes[i + 2]!,
      bytes[i + 3]!,
      bytes[i + 4]!,
      bytes[i + 5]!,
      bytes[i + 6]!,
      bytes[i + 7]!,
    );
  }
  for (; i < end; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/**
 * Header names the encoder writes as "never indexed" literals by default (§6.2.3, §7.1.3: a secret in a shared table
 * can be guessed by compressing guesses); a `cookie` shorter than 20 octets always is (RFC 7541 §7.1.3).
 */
export const DEFAULT_NEVER_INDEX: ReadonlySet<string> = new Set(["authorization", "proxy-authorization", "set-cookie"]);
/** Header names whose values rarely repeat: written without indexing so they do not flush useful entries. */
const NO_INDEX = new Set([
  ":path",
  "age",
  "content-length",
  "content-range",
  "date",
  "etag",
  "expires",
  "if-modified-since",
  "if-none-match",
  "last-modified",
  "location",
  "x-request-id",
]);

/** Encodes header blocks of one connection. */
export class HpackEncoder implements DynamicTableEvict {
  #table: DynamicTable;
  #maxTableSize: number;
  #neverIndex: ReadonlySet<string>;
  /** name → (value → absolute insertion number of the newest such entry in the table). */
  #pairs = new Map<string, Map<string, number>>();
  /** name → absolute insertion number of the newest entry with that name. */
  #names = new Map<string, number>();
  /** Pending size updates for the next block: the smallest size since the last block, and the final one. */
  #pendingMin = -1;
  #pendingFinal = -1;
  #buf = new Uint8Array(1024);
  #pos = 0;

  /**
   * @param maxTableSize our encoder table size (default 4096); the table uses min(this, the peer's setting)
   * @param neverIndex names always written as "never indexed" literals (default {@linkcode DEFAULT_NEVER_INDEX})
   */
  constructor(maxTableSize = DEFAULT_TABLE_SIZE, neverIndex: ReadonlySet<string> = DEFAULT_NEVER_INDEX) {
    checkSize("maxTableSize", maxTableSize);
    this.#neverIndex = neverIndex;
    this.#maxTableSize = maxTableSize;
    const initial = Math.min(maxTableSize, DEFAULT_TABLE_SIZE);
    this.#table = new DynamicTable(DEFAULT_TABLE_SIZE);
    if (initial !== DEFAULT_TABLE_SIZE) this.#queueResize(initial);
  }

  /** Current dynamic table size in octets (tests and diagnostics). */
  get tableSize(): number {
    return this.#table.size;
  }

  /**
   * The peer's SETTINGS_HEADER_TABLE_SIZE changed: the next block starts with a dynamic table size update when the
   * size we use changes (RFC 7541 §4.2; the smallest size first when it went down and up again).
   */
  setPeerMaxTableSize(n: number): void {
    // A SETTINGS value is any 32-bit unsigned number: only ours bounds the table.
    if (!Number.isInteger(n) || n < 0) {
      throw new RangeError(`Cannot set the peer's HPACK table size: ${n} is not valid`);
    }
    this.#queueResize(Math.min(this.#maxTableSize, n));
  }

  #queueResize(size: number): void {
    if (this.#pendingMin < 0) {
      if (size === this.#table.capacity) return;
      this.#pendingMin = size;
    } else if (size < this.#pendingMin) {
      this.#pendingMin = size;
    }
    this.#pendingFinal = size;
  }

  /** @internal DynamicTableEvict: forget an evicted entry in the lookup maps. */
  evicted(name: string, value: string, insertion: number): void {
    const values = this.#pairs.get(name);
    if (values !== undefined && values.get(value) === insertion) {
      values.delete(value);
      if (values.size === 0) this.#pairs.delete(name);
    }
    if (this.#names.get(name) === insertion) this.#names.delete(name);
  }

  /**
   * Encodes one header block from a flat `[name, value, ...]` array (names lower case). `authorization`,
   * `proxy-authorization`, `set-cookie` and a `cookie` under 20 octets are "never indexed" literals.
   */
  encode(fields: readonly string[]): Uint8Array {
    // Worst case per string: its octets and a 6-octet length; per field a 6-octet representation prefix.
    let bound = 16;
    for (let i = 0; i < fields.length; i++) bound += fields[i]!.length + 9;
    if (this.#buf.length < bound) this.#buf = new Uint8Array(Math.max(bound, this.#buf.length * 2));
    this.#pos = 0;
    const table = this.#table;
    if (this.#pendingMin >= 0) {
      if (this.#pendingMin < this.#pendingFinal) {
        this.#writeInt(0x20, 5, this.#pendingMin);
        table.resize(this.#pendingMin, this);
      }
      this.#writeInt(0x20, 5, this.#pendingFinal);
      table.resize(this.#pendingFinal, this);
      this.#pendingMin = -1;
      this.#pendingFinal = -1;
    }
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = fields[i]!;
      const value = fields[i + 1]!;
      // Exact match: static table, then dynamic table.
      const staticValues = STATIC_PAIR_INDEX.get(name);
      const staticExact = staticValues?.get(value);
      if (staticExact !== undefined) {
        this.#writeInt(0x80, 7, staticExact);
        continue;
      }
      const never = this.#neverIndex.has(name) || (name === "cookie" && value.length < 20);
      if (!never) {
        const insertion = this.#pairs.get(name)?.get(value);
        if (insertion !== undefined) {
          this.#writeInt(0x80, 7, STATIC_COUNT + table.inserted - insertion + 1);
          continue;
        }
      }
      // Literal, with the name indexed when possible.
      let nameIndex = STATIC_NAME_INDEX.get(name) ?? 0;
      if (nameIndex === 0) {
        const insertion = this.#names.get(name);
        if (insertion !== undefined) nameIndex = STATIC_COUNT + table.inserted - insertion + 1;
      }
      const size = name.length + value.length + ENTRY_OVERHEAD;
      const indexing = !never && !NO_INDEX.has(name) && size <= (table.capacity * 3) >>> 2;
      if (indexing) this.#writeInt(0x40, 6, nameIndex);
      else this.#writeInt(never ? 0x10 : 0x00, 4, nameIndex);
      if (nameIndex === 0) this.#writeString(name);
      this.#writeString(value);
      if (indexing && table.add(name, value, this)) {
        const n = table.inserted;
        let values = this.#pairs.get(name);
        if (values === undefined) this.#pairs.set(name, values = new Map());
        values.set(value, n);
        this.#names.set(name, n);
      }
    }
    return this.#buf.slice(0, this.#pos);
  }

  /** Writes an integer with an `n`-bit prefix (§5.1), the prefix's high bits set to `flags`. */
  #writeInt(flags: number, n: number, value: number): void {
    const buf = this.#buf;
    const mask = (1 << n) - 1;
    if (value < mask) {
      buf[this.#pos++] = flags | value;
      return;
    }
    buf[this.#pos++] = flags | mask;
    value -= mask;
    while (value >= 0x80) {
      buf[this.#pos++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 128);
    }
    buf[this.#pos++] = value;
  }

  /** Writes a string literal (§5.2), Huffman-coded when that is shorter. */
  #writeString(s: string): void {
    const hlen = huffmanEncodedLength(s);
    if (hlen < s.length) {
      this.#writeInt(0x80, 7, hlen);
      this.#pos = huffmanEncode(s, this.#buf, this.#pos);
      return;
    }
    this.#writeInt(0x00, 7, s.length);
    const buf = this.#buf;
    let pos = this.#pos;
    for (let i = 0; i < s.length; i++) buf[pos++] = s.charCodeAt(i);
    this.#pos = pos;
  }
}
