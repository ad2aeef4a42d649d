/**
 * The HTTP/1.1 front end against hostile request targets and framing, through the real proxy to origins that keep
 * the bytes they read: the path is normalised before routing (an auth bypass otherwise), a UTF-8 target passes byte
 * for byte, and what hyper would forward wrongly (CONNECT, `OPTIONS *`, a missing Host, `gzip, chunked`, a 1 MB
 * header, an absolute-form target with another Host) is answered as nginx does, with nothing forwarded.
 *
 * @module
 */
import assert from "node:assert/strict";
import { rawExchange, startTestProxy, type TestProxy } from "../_support/proxy.ts";
import { type RawOrigin, startRawOrigin } from "../_support/raw_origin.ts";
import { Client } from "../../runtime/listen/h1/_test_utils.ts";

/** Locations: `/dead` (a protected area) and `/café` to origin `dead`, host `other.test` to `other`, the rest to `root`. */
async function withProxy(
  fn: (p: TestProxy, o: { dead: RawOrigin; root: RawOrigin; other: RawOrigin }) => Promise<void>,
): Promise<void> {
  const o = { dead: startRawOrigin(), root: startRawOrigin(), other: startRawOrigin() };
  let p: TestProxy | undefined;
  try {
    p = await startTestProxy(`
[upstreams.dead]
addrs = ["${o.dead.addr}"]
[upstreams.root]
addrs = ["${o.root.addr}"]
[upstreams.other]
addrs = ["${o.other.addr}"]
[locations.dead]
path = "/dead"
upstream = "dead"
[locations.cafe]
path = "/café"
upstream = "dead"
[locations.other]
host = "other.test"
upstream = "other"
[locations.old]
path = "/old/"
rewrite = "^/old/(.*)$ /new/$1"
upstream = "root"
[locations.root]
upstream = "root"
[servers.s]
addr = "127.0.0.1:0"
locations = ["dead", "cafe", "other", "old", "root"]
`);
    await fn(p, o);
  } finally {
    await p?.close();
    for (const x of Object.values(o)) await x.close();
  }
}

const lines = (o: RawOrigin) => o.requests.map((r) => r.line);

