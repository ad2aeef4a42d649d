/**
 * The HTTP/1.1 upstream client against upstreams that misbehave on purpose (issue 15, item 7 and Build item 8), each
 * with a raw TCP origin that records every byte it receives: bytes an upstream sends unasked are never read as the
 * next client's response, a POST the upstream read is never sent twice, and requests the client must not send are
 * refused as client errors before any byte goes out.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHttp1Client, type Http1Client } from "./client.ts";
import { backendAt, delay, get, options, rejection, startRaw, text } from "../_test_utils.ts";
import { type Backend, ClientRequestError } from "../types.ts";
import { requestHeaders } from "../h2/fields.ts";

const encoder = new TextEncoder();

/** A raw TCP origin; `received` holds every byte each connection sent it, as latin-1 text. */
interface RecordingOrigin {
  readonly backend: Backend;
  /** Per accepted connection, everything received on it. */
  readonly received: string[];
  close(): Promise<void>;
}

/** Reads into `log[index]` until `pattern` appears past `from`; returns the end of the match, or -1 at the end. */
type Reader = (pattern: string) => Promise<number>;

/**
 * Starts an origin whose `script` drives each connection: `read(pattern)` waits until what the connection received
 * holds `pattern` (after what earlier calls consumed), `send(text)` writes, `close()` closes. After the script, what
 * else arrives is recorded until the client closes.
 */
function startRecording(
  script: (io: { read: Reader; send: (s: string) => Promise<void>; close: () => void; index: number }) => Promise<void>,
): RecordingOrigin {
  const received: string[] = [];
  const server = startRaw(async (conn, index) => {
    received[index] = "";
    let consumed = 0;
    let ended = false;
    const buf = new Uint8Array(65536);
    const read: Reader = async (pattern) => {
      for (;;) {
        const at = received[index]!.indexOf(pattern, consumed);
        if (at >= 0) return consumed = at + pattern.length;
        if (ended) return -1;
        const n = await conn.read(buf).catch(() => null);
        if (n === null) ended = true;
        else received[index] += latin1(buf.subarray(0, n));
      }
    };
    const send = async (s: string) => {
      const bytes = encoder.encode(s);
      let off = 0;
      while (off < bytes.length) off += await conn.write(bytes.subarray(off));
    };
    const close = () => {
      ended = true;
      try {
        conn.close();
      } catch {
        // closed
      }
    };
    await script({ read, send, close, index }).catch(() => {});
    // Record what else arrives until the client closes (or the test ends).
    while (!ended) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) ended = true;
      else received[index] += latin1(buf.subarray(0, n));
    }
  });
  return { backend: server.backend, received, close: () => server.close() };
}

function latin1(b: Uint8Array): string {
  let s = "";
  for (const c of b) s += String.fromCharCode(c);
  return s;
}

/** Request lines in `log`, in order (a line that starts a head: after the start or a blank line). */
function requestLines(log: string): string[] {
  return [...log.matchAll(/(?:^|\r\n\r\n)([A-Z]+ \S+ HTTP\/1\.1)\r\n/g)].map((m) => m[1]!);
}

async function withClient(fn: (client: Http1Client) => Promise<void>): Promise<void> {
  const client = createHttp1Client(options());
  try {
    await fn(client);
  } finally {
    client.close();
  }
}

Deno.test("http1 client: a body sent after a HEAD answer, while the connection idles, is not the next answer", async () => {
  const origin = startRecording(async ({ read, send, index }) => {
    if (index === 0) {
      await read("\r\n\r\n");
      await send("HTTP/1.1 200 OK\r\ncontent-length: 38\r\n\r\n");
      // The body a HEAD answer must not have, sent once the client parked the connection: it is itself an answer.
      await delay(100);
      await send("HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\npoison");
    }
    while (await read("\r\n\r\n") >= 0) await send("HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nmine");
  });
  await withClient(async (client) => {
    const head = await client.request(origin.backend, get("/", { method: "HEAD" }));
    assert.equal(head.status, 200);
    assert.equal(await text(head.body), "");
    await delay(300);
    const next = await client.request(origin.backend, get("/victim"));
    assert.equal(await text(next.body), "mine", "the second client gets its own answer");
    assert.equal(next.reused, false);
  });
  await origin.close();
  assert.deepEqual(requestLines(origin.received[0]!), ["HEAD / HTTP/1.1"]);
  assert.deepEqual(requestLines(origin.received[1]!), ["GET /victim HTTP/1.1"]);
});

