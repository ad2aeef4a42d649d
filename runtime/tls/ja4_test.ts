/**
 * JA4 of ClientHellos with published fingerprints, the prefix rules, and hellos that are cut short or garbage; the
 * record reader on whole, split, partial and foreign bytes.
 */
import assert from "node:assert/strict";
import { isGrease, ja4Of } from "./ja4.ts";
import { HELLO_INCOMPLETE, HELLO_INVALID, MAX_CLIENT_HELLO, readClientHello } from "./client_hello.ts";

const u16 = (v: number) => [v >> 8, v & 0xff];
const vec16 = (b: number[]) => [...u16(b.length), ...b];
const vec8 = (b: number[]) => [b.length, ...b];
const ascii = (s: string) => [...new TextEncoder().encode(s)];

const sni = (host: string) => vec16([0, ...vec16(ascii(host))]);
const alpn = (...protocols: (string | number[])[]) =>
  vec16(protocols.flatMap((p) => vec8(typeof p === "string" ? ascii(p) : p)));
const versions = (...vs: number[]) => vec8(vs.flatMap(u16));
const sigAlgs = (...vs: number[]) => vec16(vs.flatMap(u16));

/** A ClientHello body: version, random, a 32-byte session id, ciphers, null compression, extensions (none: omitted). */
function hello(legacy: number, ciphers: number[], extensions?: [number, number[]][]): Uint8Array {
  const body = [...u16(legacy), ...new Array(32).fill(0x11), ...vec8(new Array(32).fill(0x22))];
  body.push(...vec16(ciphers.flatMap(u16)), 1, 0);
  if (extensions) body.push(...vec16(extensions.flatMap(([t, d]) => [...u16(t), ...vec16(d)])));
  return new Uint8Array(body);
}

/** `body` as a handshake message in records of at most `size` bytes each. */
function records(body: Uint8Array, size: number): Uint8Array {
  const message = [1, body.byteLength >> 16, (body.byteLength >> 8) & 0xff, body.byteLength & 0xff, ...body];
  const out: number[] = [];
  for (let i = 0; i < message.length; i += size) {
    const chunk = message.slice(i, i + size);
    out.push(0x16, 3, 1, ...u16(chunk.length), ...chunk);
  }
  return new Uint8Array(out);
}

const SIGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601];
const CHROME_CIPHERS = [
  0x1301,
  0x1302,
  0x1303,
  0xc02b,
  0xc02f,
  0xc02c,
  0xc030,
  0xcca9,
  0xcca8,
  0xc013,
  0xc014,
  0x009c,
  0x009d,
  0x002f,
  0x0035,
];

/**
 * The example of FoxIO's JA4.md: its cipher, extension and signature algorithm lists (its `JA4_ro`), in that order,
 * GREASE mixed in as a browser sends it.
 */
function specExample(): Uint8Array {
  return hello(0x0303, [0x2a2a, ...CHROME_CIPHERS], [
    [0x0a0a, []],
    [0x001b, [2, 0, 2]],
    [0x0000, sni("example.com")],
    [0x0033, [0, 0]],
    [0x0010, alpn("h2", "http/1.1")],
    [0x4469, [0, 3, 2, ...ascii("h2")]],
    [0x0017, []],
    [0x002d, [1, 1]],
    [0x000d, sigAlgs(...SIGS)],
    [0x0005, [1, 0, 0, 0, 0]],
    [0x0023, []],
    [0x0012, []],
    [0x002b, versions(0x3a3a, 0x0304, 0x0303)],
    [0xff01, [0]],
    [0x000b, [1, 0]],
    [0x000a, [0, 4, 0x3a, 0x3a, 0, 0x1d]],
    [0x0015, new Array(16).fill(0)],
    [0x1a1a, [0]],
  ]);
}