Deno.test("front end: dot segments and duplicate slashes are resolved before routing and rewriting", async () => {
  await withProxy(async (p, o) => {
    // Routed as /x (not into /dead); the upstream gets the target as sent (nginx's proxy_pass without a URI part).
    const outOfDead = [
      "GET /dead/../x HTTP/1.1",
      "GET /dead/%2e%2E/x HTTP/1.1",
      "GET /dead/./../y?q=1 HTTP/1.1",
    ];
    for (const line of outOfDead) {
      const before = o.root.requests.length;
      assert.equal((await rawExchange(p.port, `${line}\r\nHost: t\r\nConnection: close\r\n\r\n`))?.status, 200);
      assert.equal(o.root.requests[before]?.line, line);
    }
    // HTTP/1.0: served from the head the screen rebuilt, routed the same.
    assert.equal((await rawExchange(p.port, "GET /dead/../z HTTP/1.0\r\nHost: t\r\n\r\n"))?.status, 200);
    assert.equal(o.root.requests.at(-1)?.line, "GET /dead/../z HTTP/1.1");
    assert.deepEqual(lines(o.dead), [], "nothing reached the /dead location's upstream");
    // The other way round: into /dead through an escaped slash, a double slash, an escaped letter.
    for (const target of ["/x/..%2fdead/a", "//dead/a", "/%64ead/a"]) {
      const before = o.dead.requests.length;
      const res = await rawExchange(p.port, `GET ${target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
      assert.equal(res?.status, 200);
      assert.equal(o.dead.requests[before]?.line, `GET ${target} HTTP/1.1`, target);
    }
    // A rewrite works on the normalised path, and the upstream gets what it made.
    const before = o.root.requests.length;
    const res = await rawExchange(p.port, "GET /old/./a/../b HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert.equal(res?.status, 200);
    assert.equal(o.root.requests[before]?.line, "GET /new/b HTTP/1.1");
  });
});

Deno.test("front end: a UTF-8 target is routed on its characters and reaches the upstream byte for byte", async () => {
  await withProxy(async (p, o) => {
    const c = await Client.open({ transport: "tcp", hostname: "127.0.0.1", port: p.port });
    try {
      await c.send(new TextEncoder().encode("GET /café/menu HTTP/1.1\r\nHost: t\r\n\r\n"));
      assert.equal((await c.response()).status, 200);
    } finally {
      c.close();
    }
    // One char per byte: é as the two bytes C3 A9.
    assert.deepEqual(lines(o.dead), ["GET /caf\u00c3\u00a9/menu HTTP/1.1"]);
  });
});

Deno.test("front end: framing hyper would pass on wrongly is answered as nginx does, nothing forwarded", async () => {
  await withProxy(async (p, o) => {
    const cases: [string, string | Uint8Array, number][] = [
      ["gzip, chunked", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501],
      ["chunked on HTTP/1.0", "POST / HTTP/1.0\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400],
      ["HTTP/1.1 without Host", "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 400],
      ["two Hosts", "GET /a HTTP/1.0\r\nHost: t\r\nHost: u\r\n\r\n", 400],
      [
        "two equal Content-Lengths",
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
        400,
      ],
      ["CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 405],
      ["a target that is no path", "GET example.com HTTP/1.1\r\nHost: t\r\n\r\n", 400],
      ["an absolute target without a host", "GET http:///x HTTP/1.1\r\nHost: t\r\n\r\n", 400],
      ["a 1 MB header", `GET / HTTP/1.1\r\nHost: t\r\nX-Big: ${"a".repeat(1 << 20)}\r\n\r\n`, 431],
      ["a 1 MB header, screened (HTTP/1.0)", `GET / HTTP/1.0\r\nHost: t\r\nX-Big: ${"a".repeat(1 << 20)}\r\n\r\n`, 431],
      ["OPTIONS * (answered here)", "OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n", 200],
      ["CONNECT after an empty line", "\r\nCONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 405],
      ["no Host after empty lines", "\r\n\nGET / HTTP/1.1\r\nConnection: close\r\n\r\n", 400],
    ];
    for (const [name, req, status] of cases) {
      assert.equal((await rawExchange(p.port, req))?.status, status, name);
    }
    assert.deepEqual([...lines(o.root), ...lines(o.dead), ...lines(o.other)], [], "nothing was forwarded");
  });
});

Deno.test("front end: an absolute-form target routes by its host, and the upstream gets that host", async () => {
  await withProxy(async (p, o) => {
    const res = await rawExchange(
      p.port,
      "GET http://other.test/x?a=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert.equal(res?.status, 200);
    assert.equal(o.other.requests.length, 1);
    const r = o.other.requests[0]!;
    assert.equal(r.line, "GET /x?a=1 HTTP/1.1");
    assert.deepEqual(r.head.match(/^host:.*$/gim), ["host: other.test"]);
  });
});

Deno.test("Deno.serve listeners (TLS, PINGAP_HTTP1=deno-serve): an absolute-form target's host is the upstream's Host", async () => {
  const before = Deno.env.get("PINGAP_HTTP1");
  Deno.env.set("PINGAP_HTTP1", "deno-serve");
  try {
    await withProxy(async (p, o) => {
      const req = "GET http://other.test/x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
      assert.equal((await rawExchange(p.port, req))?.status, 200);
      assert.equal(o.other.requests.length, 1);
      assert.deepEqual(o.other.requests[0]!.head.match(/^host:.*$/gim), ["host: other.test"]);
    });
  } finally {
    if (before === undefined) Deno.env.delete("PINGAP_HTTP1");
    else Deno.env.set("PINGAP_HTTP1", before);
  }
});

Deno.test("front end: a chunked body with bad framing is answered 400, never forwarded whole", async () => {
  await withProxy(async (p, o) => {
    const head = "POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
    const bodies = [
      "zz\r\nhello\r\n0\r\n\r\n",
      "-5\r\nhello\r\n0\r\n\r\n",
      "fffffffffffffffff\r\nhello\r\n0\r\n\r\n",
      "3\r\nhello\r\n0\r\n\r\n",
      "5\nhello\r\n0\r\n\r\n",
      "5;a\nb\r\nhello\r\n0\r\n\r\n",
    ];
    for (const body of bodies) {
      assert.equal((await rawExchange(p.port, head + body))?.status, 400, JSON.stringify(body));
    }
    // Bad framing after a good chunk, sent later: the upload is under way (the origin has the head) when it comes.
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: p.port });
    try {
      await conn.write(new TextEncoder().encode(head + "5\r\nhello\r\n"));
      await new Promise((r) => setTimeout(r, 300));
      await conn.write(new TextEncoder().encode("xyz\r\nabc\r\n0\r\n\r\n"));
      const buf = new Uint8Array(4096);
      const n = await conn.read(buf);
      assert.match(new TextDecoder().decode(buf.subarray(0, n ?? 0)), /^HTTP\/1\.1 400 /);
    } finally {
      conn.close();
    }
    assert.deepEqual(lines(o.root), [], "no request reached the origin whole");
    // A good chunked upload still passes, framing and all.
    assert.equal((await rawExchange(p.port, head + "5;ext=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"))?.status, 200);
    assert.deepEqual(lines(o.root), ["POST /up HTTP/1.1"]);
    assert.match(o.root.requests[0]!.body, /hello/);
  });
});

Deno.test("front end: an HTTP/1.0 request is served alone on its connection, keep-alive asked or not", async () => {
  await withProxy(async (p, o) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: p.port });
    let gaveUp = false;
    const timer = setTimeout(() => (gaveUp = true, conn.close()), 15_000);
    let got = "";
    try {
      await conn.write(new TextEncoder().encode("GET /ka HTTP/1.0\r\nHost: t\r\nConnection: keep-alive\r\n\r\n"));
      const buf = new Uint8Array(4096);
      for (;;) {
        const n = await conn.read(buf).catch(() => null);
        if (n === null) break;
        got += new TextDecoder().decode(buf.subarray(0, n));
      }
    } finally {
      clearTimeout(timer);
      try {
        conn.close();
      } catch { /* closed */ }
    }
    assert.match(got, /^HTTP\/1\.[01] 200 /);
    assert.doesNotMatch(got, /^connection: keep-alive/im);
    assert.ok(!gaveUp, "the server closed the connection after the response");
    assert.deepEqual(lines(o.root), ["GET /ka HTTP/1.1"]);
  });
});
