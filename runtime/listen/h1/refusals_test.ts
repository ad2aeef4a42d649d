/**
 * What the front end answers itself, as nginx does, instead of passing it on (issue 15's hostile corpus): over real
 * sockets against {@linkcode listenH1} with an echo handler, on both paths (heads the fast path takes, and heads the
 * screen rebuilds), so a refusal shows as a status and no call of the handler.
 */
import assert from "node:assert/strict";
import { listenH1, type WireHandler } from "./mod.ts";
import { responseWith } from "../../http/response_build.ts";
import { Client, field } from "./_test_utils.ts";

interface Seen {
  via: string;
  method: string;
  target: string;
  upgrade: string | null;
  body: string;
}

/** Runs `fn` with a listener whose handlers record what they were given. */
async function withListener(fn: (send: (bytes: string) => Promise<number>, seen: Seen[]) => Promise<void>) {
  const seen: Seen[] = [];
  const fast: WireHandler = async (req) => {
    const body = req.body ? await new Response(req.body).text() : "";
    seen.push({ via: "fast", method: req.method, target: req.target, upgrade: req.headers.get("upgrade"), body });
    return responseWith("ok", { status: 200 }, {});
  };
  const l = await listenH1({ hostname: "127.0.0.1", port: 0 }, fast);
  try {
    await fn(async (bytes) => {
      const c = await Client.open(l.addr);
      try {
        await c.send(bytes);
        return (await c.response()).status;
      } finally {
        c.close();
      }
    }, seen);
  } finally {
    await l.shutdown();
  }
}

/** Asserts that each head is answered `status` without reaching a handler. */
async function refused(status: number, heads: string[]): Promise<void> {
  await withListener(async (send, seen) => {
    for (const head of heads) {
      assert.equal(await send(head), status, JSON.stringify(head.slice(0, 80)));
      assert.deepEqual(seen, [], JSON.stringify(head.slice(0, 80)));
    }
  });
}

const get = (target: string, extra = "", version = "1.1") =>
  `GET ${target} HTTP/${version}\r\nHost: h.test\r\n${extra}\r\n`;

Deno.test("front end: HTTP/2.0 and 3.0 in an HTTP/1 request line are 505", () =>
  refused(505, [get("/", "", "2.0"), get("/", "", "3.0")]));

Deno.test("front end: without an HTTP/2 engine the h2c preface is 400 and the connection closed", async () => {
  let calls = 0;
  const l = await listenH1({ hostname: "127.0.0.1", port: 0 }, () => (calls++, Promise.resolve(responseWith("", {}))));
  const c = await Client.open(l.addr);
  try {
    // The preface, then an empty SETTINGS frame, as a client with prior knowledge sends them.
    await c.send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00");
    const res = await c.response();
    assert.equal(res.status, 400);
    assert.equal(field(res, "connection"), "close");
    // Nothing after the answer (no HTTP/2 frame), and the end of the connection.
    assert.equal((await c.rest()).byteLength, 0);
    assert.equal(calls, 0);
  } finally {
    c.close();
    await l.shutdown();
  }
});

Deno.test("front end: a bad %-escape, %00 or a .. above the root is 400, on both paths", () =>
  refused(400, [
    get("/a/%00"),
    get("/a/%zz"),
    get("/a/%4"),
    get("/../x"),
    get("/a/../../x"),
    get("/a/%2e%2e/%2E%2E/x"),
    get("/..%2fx"),
    get("/a/%00", "", "1.0"),
    get("/../x", "", "1.0"),
  ]));

Deno.test("front end: dot segments that stay under the root, and escapes in the query, are served", () =>
  withListener(async (send, seen) => {
    for (const target of ["/a/../x", "/a/./b/..", "/x?q=%zz&r=../..", "/a%2Fb", "/é"]) {
      assert.equal(await send(get(target)), 200, target);
      assert.equal(await send(get(target, "", "1.0")), 200, target);
    }
    // HTTP/1.0 too is served by the front end itself, from the head the screen rebuilt.
    assert.deepEqual(seen.map((s) => s.via), Array(10).fill("fast"));
  }));