Deno.test("ja4Of() gives the four forms FoxIO's JA4.md prints for its example ClientHello", () => {
  const fp = ja4Of(specExample())!;
  assert.equal(fp.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
  assert.equal(
    fp.raw,
    "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_" +
      "0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601",
  );
  assert.equal(fp.original, "t13d1516h2_acb858a92679_18f69afefd3d");
  assert.equal(
    fp.rawOriginal,
    "t13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035_" +
      "001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,0015_" +
      "0403,0804,0401,0503,0805,0501,0806,0601",
  );
});

Deno.test("ja4Of() matches the published fingerprints of a Chrome 143 capture (browserleaks, with ECH and ALPS)", () => {
  // The lists of the capture's `ja4_ro`, extensions in its order, GREASE added where Chrome puts it.
  const order = [
    0x002d,
    0x0033,
    0x0010,
    0xfe0d,
    0x0017,
    0x44cd,
    0x0000,
    0x000b,
    0x000a,
    0x002b,
    0xff01,
    0x0023,
    0x0012,
    0x0005,
    0x000d,
    0x001b,
  ];
  const data: { [t: number]: number[] } = {
    0x0010: alpn("h2", "http/1.1"),
    0x0000: sni("tls.browserleaks.com"),
    0x002b: versions(0xdada, 0x0304, 0x0303),
    0x000d: sigAlgs(...SIGS),
  };
  const body = hello(0x0303, [0xfafa, ...CHROME_CIPHERS], [
    [0xfafa, []],
    ...order.map((t): [number, number[]] => [t, data[t] ?? [0]]),
    [0xbaba, [0]],
  ]);
  const fp = ja4Of(body)!;
  assert.equal(fp.ja4, "t13d1516h2_8daaf6152771_d8a2da3f94cd");
  assert.equal(fp.original, "t13d1516h2_acb858a92679_f96a17c57971");
  assert.equal(
    fp.raw,
    "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_" +
      "0005,000a,000b,000d,0012,0017,001b,0023,002b,002d,0033,44cd,fe0d,ff01_0403,0804,0401,0503,0805,0501,0806,0601",
  );
  assert.equal(
    fp.rawOriginal,
    "t13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035_" +
      "002d,0033,0010,fe0d,0017,44cd,0000,000b,000a,002b,ff01,0023,0012,0005,000d,001b_" +
      "0403,0804,0401,0503,0805,0501,0806,0601",
  );
});

Deno.test("ja4Of() prefix: version, SNI, counts capped at 99, ALPN ends or their hex", () => {
  const prefix = (extensions: [number, number[]][], legacy = 0x0301) =>
    ja4Of(hello(legacy, [0x1301], extensions))!.ja4.slice(0, 10);
  // supported_versions wins over the hello's version; GREASE in it is ignored; only GREASE leaves the hello's.
  assert.equal(prefix([[0x002b, versions(0x0303, 0x0304, 0xfafa)]]), "t13i010100");
  assert.equal(prefix([[0x002b, versions(0x2a2a)]]), "t10i010100");
  assert.equal(prefix([], 0x0300), "ts3i010000");
  assert.equal(prefix([], 0x0200).slice(1, 3), "s2");
  assert.equal(prefix([], 0x9999).slice(1, 3), "00");
  // SNI counts as an extension and makes `d`.
  assert.equal(prefix([[0x0000, sni("a.b")]]), "t10d010100");
  // ALPN: the first protocol's first and last characters; hex ends when not letters or digits; 00 when none.
  assert.equal(prefix([[0x0010, alpn("http/1.1", "h2")]]), "t10i0101h1");
  assert.equal(prefix([[0x0010, alpn("h")]]), "t10i0101hh");
  assert.equal(prefix([[0x0010, alpn([0xab])]]), "t10i0101ab");
  assert.equal(prefix([[0x0010, alpn([0xab, 0xcd])]]), "t10i0101ad");
  assert.equal(prefix([[0x0010, alpn(" ")]]), "t10i010120");
  assert.equal(prefix([[0x0010, alpn()]]), "t10i010100");
  // A malformed ALPN counts as an extension with no protocol.
  assert.equal(prefix([[0x0010, [0, 9, 1]]]), "t10i010100");
  // Counts: GREASE never counts; more than 99 prints 99.
  const many = Array.from({ length: 120 }, (_, i) => 0x0100 + i);
  assert.equal(ja4Of(hello(0x0303, [...many, 0x0a0a]))!.ja4.slice(0, 8), "t12i9900");
});

Deno.test("ja4Of() hashes an empty list as zeros; SNI and ALPN stay out of JA4's extension hash, not JA4_o's", () => {
  assert.equal(ja4Of(hello(0x9999, [], []))!.ja4, "t00i000000_000000000000_000000000000");
  const noExt = ja4Of(hello(0x0303, [0xc02f, 0x009c]))!;
  assert.match(noExt.ja4, /^t12i020000_[0-9a-f]{12}_000000000000$/);
  assert.equal(noExt.raw, "t12i020000_009c,c02f_");
  const fp = ja4Of(hello(0x0303, [0x1301], [[0x0000, sni("x.y")], [0x0010, alpn("h2")], [0x0017, []]]))!;
  assert.equal(fp.raw, "t12d0103h2_1301_0017");
  assert.equal(fp.rawOriginal, "t12d0103h2_1301_0000,0010,0017");
  // Only SNI and ALPN: nothing left to hash.
  assert.match(ja4Of(hello(0x0303, [0x1301], [[0x0000, sni("x.y")]]))!.ja4, /_000000000000$/);
});

Deno.test("ja4Of() gives nothing for a hello cut short, with bytes after it, or with an odd cipher list", () => {
  const body = specExample();
  for (const len of [0, 1, 2, 34, 35, 40, 70, body.byteLength - 1]) {
    assert.equal(ja4Of(body.subarray(0, len)), undefined, `${len} bytes`);
  }
  assert.equal(ja4Of(new Uint8Array([...body, 0])), undefined);
  const odd = hello(0x0303, [0x1301]);
  odd[2 + 32 + 1 + 32 + 1] = 3; // the cipher list's length, low byte
  assert.equal(ja4Of(odd), undefined);
  // Garbage of every length never throws.
  let seed = 7;
  for (let n = 0; n < 300; n++) {
    const junk = Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >> 24);
    ja4Of(junk);
  }
});

