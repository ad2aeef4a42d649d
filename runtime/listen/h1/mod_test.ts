/**
 * End-to-end tests of {@linkcode listenH1} over real sockets: raw `Deno.connect` exchanges (exact bytes) and curl,
 * against small handlers written here (no proxy, no plan).
 */
import assert from "node:assert/strict";
import { type H1Listener, type H1ListenOptions, listenH1, type WireHandler } from "./mod.ts";
import { responseWith } from "../../http/response_build.ts";
import type { HttpResponse } from "../../http/message.ts";
import { type Bytes, Client, concat, dec, enc, field } from "./_test_utils.ts";

/** Runs `fn` with a listener on a free loopback port, shut down afterwards. */
async function withH1(
  handler: WireHandler,
  fn: (l: H1Listener) => Promise<void>,
  options: Partial<H1ListenOptions> = {},
): Promise<void> {
  const l = await listenH1({ hostname: "127.0.0.1", port: 0, ...options }, handler);
  try {
    await fn(l);
  } finally {
    await l.shutdown();
  }
}

/** Runs `fn` with a client connected to `l`, closed afterwards. */
async function withClient<T>(l: H1Listener, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = await Client.open(l.addr);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

async function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command("curl", { args, stdout: "piped", stderr: "piped" }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

function get(path: string, extra = ""): string {
  return `GET ${path} HTTP/1.1\r\nHost: test\r\n${extra}\r\n`;
}

/** Gives the server a chance to read what was sent so far on its own (pacing only; nothing depends on it). */
function pause(): Promise<void> {
  return new Promise((r) => setTimeout(r, 30));
}

/** Answers with the target, the handler's view of the client port, and what it read of the body. */
const echo: WireHandler = async (req, remote) => {
  const body = req.body ? new Uint8Array(await new Response(req.body).arrayBuffer()) : new Uint8Array(0);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
  return responseWith(
    JSON.stringify({
      method: req.method,
      target: req.target,
      port: remote.port,
      length: body.byteLength,
      sha: Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""),
    }),
    { status: 200 },
    { "content-type": "application/json" },
  );
};

async function sha256(bytes: Bytes): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

const DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

Deno.test("listenH1() keeps a connection alive: three requests, date and content-length, UTF-8 lengths", async () => {
  const texts: Record<string, string> = {
    "/1": "plain ascii",
    "/2": "héllo wörld ✓ 😀",
    "/3": "Ελληνικά — 日本語",
  };
  const ports: number[] = [];
  await withH1((req, remote) => {
    ports.push(remote.port);
    const text = texts[req.target]!;
    return Promise.resolve(
      req.target === "/3" ? responseWith(enc.encode(text), {}) : responseWith(text, { status: 200 }),
    );
  }, (l) =>
    withClient(l, async (c) => {
      for (const path of ["/1", "/2", "/3"]) {
        await c.send(get(path));
        const res = await c.response();
        assert.equal(res.status, 200);
        assert.equal(res.reason, "OK");
        assert.match(field(res, "date") ?? "", DATE);
        assert.equal(field(res, "connection"), undefined);
        assert.equal(res.text, texts[path]);
        if (path !== "/3") assert.equal(field(res, "content-length"), String(enc.encode(texts[path]).byteLength));
      }
      assert.deepEqual(ports, [c.port, c.port, c.port]);
    }));
});

Deno.test("listenH1() answers pipelined requests in order and reads requests that come in pieces", async (t) => {
  await withH1(echo, async (l) => {
    await t.step("two requests in one write", () =>
      withClient(l, async (c) => {
        await c.send(get("/first") + get("/second"));
        assert.equal(JSON.parse((await c.response()).text).target, "/first");
        assert.equal(JSON.parse((await c.response()).text).target, "/second");
      }));
    await t.step("a head cut in the middle of a field, a body cut in two", () =>
      withClient(l, async (c) => {
        const body = "0123456789abcdefghij";
        const request =
          `POST /pieces HTTP/1.1\r\nHost: test\r\nX-Long-Field: some value\r\nContent-Length: ${body.length}` +
          `\r\n\r\n${body}`;
        const cuts = [request.indexOf("X-Long-F"), request.indexOf("value") + 2, request.indexOf("0123") + 7];
        let from = 0;
        for (const cut of [...cuts, request.length]) {
          await c.send(request.slice(from, cut));
          from = cut;
          await pause();
        }
        const answer = JSON.parse((await c.response()).text);
        assert.equal(answer.target, "/pieces");
        assert.equal(answer.length, body.length);
        assert.equal(answer.sha, await sha256(enc.encode(body)));
        // The connection still serves.
        await c.send(get("/after"));
        assert.equal(JSON.parse((await c.response()).text).target, "/after");
      }));
  });
});

Deno.test("listenH1() delivers a content-length body whole; an unread body closes the connection", async (t) => {
  const seen: string[] = [];
  await withH1(async (req, remote) => {
    seen.push(req.target);
    if (req.target.startsWith("/ignore")) return responseWith("ignored", { status: 200 });
    return await echo(req, remote);
  }, async (l) => {
    for (const size of [20_000, 70_000, 1_000_000]) {
      await t.step(`${size} bytes, then another request on the same connection`, () =>
        withClient(l, async (c) => {
          const body = crypto.getRandomValues(new Uint8Array(size > 65536 ? 65536 : size));
          const whole = new Uint8Array(size);
          for (let i = 0; i < size; i += body.byteLength) whole.set(body.subarray(0, size - i), i);
          const sending = c.send(
            concat(enc.encode(`POST /up HTTP/1.1\r\nHost: test\r\nContent-Length: ${size}\r\n\r\n`), whole),
          );
          const res = await c.response();
          await sending;
          assert.equal(res.status, 200);
          const answer = JSON.parse(res.text);
          assert.equal(answer.length, size);
          assert.equal(answer.sha, await sha256(whole));
          assert.equal(field(res, "connection"), undefined);
          await c.send(get("/next"));
          assert.equal(JSON.parse((await c.response()).text).target, "/next");
        }));
    }
    // A body that looks like a request: it must never be served as one.
    const smuggled = get("/smuggled");
    await t.step(
      "a small unread body that came with the head is skipped, the connection stays",
      () =>
        withClient(l, async (c) => {
          await c.send(
            `POST /ignore-small HTTP/1.1\r\nHost: test\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`,
          );
          const res = await c.response();
          assert.equal(res.text, "ignored");
          await c.send(get("/next-small"));
          assert.equal(JSON.parse((await c.response()).text).target, "/next-small");
        }),
    );
    await t.step(
      "a large unread body: connection: close, and a lingering close: the client sends all of it, then reads the end",
      () =>
        withClient(l, async (c) => {
          // More than the kernel buffers of both ends hold: a server that stopped reading would make this write fail.
          const body = smuggled.repeat(Math.ceil(8_000_000 / smuggled.length));
          const sending = c.send(
            `POST /ignore-large HTTP/1.1\r\nHost: test\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
          );
          const res = await c.response();
          assert.equal(res.text, "ignored");
          assert.equal(field(res, "connection"), "close");
          await sending;
          // The end of the connection, not a reset (closing with unread bytes would send one).
          assert.equal((await c.rest()).byteLength, 0);
        }),
    );
  });
  assert.ok(!seen.includes("/smuggled"), `served ${seen.join(" ")}`);
});

Deno.test("listenH1() ends a lingering close when the client goes quiet, or after its time in all", async (t) => {
  const ignore: WireHandler = () => Promise.resolve(responseWith("ignored", { status: 200 }));
  const head = `POST /ignore HTTP/1.1\r\nHost: test\r\nContent-Length: 100000000\r\n\r\n`;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /** Sends a little every `gap` ms, at most `times`; true once a send failed (the server closed its end). */
  const sendsFail = async (c: Client, gap: number, times: number) => {
    for (let i = 0; i < times; i++) {
      try {
        await c.send("y".repeat(1000));
      } catch {
        return true;
      }
      await sleep(gap);
    }
    return false;
  };
  await withH1(ignore, async (l) => {
    await t.step("a client that stops sending is cut after the quiet time", () =>
      withClient(l, async (c) => {
        await c.send(head + "x".repeat(100_000));
        assert.equal((await c.response()).text, "ignored");
        // The write side closed after the response; the read side stays open while the client sends.
        assert.equal((await c.rest()).byteLength, 0);
        assert.equal(await sendsFail(c, 200, 3), false, "the server still reads");
        await sleep(3_500);
        assert.equal(await sendsFail(c, 200, 10), true, "closed after 1 s without a byte");
      }));
    await t.step("a client that keeps sending a little is cut after the time in all", () =>
      withClient(l, async (c) => {
        await c.send(head);
        assert.equal((await c.response()).text, "ignored");
        // Every 200 ms is within the quiet time: only the bound in all (3 s) ends it.
        assert.equal(await sendsFail(c, 200, 40), true, "closed after 3 s in all");
      }));
  }, { linger: { quiet: 1_000, total: 3_000 } });
});

/** An upstream's answer (runtime/upstream/types.ts) with the given parts. */
function upstream(
  status: number,
  fields: readonly string[],
  parts: { whole?: Bytes; body?: ReadableStream<Uint8Array> | null; statusText?: string },
): HttpResponse {
  return {
    status,
    statusText: parts.statusText ?? "",
    headers: new Headers(),
    fields,
    body: parts.body ?? null,
    ...(parts.whole ? { whole: parts.whole } : {}),
    editable: false,
  };
}

/** A stream of `chunks`, and whether it was cancelled. */
function chunks(...parts: string[]): { stream: ReadableStream<Uint8Array>; cancelled: Promise<void> } {
  const cancelled = Promise.withResolvers<void>();
  let i = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (i < parts.length) c.enqueue(enc.encode(parts[i++]!));
      else c.close();
    },
    cancel() {
      cancelled.resolve();
    },
  });
  return { stream, cancelled: cancelled.promise };
}

Deno.test("listenH1() answers HEAD, 204 and 304 without body bytes", async () => {
  const cancels: Promise<void>[] = [];
  await withH1((req) => {
    switch (req.target) {
      case "/text":
        return Promise.resolve(responseWith("héllo", { status: 200 }));
      case "/sized": {
        const s = chunks("0123456789");
        cancels.push(s.cancelled);
        return Promise.resolve(upstream(200, ["Content-Length", "10"], { body: s.stream }));
      }
      case "/stream": {
        const s = chunks("abc");
        cancels.push(s.cancelled);
        return Promise.resolve(responseWith(s.stream, {}));
      }
      case "/204":
        return Promise.resolve(responseWith(null, { status: 204 }, { "x-a": "1" }));
      case "/304": {
        const s = chunks("not sent");
        cancels.push(s.cancelled);
        return Promise.resolve(upstream(304, ["ETag", '"e"'], { body: s.stream }));
      }
      default:
        return Promise.resolve(responseWith(null, { status: 404 }));
    }
  }, (l) =>
    withClient(l, async (c) => {
      // Each answer is followed by the next one's status line right after its head: no stray bytes.
      await c.send(
        `HEAD /text HTTP/1.1\r\nHost: test\r\n\r\nHEAD /sized HTTP/1.1\r\nHost: test\r\n\r\n` +
          `HEAD /stream HTTP/1.1\r\nHost: test\r\n\r\n${get("/204")}${get("/304")}${
            get("/end", "Connection: close\r\n")
          }`,
      );
      const text = await c.response({ head: true });
      assert.equal(field(text, "content-length"), "6");
      const sized = await c.response({ head: true });
      assert.equal(field(sized, "content-length"), "10");
      const stream = await c.response({ head: true });
      assert.equal(field(stream, "content-length"), undefined);
      assert.equal(field(stream, "transfer-encoding"), undefined);
      const noContent = await c.response();
      assert.equal(noContent.status, 204);
      assert.equal(field(noContent, "x-a"), "1");
      assert.equal(field(noContent, "content-length"), undefined);
      assert.equal(field(noContent, "transfer-encoding"), undefined);
      const notModified = await c.response();
      assert.equal(notModified.status, 304);
      assert.equal(field(notModified, "etag"), '"e"');
      assert.equal(field(notModified, "transfer-encoding"), undefined);
      const end = await c.response();
      assert.equal(end.status, 404);
      assert.equal((await c.rest()).byteLength, 0);
    }));
  // The bodies that were not sent were let go.
  await Promise.all(cancels);
});

Deno.test("listenH1() streams a body: chunked without a length, sized with one, cut when it fails", async (t) => {
  const parts = ["first ", "sécond ", "", "third"];
  const expected = parts.join("");
  await withH1((req) => {
    const failing = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc.encode("partial"));
      },
      pull(c) {
        c.error(new Error("the body failed"));
      },
    });
    switch (req.target) {
      case "/chunked":
        return Promise.resolve(responseWith(chunks(...parts).stream, {}));
      case "/sized":
        return Promise.resolve(
          responseWith(chunks(...parts).stream, {}, { "content-length": String(enc.encode(expected).length) }),
        );
      case "/longer":
        return Promise.resolve(responseWith(chunks("hello", " world").stream, {}, { "content-length": "5" }));
      case "/fail-chunked":
        return Promise.resolve(responseWith(failing, {}));
      default:
        return Promise.resolve(responseWith(failing, {}, { "content-length": "100" }));
    }
  }, async (l) => {
    const base = `http://127.0.0.1:${l.addr.port}`;
    await t.step("chunked, decoded by curl", async () => {
      const r = await curl(["-sS", "--http1.1", "-D", "-", `${base}/chunked`]);
      assert.equal(r.code, 0, r.stderr);
      const [head, body] = r.stdout.split("\r\n\r\n");
      assert.match(head!, /\r\ntransfer-encoding: chunked(\r\n|$)/);
      assert.doesNotMatch(head!, /content-length/i);
      assert.equal(body, expected);
    });
    await t.step("chunked, on the wire: one chunk per part, empty parts skipped", () =>
      withClient(l, async (c) => {
        await c.send(get("/chunked", "Connection: close\r\n"));
        const raw = dec.decode(await c.rest());
        const body = raw.slice(raw.indexOf("\r\n\r\n") + 4);
        assert.equal(body, "6\r\nfirst \r\n8\r\nsécond \r\n5\r\nthird\r\n0\r\n\r\n");
      }));
    await t.step("sized by its content-length field", () =>
      withClient(l, async (c) => {
        await c.send(get("/sized"));
        const res = await c.response();
        assert.equal(field(res, "content-length"), String(enc.encode(expected).length));
        assert.equal(field(res, "transfer-encoding"), undefined);
        assert.equal(res.text, expected);
        await c.send(get("/sized"));
        assert.equal((await c.response()).text, expected);
      }));
    await t.step(
      "a body longer than its content-length: the announced bytes, then the end",
      () =>
        withClient(l, async (c) => {
          await c.send(get("/longer") + get("/sized"));
          const raw = dec.decode(await c.rest());
          assert.match(raw, /\r\ncontent-length: 5\r\n/);
          assert.ok(raw.endsWith("\r\n\r\nhello"), JSON.stringify(raw));
        }),
    );
    await t.step("a failing chunked body: the connection ends before the last chunk", () =>
      withClient(l, async (c) => {
        await c.send(get("/fail-chunked"));
        const raw = dec.decode(await c.rest());
        assert.match(raw, /^HTTP\/1\.1 200 OK\r\n/);
        assert.ok(raw.endsWith("\r\n\r\n7\r\npartial\r\n"), JSON.stringify(raw));
      }));
    await t.step(
      "a failing sized body: the connection ends before content-length bytes",
      () =>
        withClient(l, async (c) => {
          await c.send(get("/fail-sized"));
          const raw = dec.decode(await c.rest());
          assert.match(raw, /\r\ncontent-length: 100\r\n/);
          assert.ok(raw.endsWith("\r\n\r\npartial"), JSON.stringify(raw));
        }),
    );
    await t.step("curl reports the cut body as partial", async () => {
      const r = await curl(["-sS", "--http1.1", `${base}/fail-chunked`]);
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout, "partial");
    });
  });
});

Deno.test("listenH1() closes after a response when the client says connection: close", async () => {
  await withH1(echo, (l) =>
    withClient(l, async (c) => {
      await c.send(get("/bye", "Connection: keep-alive, close\r\n"));
      const res = await c.response();
      assert.equal(res.status, 200);
      assert.equal(field(res, "connection"), "close");
      assert.equal(JSON.parse(res.text).target, "/bye");
      assert.equal((await c.rest()).byteLength, 0);
    }));
});

Deno.test("listenH1() serves HTTP/1.0, bare LF heads, chunked and Expect uploads itself", async (t) => {
  const seen = (res: { text: string }) => JSON.parse(res.text);
  await withH1(
    echo,
    async (l) => {
      await t.step("HTTP/1.0: answered, then closed", () =>
        withClient(l, async (c) => {
          await c.send("GET /ten HTTP/1.0\r\nHost: test\r\n\r\n");
          const res = await c.response();
          assert.equal(res.status, 200);
          assert.equal(seen(res).target, "/ten");
          assert.equal(seen(res).port, c.port);
          assert.equal(field(res, "connection"), "close");
          assert.equal((await c.rest()).byteLength, 0);
        }));
      await t.step("HTTP/1.0 without Host", () =>
        withClient(l, async (c) => {
          await c.send("GET /nohost HTTP/1.0\r\n\r\n");
          assert.equal(seen(await c.response()).target, "/nohost");
        }));
      await t.step(
        "bare LF line ends (answered, not waited on until the idle timeout)",
        () =>
          withClient(l, async (c) => {
            await c.send("GET /lf HTTP/1.1\nHost: test\n\n");
            const res = await c.response();
            assert.equal(res.status, 200);
            assert.equal(seen(res).target, "/lf");
          }),
      );
      await t.step(
        "bare CR line ends: a 400, not a wait until the idle timeout",
        () =>
          withClient(l, async (c) => {
            await c.send("GET /cr HTTP/1.1\rHost: test\r\r");
            assert.equal((await c.response()).status, 400);
          }),
      );
      await t.step(
        "a chunked upload after a request of the fast path, on one connection, and requests pipelined behind",
        () =>
          withClient(l, async (c) => {
            await c.send(get("/fast"));
            const fast = seen(await c.response());
            assert.equal(fast.target, "/fast");
            await c.send(
              "POST /chunked HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-T: 1\r\n\r\n",
            );
            const up = await c.response();
            assert.equal(seen(up).length, 11);
            assert.equal(seen(up).sha, await sha256(enc.encode("hello world")));
            assert.equal(field(up, "connection"), undefined);
            await c.send(get("/again"));
            assert.equal(seen(await c.response()).target, "/again");
            await c.send(
              "POST /c2 HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n" +
                get("/behind") +
                "POST http://test/abs HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok" +
                "HEAD /h HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + get("/last"),
            );
            assert.equal(seen(await c.response()).sha, await sha256(enc.encode("hi")));
            assert.equal(seen(await c.response()).target, "/behind");
            let r = await c.response();
            if (r.status === 100) r = await c.response();
            assert.deepEqual([seen(r).target, seen(r).length], ["/abs", 2]);
            assert.equal((await c.response({ head: true })).status, 200);
            assert.equal(seen(await c.response()).target, "/last");
          }),
      );
      await t.step("a large chunked upload, in pieces", () =>
        withClient(l, async (c) => {
          const data = new Uint8Array(300_000).map((_, i) => i % 251);
          await c.send("PUT /big HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n");
          for (let i = 0; i < data.byteLength; i += 70_000) {
            const part = data.subarray(i, i + 70_000);
            await c.send(concat(enc.encode(`${part.byteLength.toString(16)}\r\n`), concat(part, enc.encode("\r\n"))));
          }
          await c.send("0\r\n\r\n");
          const res = seen(await c.response());
          assert.deepEqual([res.length, res.sha], [data.byteLength, await sha256(data)]);
        }));
      await t.step("bad chunk framing: 400, and the connection closes", () =>
        withClient(l, async (c) => {
          await c.send(
            "POST /bad HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n",
          );
          assert.equal((await c.response()).status, 400);
          assert.equal((await c.rest()).byteLength, 0);
        }));
      await t.step(
        "Expect: 100-continue on the wire: 100 before the body is sent, then the answer",
        () =>
          withClient(l, async (c) => {
            await c.send("POST /e HTTP/1.1\r\nHost: test\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
            assert.equal((await c.response({ head: true })).status, 100);
            await c.send("hello");
            const res = seen(await c.response());
            assert.deepEqual([res.target, res.length], ["/e", 5]);
          }),
      );
      await t.step("Expect: 100-continue (curl)", async () => {
        const r = await curl([
          "-sS",
          "--http1.1",
          "-H",
          "Expect: 100-continue",
          "--data-binary",
          "expected body",
          "-w",
          "\n%{local_port}",
          `http://127.0.0.1:${l.addr.port}/expect`,
        ]);
        assert.equal(r.code, 0, r.stderr);
        const [json, port] = r.stdout.split("\n");
        const res = JSON.parse(json!);
        assert.deepEqual([res.target, res.length, res.port], ["/expect", 13, Number(port)]);
      });
      await t.step("a head larger than 16 KiB is served; one larger than 64 KiB is answered 431", async () => {
        await withClient(l, async (c) => {
          await c.send(get("/big", `X-Big: ${"b".repeat(20_000)}\r\n`));
          const res = await c.response();
          assert.equal(JSON.parse(res.text).target, "/big");
        });
        await withClient(l, async (c) => {
          await c.send(get("/huge", `X-Big: ${"b".repeat(1 << 20)}\r\n`)).catch(() => {});
          assert.equal((await c.response()).status, 431);
        });
      });
      await t.step("garbage gets 400", () =>
        withClient(l, async (c) => {
          await c.send("garbage\x00\x01 garbage\r\n\r\n");
          const res = await c.response();
          assert.equal(res.status, 400);
        }));
    },
  );
});

Deno.test("listenH1() maxHeadSize bounds the head: 431 past it", () =>
  withH1(echo, async (l) => {
    await withClient(l, async (c) => {
      await c.send(get("/ok", `X-Big: ${"b".repeat(6_000)}\r\n`));
      assert.equal((await c.response()).status, 200);
    });
    await withClient(l, async (c) => {
      await c.send(get("/big", `X-Big: ${"b".repeat(10_000)}\r\n`)).catch(() => {});
      assert.equal((await c.response()).status, 431);
    });
  }, { maxHeadSize: 8192 }));

Deno.test("listenH1() answers HTTP/1.0 with a body of unknown length unframed, ended by the close", () =>
  withH1(
    () =>
      Promise.resolve(responseWith(
        new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(enc.encode("one,"));
            c.enqueue(enc.encode("two"));
            c.close();
          },
        }),
        { status: 200 },
      )),
    (l) =>
      withClient(l, async (c) => {
        await c.send("GET / HTTP/1.0\r\n\r\n");
        const all = dec.decode(await c.rest());
        assert.match(all, /^HTTP\/1\.1 200 OK\r\n/);
        assert.doesNotMatch(all, /transfer-encoding/i);
        assert.match(all, /connection: close\r\n/);
        assert.ok(all.endsWith("\r\n\r\none,two"), all);
      }),
  ));

/** Waits for `p`, failing after `ms` (a bound against a hang, not a timing check). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("listenH1() aborts the request signal when the client closes while the handler waits", async (t) => {
  const requests = [
    ["without a body", get("/wait")],
    ["after its body was read", "POST /wait HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello"],
    [
      "after a body larger than the buffer was read",
      `POST /wait HTTP/1.1\r\nHost: test\r\nContent-Length: 100000\r\n\r\n${"x".repeat(100_000)}`,
    ],
  ];
  for (const [name, request] of requests) {
    await t.step(name!, async () => {
      const [entered, aborted, released] = [
        Promise.withResolvers<void>(),
        Promise.withResolvers<unknown>(),
        Promise.withResolvers<void>(),
      ];
      await withH1(async (req) => {
        if (req.body) await new Response(req.body).arrayBuffer();
        entered.resolve();
        const signalled = new Promise((r) => req.signal.addEventListener("abort", r, { once: true }));
        await Promise.race([signalled, released.promise]);
        aborted.resolve(req.signal.reason);
        return responseWith("too late", {});
      }, async (l) => {
        const c = await Client.open(l.addr);
        try {
          await c.send(request!);
          await entered.promise;
          c.close();
          const reason = await within(aborted.promise, 10_000, "the signal");
          assert.ok(reason instanceof DOMException && reason.name === "AbortError", String(reason));
        } finally {
          released.resolve(); // a handler never aborted must not hold the shutdown
          c.close();
        }
      });
    });
  }
});

/** A handler that holds `/slow` until `gate` opens. */
function held(gate: Promise<void>, entered: { resolve(): void }) {
  const hold = async (target: string) => {
    if (target === "/slow") {
      entered.resolve();
      await gate;
    }
  };
  return {
    handler: (async (req) => {
      await hold(req.target);
      return responseWith(`done ${req.target}`, { status: 200 });
    }) satisfies WireHandler,
  };
}

/** Resolves once `resolve` was called `n` times. */
function count(n: number) {
  const all = Promise.withResolvers<void>();
  let seen = 0;
  return { promise: all.promise, resolve: () => void (++seen === n && all.resolve()) };
}

Deno.test("listenH1() shutdown(): idle connections close at once, requests in flight finish", async () => {
  const entered = count(2);
  const gate = Promise.withResolvers<void>();
  const fast = held(gate.promise, entered);
  const l = await listenH1({ hostname: "127.0.0.1", port: 0 }, fast.handler);
  const [idle, busy, upgradeBusy] = [await Client.open(l.addr), await Client.open(l.addr), await Client.open(l.addr)];
  const chunkedIdle = await Client.open(l.addr);
  let stopping: Promise<void> | undefined;
  try {
    await idle.send(get("/one"));
    assert.equal((await idle.response()).text, "done /one");
    // A chunked upload, served here: the connection is then an idle kept-alive one.
    await chunkedIdle.send("POST /chunked HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    assert.equal((await chunkedIdle.response()).text, "done /chunked");
    await busy.send(get("/slow"));
    // A WebSocket upgrade, served here too (answered without switching).
    await upgradeBusy.send(get("/slow", "Connection: upgrade, close\r\nUpgrade: websocket\r\n"));
    await entered.promise;
    stopping = l.shutdown();
    assert.equal((await idle.rest()).byteLength, 0);
    gate.resolve();
    const res = await busy.response();
    assert.equal(res.text, "done /slow");
    assert.equal(field(res, "connection"), "close");
    assert.equal((await busy.rest()).byteLength, 0);
    // An upgrade request in flight is not taken for an idle connection.
    assert.equal((await upgradeBusy.response()).text, "done /slow");
    assert.equal((await upgradeBusy.rest()).byteLength, 0);
    assert.equal((await chunkedIdle.rest()).byteLength, 0);
    await within(stopping, 10_000, "shutdown()");
    await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: l.addr.port }), Deno.errors.ConnectionRefused);
  } finally {
    gate.resolve();
    for (const c of [idle, busy, upgradeBusy, chunkedIdle]) c.close();
    await (stopping ?? l.shutdown());
  }
});

