/**
 * JA4, FoxIO's TLS client fingerprint (BSD 3-Clause spec, `technical_details/JA4.md`), of a ClientHello read off the
 * wire (`readClientHello` of client_hello.ts): `t13d1516h2_8daaf6152771_e5627efa2ab1` is
 *
 * - `a`: `t` (TCP), the TLS version (the highest of `supported_versions`, else the hello's own), `d` with SNI or `i`
 *   without, the cipher and extension counts (two digits, at most 99), the first and last characters of the first ALPN
 *   protocol (`00` without one);
 * - `b`: the first 12 hex digits of the SHA-256 of the ciphers, sorted, as comma-separated 4-digit hex;
 * - `c`: the same of the extensions, sorted, without SNI and ALPN, then `_` and the signature algorithms as sent.
 *
 * GREASE values (RFC 8701) are left out everywhere; an empty list hashes to `000000000000`. The raw (`_r`) and
 * original-order (`_o`, `_ro`: extensions as sent, SNI and ALPN kept) forms are made when read.
 *
 * @module
 */
import { createHash } from "node:crypto";

const SNI = 0x0000;
const ALPN = 0x0010;
const SIGNATURE_ALGORITHMS = 0x000d;
const SUPPORTED_VERSIONS = 0x002b;
const EMPTY = "000000000000";

/** Whether `v` is a GREASE value: `0x0a0a`, `0x1a1a`, … `0xfafa`. */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && (v >> 8) === (v & 0xff);
}

const VERSIONS: { readonly [v: number]: string } = {
  0x0304: "13",
  0x0303: "12",
  0x0302: "11",
  0x0301: "10",
  0x0300: "s3",
  0x0200: "s2",
  0x0100: "s1",
  0xfeff: "d1",
  0xfefd: "d2",
  0xfefc: "d3",
};

function hex4(v: number): string {
  return v.toString(16).padStart(4, "0");
}

function list(values: readonly number[]): string {
  return values.map(hex4).join(",");
}

function hash12(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 12);
}

function count(n: number): string {
  return String(Math.min(n, 99)).padStart(2, "0");
}

function alnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** The two characters of the first ALPN protocol: its ends when both are ASCII letters or digits, else its hex's. */
function alpnCode(p: Uint8Array | undefined): string {
  if (p === undefined || p.byteLength === 0) return "00";
  const first = p[0]!, last = p[p.byteLength - 1]!;
  if (alnum(first) && alnum(last)) return String.fromCharCode(first, last);
  return (first >> 4).toString(16) + (last & 0x0f).toString(16);
}