Deno.test("isGrease() knows the 16 GREASE values and nothing else", () => {
  let n = 0;
  for (let v = 0; v < 0x10000; v++) if (isGrease(v)) n++;
  assert.equal(n, 16);
  assert.ok(isGrease(0x0a0a) && isGrease(0xfafa) && !isGrease(0x0a1a) && !isGrease(0x1301));
});

Deno.test("readClientHello() puts a hello together from one record or many, ignores what follows it", () => {
  const body = specExample();
  const one = records(body, 16 * 1024);
  assert.deepEqual(readClientHello(one, 0), body);
  const split = records(body, 100);
  assert.ok(split.byteLength > one.byteLength + 5);
  const more = new Uint8Array([0xaa, 0xbb, ...split, 0x17, 3, 3, 0, 1, 0xff]);
  assert.deepEqual(readClientHello(more, 2), body);
  // A hello split right after its handshake header's first bytes.
  assert.deepEqual(readClientHello(records(body, 3), 0), body);
  // Every prefix is incomplete, never invalid.
  for (const whole of [one, split]) {
    for (let n = 0; n < whole.byteLength; n++) {
      assert.equal(readClientHello(whole.subarray(0, n), 0), HELLO_INCOMPLETE, `${n} bytes`);
    }
  }
});

Deno.test("readClientHello() tells bytes that are no ClientHello as soon as it can", () => {
  assert.equal(readClientHello(new TextEncoder().encode("GET / HTTP/1.1\r\n"), 0), HELLO_INVALID);
  const serverHello = records(specExample(), 16 * 1024);
  serverHello[5] = 2;
  assert.equal(readClientHello(serverHello, 0), HELLO_INVALID);
  assert.equal(readClientHello(new Uint8Array([0x16, 3, 1, 0, 0]), 0), HELLO_INVALID);
  assert.equal(readClientHello(new Uint8Array([0x16, 3, 1, 0x40, 0x01]), 0), HELLO_INVALID);
  // A hello announcing more than 16 KiB.
  const big = MAX_CLIENT_HELLO + 1;
  assert.equal(
    readClientHello(new Uint8Array([0x16, 3, 1, 0, 4, 1, big >> 16, (big >> 8) & 0xff, big & 0xff]), 0),
    HELLO_INVALID,
  );
  // The same when the announcement is split over records.
  assert.equal(
    readClientHello(
      new Uint8Array([0x16, 3, 1, 0, 2, 1, big >> 16, 0x16, 3, 1, 0, 2, (big >> 8) & 0xff, big & 0xff]),
      0,
    ),
    HELLO_INVALID,
  );
  // An alert record first.
  assert.equal(readClientHello(new Uint8Array([0x15, 3, 1, 0, 2, 2, 40]), 0), HELLO_INVALID);
});

/**
 * JA4 by the spec's words, written apart from ja4.ts (a walk over the hello with a DataView, Web Crypto's SHA-256), to
 * check a hello captured from a real client.
 */