Deno.test("listenH1() closes idle connections after idleTimeout, not an upgrade request in flight", async () => {
  const [entered, gate] = [Promise.withResolvers<void>(), Promise.withResolvers<void>()];
  const { handler } = held(gate.promise, entered);
  await withH1(
    handler,
    async (l) => {
      // Opened first: the sweep that closes the idle ones would close this one too if it took it for idle.
      const upgradeBusy = await Client.open(l.addr);
      const used = await Client.open(l.addr);
      const silent = await Client.open(l.addr);
      try {
        await upgradeBusy.send(get("/slow", "Connection: upgrade, close\r\nUpgrade: websocket\r\n"));
        await entered.promise;
        await used.send(get("/once"));
        assert.equal((await used.response()).status, 200);
        // The bound is generous: the sweep runs once a second.
        assert.equal((await within(used.rest(), 10_000, "the idle close")).byteLength, 0);
        assert.equal((await within(silent.rest(), 10_000, "the idle close")).byteLength, 0);
        gate.resolve();
        assert.equal((await upgradeBusy.response()).text, "done /slow");
      } finally {
        gate.resolve();
        for (const c of [upgradeBusy, used, silent]) c.close();
      }
    },
    { idleTimeout: 1500 },
  );
});

Deno.test("listenH1() writes an upstream's answer: raw fields in order and case, hop-by-hop ones dropped", async (t) => {
  const raw = [
    "X-Upper",
    "A",
    "Connection",
    "keep-alive",
    "Keep-Alive",
    "timeout=5",
    "Transfer-Encoding",
    "chunked",
    "Content-Length",
    "999",
    "x-lower",
    "b",
    "Set-Cookie",
    "a=1",
    "Set-Cookie",
    "b=2",
    "Date",
    "Tue, 01 Jan 2030 00:00:00 GMT",
  ];
  const kept = [["X-Upper", "A"], ["x-lower", "b"], ["Set-Cookie", "a=1"], ["Set-Cookie", "b=2"], [
    "Date",
    "Tue, 01 Jan 2030 00:00:00 GMT",
  ]];
  await withH1((req) => {
    switch (req.target) {
      case "/whole":
        return Promise.resolve(upstream(201, raw, { whole: enc.encode("héllo"), statusText: "Made" }));
      case "/sized":
        return Promise.resolve(
          upstream(200, ["Content-Length", "11", "X-A", "1"], { body: chunks("hello", " world").stream }),
        );
      default:
        return Promise.resolve(upstream(201, ["X-A", "1"], { body: chunks("hello", " world").stream }));
    }
  }, (l) =>
    withClient(l, async (c) => {
      await t.step("a whole body: the real content-length, the upstream's date", async () => {
        await c.send(get("/whole"));
        const res = await c.response();
        assert.equal(res.status, 201);
        assert.equal(res.reason, "Made");
        assert.deepEqual(res.fields.filter(([n]) => n !== "content-length"), kept);
        assert.equal(field(res, "content-length"), "6");
        assert.equal(res.text, "héllo");
      });
      await t.step("a streamed body with the upstream's content-length", async () => {
        await c.send(get("/sized"));
        const res = await c.response();
        assert.equal(field(res, "content-length"), "11");
        assert.equal(field(res, "transfer-encoding"), undefined);
        assert.equal(field(res, "x-a"), "1");
        assert.match(field(res, "date") ?? "", DATE);
        assert.equal(res.text, "hello world");
      });
      await t.step("a streamed body without length: chunked, the reason phrase filled in", async () => {
        await c.send(get("/chunked"));
        const res = await c.response();
        assert.equal(res.reason, "Created");
        assert.equal(field(res, "transfer-encoding"), "chunked");
        assert.equal(res.text, "hello world");
      });
    }));
});