Deno.test("front end: CONNECT is 405 on the fast path's shape too; absolute-form user info is 400", async () => {
  await refused(405, [
    "CONNECT /c/ HTTP/1.1\r\nHost: h.test\r\n\r\n",
    "CONNECT h.test:443 HTTP/1.1\r\nHost: h.test\r\n\r\n",
  ]);
  await refused(400, [get("http://u:p@h.test/x"), get("http://u@h.test/x", "", "1.0")]);
});

Deno.test("front end: a Host that is no uri-host[:port] is 400, on both paths", async () => {
  const bad = [
    "",
    "h.test, other.test",
    "h test",
    "h.test/admin?",
    "..",
    "a..b",
    "u@h.test",
    "h.test:abc",
    "[::1",
    "h\\x",
  ];
  await refused(
    400,
    bad.flatMap((h) => [`GET / HTTP/1.1\r\nHost: ${h}\r\n\r\n`, `GET / HTTP/1.0\r\nHost: ${h}\r\n\r\n`]),
  );
  await withListener(async (send, seen) => {
    for (const h of ["h.test", "h.test:8080", "[::1]", "[::1]:80", "h.test.", "xn--h-bga.test"]) {
      assert.equal(await send(`GET / HTTP/1.1\r\nHost: ${h}\r\n\r\n`), 200, h);
    }
    assert.equal(seen.length, 6);
  });
});

Deno.test("front end: a Content-Length past 2^53 is 400", () =>
  refused(400, [
    get("/", "Content-Length: 9223372036854775808\r\n"),
    get("/", "Content-Length: 9007199254740993\r\n"),
  ]));

Deno.test("front end: a request line that fills the buffer is 414, a head of long fields 431", async () => {
  await refused(414, [get(`/${"a".repeat(100 * 1024)}`), get(`/?q=${"a".repeat(100 * 1024)}`)]);
  await refused(431, [get("/", `X-A: ${"a".repeat(100 * 1024)}\r\n`)]);
});

Deno.test("front end: 200 fields are served; past 100 on a screened head (HTTP/1.0), 431", async () => {
  const fields = (n: number) => Array.from({ length: n }, (_, i) => `X-H${i}: ${i}\r\n`).join("");
  await withListener(async (send, seen) => {
    assert.equal(await send(get("/", fields(200))), 200);
    assert.equal(await send(get("/", fields(900))), 200);
    assert.equal(await send(get("/", fields(90), "1.0")), 200);
    assert.deepEqual(seen.map((s) => s.via), ["fast", "fast", "fast"]);
  });
  await refused(431, [get("/", fields(150), "1.0"), get("/", fields(1200))]);
});

Deno.test("front end: Upgrade without Connection: upgrade is a plain request, the field dropped", () =>
  withListener(async (send, seen) => {
    assert.equal(await send(get("/u", "Upgrade: websocket\r\n")), 200);
    assert.deepEqual(seen, [{ via: "fast", method: "GET", target: "/u", upgrade: null, body: "" }]);
  }));

Deno.test("front end: a chunk size with a tab, or a chunk extension past 4000 bytes, is 400", async () => {
  const post = (body: string) => `POST /p HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: chunked\r\n\r\n${body}`;
  await refused(400, [post("5\t\r\nhello\r\n0\r\n\r\n"), post(`5;${"a".repeat(8000)}\r\nhello\r\n0\r\n\r\n`)]);
  await withListener(async (send, seen) => {
    assert.equal(await send(post(`5;${"a".repeat(3000)}\r\nhello\r\n0\r\n\r\n`)), 200);
    assert.equal(await send(post("5 \r\nhello\r\n0\r\n\r\n")), 200);
    assert.deepEqual(seen.map((s) => s.body), ["hello", "hello"]);
  });
});

Deno.test("front end: a chunked body's trailers may be 16 KiB with their line ends, read across reads; more is 400", async () => {
  const post = (body: string) => `POST /p HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: chunked\r\n\r\n${body}`;
  // "X: " + n bytes + CRLF, then the last CRLF: n + 7 bytes of trailer section.
  const withTrailer = (n: number) => post(`5\r\nhello\r\n0\r\nX: ${"a".repeat(n)}\r\n\r\n`);
  await withListener(async (send, seen) => {
    assert.equal(await send(withTrailer(16 * 1024 - 7)), 200);
    assert.equal(await send(withTrailer(100)), 200);
    assert.deepEqual(seen.map((s) => s.body), ["hello", "hello"]);
  });
  await refused(400, [withTrailer(16 * 1024 - 6)]);
});