async function specJa4(body: Uint8Array): Promise<{ ja4: string; ro: string }> {
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const grease = (x: number) => (x & 0x0f0f) === 0x0a0a && (x >> 8) === (x & 0xff);
  const hex = (x: number) => x.toString(16).padStart(4, "0");
  const sha = async (s: string) =>
    s === "" ? "000000000000" : [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)))]
      .map((b) => b.toString(16).padStart(2, "0")).join("").slice(0, 12);
  let at = 2 + 32;
  at += 1 + v.getUint8(at);
  const ciphers: number[] = [];
  const cipherEnd = at + 2 + v.getUint16(at);
  for (at += 2; at < cipherEnd; at += 2) if (!grease(v.getUint16(at))) ciphers.push(v.getUint16(at));
  at += 1 + v.getUint8(at);
  const exts: number[] = [];
  let sigs: number[] = [], version = v.getUint16(0), alpn = "00";
  const extEnd = at + 2 + v.getUint16(at);
  for (at += 2; at < extEnd;) {
    const type = v.getUint16(at), len = v.getUint16(at + 2), d = at + 4;
    at = d + len;
    if (grease(type)) continue;
    exts.push(type);
    if (type === 0x002b) {
      const offered: number[] = [];
      for (let i = d + 1; i < d + 1 + v.getUint8(d); i += 2) if (!grease(v.getUint16(i))) offered.push(v.getUint16(i));
      version = Math.max(...offered);
    }
    if (type === 0x000d) { for (let i = d + 2; i < d + 2 + v.getUint16(d); i += 2) sigs.push(v.getUint16(i)); }
    if (type === 0x0010) {
      const p = new TextDecoder().decode(body.subarray(d + 3, d + 3 + v.getUint8(d + 2)));
      alpn = p[0]! + p[p.length - 1]!;
    }
  }
  sigs = sigs.filter((s) => !grease(s));
  const a = `t${{ 0x0304: "13", 0x0303: "12" }[version] ?? "??"}${exts.includes(0) ? "d" : "i"}${
    String(ciphers.length).padStart(2, "0")
  }${String(exts.length).padStart(2, "0")}${alpn}`;
  const sorted = exts.filter((e) => e !== 0 && e !== 0x10).sort((x, y) => x - y).map(hex).join(",");
  const c = sorted + (sigs.length ? "_" + sigs.map(hex).join(",") : "");
  const b = [...ciphers].sort((x, y) => x - y).map(hex).join(",");
  const ro = `${a}_${ciphers.map(hex).join(",")}_${exts.map(hex).join(",")}${sigs.length ? "_" : ""}${
    sigs.map(hex).join(",")
  }`;
  return { ja4: `${a}_${await sha(b)}_${await sha(c)}`, ro };
}

/** The first ClientHello `openssl s_client` sends with `args`, caught by a bare TCP listener. */
async function captureOpenssl(...args: string[]): Promise<Uint8Array> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const child = new Deno.Command("openssl", {
    args: ["s_client", "-connect", `127.0.0.1:${listener.addr.port}`, ...args],
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const conn = await listener.accept();
    let got = new Uint8Array(0);
    const buf = new Uint8Array(4096);
    for (;;) {
      const hello = readClientHello(got, 0);
      if (hello !== HELLO_INCOMPLETE) {
        conn.close();
        assert.ok(typeof hello !== "string", "openssl sent no ClientHello");
        return hello.slice();
      }
      const n = await conn.read(buf);
      assert.ok(n !== null, "openssl closed before its ClientHello");
      got = new Uint8Array([...got, ...buf.subarray(0, n)]);
    }
  } finally {
    listener.close();
    try {
      child.kill();
    } catch { /* gone */ }
    await child.status;
    await child.stdin.close().catch(() => {});
  }
}

Deno.test("ja4Of() of ClientHellos openssl s_client sends matches the spec computed apart", async () => {
  const seen = new Set<string>();
  for (
    const args of [
      ["-servername", "capture.test"],
      ["-servername", "capture.test", "-alpn", "h2,http/1.1"],
      ["-noservername", "-alpn", "http/1.1", "-tls1_2"],
    ]
  ) {
    const body = await captureOpenssl(...args);
    const want = await specJa4(body);
    const fp = ja4Of(body)!;
    assert.equal(fp.ja4, want.ja4, args.join(" "));
    assert.equal(fp.rawOriginal, want.ro, args.join(" "));
    seen.add(fp.ja4);
  }
  const [sni, alpn, tls12] = [...seen];
  assert.match(sni!, /^t13d\d{4}00_/);
  assert.match(alpn!, /^t13d\d{4}h2_/);
  assert.match(tls12!, /^t12i\d{4}h1_/);
});