/** A bounds-checked reader of TLS wire data; a read past the end throws {@linkcode Short}. */
class Reader {
  readonly #b: Uint8Array;
  #at: number;
  readonly #end: number;
  constructor(b: Uint8Array, at = 0, end = b.byteLength) {
    this.#b = b;
    this.#at = at;
    this.#end = end;
  }
  get done(): boolean {
    return this.#at >= this.#end;
  }
  u8(): number {
    if (this.#at + 1 > this.#end) throw SHORT;
    return this.#b[this.#at++]!;
  }
  u16(): number {
    if (this.#at + 2 > this.#end) throw SHORT;
    const v = (this.#b[this.#at]! << 8) | this.#b[this.#at + 1]!;
    this.#at += 2;
    return v;
  }
  skip(n: number): void {
    if (this.#at + n > this.#end) throw SHORT;
    this.#at += n;
  }
  /** A vector with a one- or two-byte length, as a reader of its own. */
  vec(lenBytes: 1 | 2): Reader {
    const n = lenBytes === 1 ? this.u8() : this.u16();
    if (this.#at + n > this.#end) throw SHORT;
    const r = new Reader(this.#b, this.#at, this.#at + n);
    this.#at += n;
    return r;
  }
  /** The rest as `u16` values, GREASE left out; an odd byte left over throws. */
  u16s(): number[] {
    const out: number[] = [];
    while (!this.done) {
      const v = this.u16();
      if (!isGrease(v)) out.push(v);
    }
    return out;
  }
  bytes(): Uint8Array {
    return this.#b.subarray(this.#at, this.#end);
  }
}

class Short extends Error {}
const SHORT = new Short("ClientHello ends early");

/** A content an extension gives, or undefined when it is malformed (the extension still counts). */
function content<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (e) {
    if (e === SHORT) return undefined;
    throw e;
  }
}

/**
 * The JA4 fingerprint of one ClientHello: {@linkcode ja4} is made at once (what is logged); the raw and
 * original-order forms when read.
 */
export class Ja4 {
  /** `JA4`, e.g. `t13d1516h2_8daaf6152771_e5627efa2ab1`. */
  readonly ja4: string;
  readonly #prefix: string;
  readonly #ciphers: readonly number[];
  readonly #extensions: readonly number[];
  readonly #signatures: readonly number[];

  constructor(
    prefix: string,
    ciphers: readonly number[],
    extensions: readonly number[],
    signatures: readonly number[],
  ) {
    this.#prefix = prefix;
    this.#ciphers = ciphers;
    this.#extensions = extensions;
    this.#signatures = signatures;
    const [c, e] = this.#sorted();
    this.ja4 = `${prefix}_${c === "" ? EMPTY : hash12(c)}_${e === "" ? EMPTY : hash12(e)}`;
  }

  /** The sorted ciphers, and the sorted extensions less SNI and ALPN with the signature algorithms. */
  #sorted(): [string, string] {
    const ciphers = [...this.#ciphers].sort((a, b) => a - b);
    const extensions = this.#extensions.filter((x) => x !== SNI && x !== ALPN).sort((a, b) => a - b);
    return [list(ciphers), this.#withSignatures(extensions)];
  }

  #withSignatures(extensions: readonly number[]): string {
    if (extensions.length === 0) return "";
    return this.#signatures.length === 0 ? list(extensions) : `${list(extensions)}_${list(this.#signatures)}`;
  }

  /** `JA4_r`: the sorted lists themselves. */
  get raw(): string {
    const [c, e] = this.#sorted();
    return `${this.#prefix}_${c}_${e}`;
  }

  /** `JA4_o`: hashed as `JA4`, over the lists as sent (SNI and ALPN kept). */
  get original(): string {
    const c = list(this.#ciphers), e = this.#withSignatures(this.#extensions);
    return `${this.#prefix}_${c === "" ? EMPTY : hash12(c)}_${e === "" ? EMPTY : hash12(e)}`;
  }

  /** `JA4_ro`: the lists as sent. */
  get rawOriginal(): string {
    return `${this.#prefix}_${list(this.#ciphers)}_${this.#withSignatures(this.#extensions)}`;
  }
}

/**
 * The JA4 fingerprint of a ClientHello body (as `readClientHello` gives it), or undefined when the body is
 * not one (cut short, trailing bytes, odd lists): a fingerprint of a broken hello would match no other tool's. A
 * malformed ALPN, `supported_versions` or `signature_algorithms` content counts as absent.
 *
 * @example Usage
 * ```ts
 * import { ja4Of } from "./ja4.ts";
 * // TLS 1.2, 32 zero bytes of random, no session id, one cipher (0x1301), no compression, no extensions.
 * const body = new Uint8Array([3, 3, ...new Array(32).fill(0), 0, 0, 2, 0x13, 0x01, 1, 0]);
 * if (!ja4Of(body)?.ja4.startsWith("t12i010000_")) throw new Error();
 * ```
 */
export function ja4Of(body: Uint8Array): Ja4 | undefined {
  try {
    const r = new Reader(body);
    const legacy = r.u16();
    r.skip(32);
    const session = r.vec(1);
    if (session.bytes().byteLength > 32) return undefined;
    const cipherBytes = r.vec(2);
    if (cipherBytes.bytes().byteLength % 2 !== 0) return undefined;
    const ciphers = cipherBytes.u16s();
    r.vec(1);
    const extensions: number[] = [];
    let signatures: number[] = [];
    let sni = false;
    let alpn: Uint8Array | undefined;
    let version: number | undefined;
    if (!r.done) {
      const exts = r.vec(2);
      if (!r.done) return undefined;
      while (!exts.done) {
        const type = exts.u16();
        const data = exts.vec(2);
        if (isGrease(type)) continue;
        extensions.push(type);
        if (type === SNI) sni = true;
        else if (type === ALPN) {
          alpn = content(() => {
            const protocols = data.vec(2);
            return protocols.done ? undefined : protocols.vec(1).bytes();
          });
        } else if (type === SUPPORTED_VERSIONS) {
          const offered = content(() => data.vec(1).u16s());
          if (offered !== undefined && offered.length > 0) version = Math.max(...offered);
        } else if (type === SIGNATURE_ALGORITHMS) {
          signatures = content(() => data.vec(2).u16s()) ?? [];
        }
      }
    }
    const prefix = `t${VERSIONS[version ?? legacy] ?? "00"}${sni ? "d" : "i"}${count(ciphers.length)}${
      count(extensions.length)
    }${alpnCode(alpn)}`;
    return new Ja4(prefix, ciphers, extensions, signatures);
  } catch (e) {
    if (e === SHORT) return undefined;
    throw e;
  }
}