Deno.test("http1 client: bytes past a content-length, in the same read or later, never reach the next request", async () => {
  const origin = startRecording(async ({ read, send, index }) => {
    await read("\r\n\r\n");
    if (index === 0) {
      // Two bytes more than announced, in the same write.
      await send("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\npoison");
    } else if (index === 1) {
      await send("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
      await delay(100);
      await send("HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\npoison");
    } else await send("HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nmine");
    while (await read("\r\n\r\n") >= 0) await send("HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nmine");
  });
  await withClient(async (client) => {
    assert.equal(await text((await client.request(origin.backend, get("/a"))).body), "ok");
    assert.equal(client.idleCount, 0, "a connection with bytes left over is not pooled");
    assert.equal(await text((await client.request(origin.backend, get("/b"))).body), "ok");
    await delay(300);
    const next = await client.request(origin.backend, get("/victim"));
    assert.equal(await text(next.body), "mine");
  });
  await origin.close();
  assert.deepEqual(origin.received.map(requestLines), [["GET /a HTTP/1.1"], ["GET /b HTTP/1.1"], [
    "GET /victim HTTP/1.1",
  ]]);
});

Deno.test("http1 client: a POST the upstream read before closing is not sent again; a GET is", async () => {
  // Each connection answers its first request, then reads the next one whole and closes without answering.
  const origin = startRecording(async ({ read, send, close }) => {
    await read("\r\n\r\n");
    await send("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    await read("\r\n\r\n");
    await delay(20);
    close();
  });
  await withClient(async (client) => {
    await text((await client.request(origin.backend, get("/warm"))).body);
    const error = await rejection(client.request(origin.backend, {
      method: "POST",
      target: "/pay",
      headers: new Headers({ host: "origin.test", "content-length": "3" }),
      body: ReadableStream.from([encoder.encode("abc")]),
    }));
    assert.equal(error.kind, "protocol");
    assert.equal(error.requestSent, true);
    // An idempotent method is still sent again on a fresh connection.
    await text((await client.request(origin.backend, get("/warm2"))).body);
    const put = await client.request(origin.backend, {
      method: "PUT",
      target: "/put",
      headers: new Headers({ host: "origin.test", "content-length": "3" }),
      body: ReadableStream.from([encoder.encode("abc")]),
    });
    assert.equal(await text(put.body), "ok");
    assert.equal(put.reused, false);
  });
  await origin.close();
  const all = origin.received.flatMap(requestLines);
  assert.equal(all.filter((l) => l === "POST /pay HTTP/1.1").length, 1, "the POST arrived exactly once");
  assert.equal(all.filter((l) => l === "PUT /put HTTP/1.1").length, 2, "the PUT was sent again");
});

Deno.test("http1 client: connection never strips framing or host; a refused nomination sends nothing", async () => {
  const origin = startRecording(async ({ read, send }) => {
    while (await read("\r\n\r\n") >= 0) {
      // Every request here has a 5-byte body or none; read it so the log shows what followed.
      await delay(20);
      await send("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    }
  });
  await withClient(async (client) => {
    const res = await client.request(origin.backend, {
      method: "POST",
      target: "/",
      headers: new Headers({
        host: "origin.test",
        connection: "content-length, x-drop",
        "content-length": "5",
        "x-drop": "1",
      }),
      body: ReadableStream.from([encoder.encode("GET /")]),
    });
    assert.equal(await text(res.body), "ok");
    for (const name of ["host", "Host", "x-forwarded-for", "X-Forwarded-Proto", ":authority", "a/b"]) {
      const error = await rejection(client.request(origin.backend, {
        method: "GET",
        target: "/",
        headers: new Headers({ host: "origin.test", connection: `keep-alive, ${name}` }),
        body: null,
      }));
      assert.ok(error instanceof ClientRequestError, `${name}: ${error}`);
      assert.equal(error.status, 400);
      assert.equal(error.requestSent, false);
    }
  });
  await origin.close();
  const log = origin.received.join("");
  assert.equal(
    log,
    "POST / HTTP/1.1\r\ncontent-length: 5\r\nhost: origin.test\r\n\r\nGET /",
    "one request, framed, host kept, the nominated field dropped",
  );
});

Deno.test("http1 client: a raw UTF-8 target goes byte for byte; a bad content-length is a client error", async () => {
  const origin = startRecording(async ({ read, send }) => {
    while (await read("\r\n\r\n") >= 0) await send("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
  });
  await withClient(async (client) => {
    // As Deno.serve hands it on: the raw bytes C3 A9 and E2 82 AC decoded as UTF-8.
    for (const target of ["/\u00e9?q=\u00e9", "/\u20ac"]) {
      assert.equal(await text((await client.request(origin.backend, get(target))).body), "ok");
    }
    for (const length of ["5, 5", "-1", "5 5"]) {
      const error = await rejection(client.request(origin.backend, {
        method: "POST",
        target: "/",
        headers: new Headers({ host: "origin.test", "content-length": length }),
        body: ReadableStream.from([encoder.encode("hello")]),
      }));
      assert.ok(error instanceof ClientRequestError, `${length}: ${error}`);
    }
    const error = await rejection(client.request(origin.backend, get("/a\u0000b")));
    assert.ok(error instanceof ClientRequestError);
  });
  await origin.close();
  const lines = requestLines(origin.received.join(""));
  assert.deepEqual(lines, ["GET /\xc3\xa9?q=\xc3\xa9 HTTP/1.1", "GET /\xe2\x82\xac HTTP/1.1"]);
});

Deno.test("h2 request headers: the same connection nominations are refused as client errors", () => {
  const backend = backendAt(1);
  for (const name of ["host", "x-forwarded-for", ":path"]) {
    const req = get("/", { headers: new Headers({ host: "origin.test", connection: name }) });
    assert.throws(() => requestHeaders(req, backend, false), ClientRequestError, name);
  }
  const ok = requestHeaders(
    get("/", { headers: new Headers({ host: "origin.test", connection: "x-drop", "x-drop": "1", "x-keep": "1" }) }),
    backend,
    false,
  );
  assert.equal(ok.indexOf("x-drop"), -1);
  assert.equal(ok[ok.indexOf("x-keep") + 1], "1");
});
