/**
 * The HTTP/2 connection (connection.ts) against raw frames over a real socket: a request answered, each malformed case
 * (bad preface, frames on stream 0 or on idle streams, too-large frames, HPACK errors, malformed heads) and each defence
 * (rapid reset, CONTINUATION flood, SETTINGS and PING floods, a stalled window, an idle connection, a stalled request
 * body, too many streams).
 *
 * @module
 */
import assert from "node:assert/strict";
import { responseWith } from "../../http/response_build.ts";
import {
  CANCEL,
  COMPRESSION_ERROR,
  CONTINUATION,
  DATA,
  END_HEADERS,
  END_STREAM,
  ENHANCE_YOUR_CALM,
  FLOW_CONTROL_ERROR,
  frame,
  FRAME_SIZE_ERROR,
  GOAWAY,
  HEADERS,
  NO_ERROR,
  PING,
  PREFACE,
  PROTOCOL_ERROR,
  readUint32,
  REFUSED_STREAM,
  RST_STREAM,
  SETTINGS,
  SETTINGS_INITIAL_WINDOW_SIZE,
  uint32Payload,
} from "./frames.ts";
import { headersFrame, literalBlock, RawClient, type RawFrame, requestFields, serveEngine } from "./_raw_client.ts";
import type { H2Handler } from "./engine.ts";

const hello: H2Handler = (req) => responseWith(`hello ${req.method} ${req.target}`, { status: 200 });

/** Runs `fn` against an engine serving `handler`. */
async function withEngine(
  handler: H2Handler,
  fn: (port: number) => Promise<void>,
  options: Parameters<typeof serveEngine>[1] = {},
): Promise<void> {
  const s = serveEngine(handler, options);
  try {
    await fn(s.port);
  } finally {
    await s.close();
  }
}

function rstCode(frames: RawFrame[], id: number): number {
  const f = frames.find((x) => x.type === RST_STREAM && x.stream === id);
  return f === undefined ? -1 : readUint32(f.payload, 0);
}

const decoder = new TextDecoder();

Deno.test("h2 connection: a raw GET is answered with HEADERS and DATA (END_STREAM), then another on the same connection", async () => {
  await withEngine(hello, async (port) => {
    const c = await RawClient.open(port);
    try {
      for (const id of [1, 3]) {
        await c.send(headersFrame(id, requestFields(`/x${id}`)));
        const frames = await c.until((f) => f.stream === id && (f.flags & END_STREAM) !== 0);
        const head = frames.find((f) => f.type === HEADERS && f.stream === id)!;
        const fields = c.fields(head);
        assert.equal(fields[0], ":status");
        assert.equal(fields[1], "200");
        assert.ok(fields.includes("content-length"));
        const body = frames.filter((f) => f.type === DATA && f.stream === id).map((f) => decoder.decode(f.payload));
        assert.equal(body.join(""), `hello GET /x${id}`);
      }
    } finally {
      c.close();
    }
  });
});

Deno.test("h2 connection: a bad preface gets GOAWAY PROTOCOL_ERROR", async () => {
  await withEngine(hello, async (port) => {
    const c = await RawClient.open(port, false);
    try {
      await c.send(new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"));
      assert.equal(await c.goawayCode(), PROTOCOL_ERROR);
    } finally {
      c.close();
    }
  });
});

for (
  const [name, bytes, code] of [
    ["DATA on stream 0", frame(DATA, 0, 0, new Uint8Array(3)), PROTOCOL_ERROR],
    ["HEADERS on stream 0", frame(HEADERS, END_HEADERS, 0, literalBlock(requestFields())), PROTOCOL_ERROR],
    ["RST_STREAM on stream 0", frame(RST_STREAM, 0, 0, uint32Payload(0)), PROTOCOL_ERROR],
    ["SETTINGS on a stream", frame(SETTINGS, 0, 1), PROTOCOL_ERROR],
    ["PING on a stream", frame(PING, 0, 1, new Uint8Array(8)), PROTOCOL_ERROR],
    ["DATA on an idle stream", frame(DATA, 0, 5, new Uint8Array(3)), PROTOCOL_ERROR],
    ["a frame larger than SETTINGS_MAX_FRAME_SIZE", frame(DATA, 0, 1, new Uint8Array(16385)), FRAME_SIZE_ERROR],
    ["a PING of 7 bytes", frame(PING, 0, 0, new Uint8Array(7)), FRAME_SIZE_ERROR],
    [
      "an HPACK error (index 0)",
      frame(HEADERS, END_HEADERS | END_STREAM, 1, new Uint8Array([0x80])),
      COMPRESSION_ERROR,
    ],
    ["a stream of even number", headersFrame(2, requestFields()), PROTOCOL_ERROR],
    ["a WINDOW_UPDATE of 0 on the connection", frame(0x8, 0, 0, uint32Payload(0)), PROTOCOL_ERROR],
    ["a CONTINUATION with no HEADERS", frame(CONTINUATION, END_HEADERS, 1, new Uint8Array(0)), PROTOCOL_ERROR],
  ] as const
) {
  Deno.test(`h2 connection: ${name} gets GOAWAY ${code}, and the engine serves the next connection`, async () => {
    await withEngine(hello, async (port) => {
      const c = await RawClient.open(port);
      try {
        await c.send(bytes);
        assert.equal(await c.goawayCode(), code);
        // The connection closes after its GOAWAY.
        await c.until(() => false, 3000);
      } finally {
        c.close();
      }
      const d = await RawClient.open(port);
      try {
        await d.send(headersFrame(1, requestFields()));
        const frames = await d.until((f) => f.stream === 1 && (f.flags & END_STREAM) !== 0);
        assert.ok(frames.some((f) => f.type === DATA && f.stream === 1));
      } finally {
        d.close();
      }
    });
  });
}

for (
  const [name, fields] of [
    ["an upper-case name", requestFields("/", "GET", ["X-Up", "1"])],
    ["a connection field", requestFields("/", "GET", ["connection", "keep-alive"])],
    ["transfer-encoding", requestFields("/", "GET", ["transfer-encoding", "chunked"])],
    ["te other than trailers", requestFields("/", "GET", ["te", "gzip"])],
    ["no :path", [":method", "GET", ":scheme", "http", ":authority", "a"]],
    ["an unknown pseudo-header", requestFields("/", "GET", [":protocol", "websocket"])],
    ["a pseudo-header after a regular field", ["x", "1", ...requestFields()]],
    ["a value with a line feed", requestFields("/", "GET", ["x", "a\nb"])],
    ["host differing from :authority", requestFields("/", "GET", ["host", "b.test"])],
    ["a space in :path", requestFields("/a b")],
    ["a control character in :path", requestFields("/a\u0001b")],
  ] as const
) {
  Deno.test(`h2 connection: a request with ${name} is reset PROTOCOL_ERROR, the connection goes on`, async () => {
    await withEngine(hello, async (port) => {
      const c = await RawClient.open(port);
      try {
        await c.send(headersFrame(1, fields), headersFrame(3, requestFields("/ok")));
        const frames = await c.until((f) => f.stream === 3 && (f.flags & END_STREAM) !== 0);
        assert.equal(rstCode(frames, 1), PROTOCOL_ERROR);
        assert.ok(frames.some((f) => f.type === DATA && f.stream === 3));
      } finally {
        c.close();
      }
    });
  });
}

Deno.test("h2 connection: DATA longer or shorter than the content-length resets the stream PROTOCOL_ERROR", async () => {
  await withEngine(async (req) => {
    await new Response(req.body).arrayBuffer().catch(() => {});
    return responseWith("read", {});
  }, async (port) => {
    const c = await RawClient.open(port);
    try {
      await c.send(
        headersFrame(1, requestFields("/", "POST", ["content-length", "3"]), false),
        frame(DATA, END_STREAM, 1, new Uint8Array(5)),
        headersFrame(3, requestFields("/", "POST", ["content-length", "9"]), false),
        frame(DATA, END_STREAM, 3, new Uint8Array(2)),
      );
      const frames = await c.until((f) => rstCode([f], 3) >= 0 || (f.stream === 3 && (f.flags & END_STREAM) !== 0));
      assert.equal(rstCode(frames, 1), PROTOCOL_ERROR);
      assert.equal(rstCode(frames, 3), PROTOCOL_ERROR);
    } finally {
      c.close();
    }
  });
});

Deno.test("h2 connection: CONNECT is answered 405", async () => {
  await withEngine(hello, async (port) => {
    const c = await RawClient.open(port);
    try {
      await c.send(headersFrame(1, [":method", "CONNECT", ":authority", "a.test:443"]));
      const frames = await c.until((f) => f.stream === 1 && (f.flags & END_STREAM) !== 0);
      assert.equal(c.fields(frames.find((f) => f.type === HEADERS)!)[1], "405");
    } finally {
      c.close();
    }
  });
});

Deno.test("h2 connection: a header list larger than h2_max_header_list_size gets 431", async () => {
  await withEngine(hello, async (port) => {
    const c = await RawClient.open(port);
    try {
      await c.send(headersFrame(1, requestFields("/", "GET", ["x-big", "a".repeat(3000)])));
      const frames = await c.until((f) => f.stream === 1 && (f.flags & END_STREAM) !== 0);
      assert.equal(c.fields(frames.find((f) => f.type === HEADERS)!)[1], "431");
    } finally {
      c.close();
    }
  }, { settings: { maxHeaderListSize: 2048 } });
});

Deno.test("h2 connection: streams past h2_max_concurrent_streams are refused (REFUSED_STREAM)", async () => {
  const release = Promise.withResolvers<void>();
  await withEngine(async () => {
    await release.promise;
    return responseWith("late", {});
  }, async (port) => {
    const c = await RawClient.open(port);
    try {
      await c.send(
        headersFrame(1, requestFields()),
        headersFrame(3, requestFields()),
        headersFrame(5, requestFields()),
      );
      const frames = await c.until((f) => f.type === RST_STREAM);
      assert.equal(rstCode(frames, 5), REFUSED_STREAM);
      release.resolve();
      const rest = await c.until((f) => f.stream === 3 && (f.flags & END_STREAM) !== 0);
      assert.ok(rest.some((f) => f.type === DATA && f.stream === 1));
    } finally {
      release.resolve();
      c.close();
    }
  }, { settings: { maxConcurrentStreams: 2 } });
});

Deno.test("h2 connection: rapid reset (HEADERS then RST_STREAM, again and again) gets GOAWAY ENHANCE_YOUR_CALM", async () => {
  const hold = Promise.withResolvers<void>();
  await withEngine(async () => {
    await hold.promise;
    return responseWith("never", {});
  }, async (port) => {
    const c = await RawClient.open(port);
    try {
      const parts: Uint8Array[] = [];
      for (let id = 1; id < 2000; id += 2) {
        parts.push(headersFrame(id, requestFields()), frame(RST_STREAM, 0, id, uint32Payload(CANCEL)));
      }
      await c.send(...parts);
      assert.equal(await c.goawayCode(), ENHANCE_YOUR_CALM);
    } finally {
      hold.resolve();
      c.close();
    }
  });
});

Deno.test("h2 connection: a CONTINUATION flood gets GOAWAY ENHANCE_YOUR_CALM (large frames, and empty ones)", async () => {
  await withEngine(hello, async (port) => {
    for (const size of [16384, 0]) {
      const c = await RawClient.open(port);
      try {
        const parts = [frame(HEADERS, END_STREAM, 1, literalBlock(requestFields()))];
        for (let i = 0; i < 200; i++) parts.push(frame(CONTINUATION, 0, 1, new Uint8Array(size)));
        await c.send(...parts).catch(() => {});
        assert.equal(await c.goawayCode(), ENHANCE_YOUR_CALM);
      } finally {
        c.close();
      }
    }
  });
});

for (
  const [name, one] of [["PING", frame(PING, 0, 0, new Uint8Array(8))], ["SETTINGS", frame(SETTINGS, 0, 0)]] as const
) {
  Deno.test(`h2 connection: a ${name} flood whose acknowledgements pile up gets GOAWAY ENHANCE_YOUR_CALM`, async () => {
    await withEngine(hello, async (port) => {
      const c = await RawClient.open(port);
      try {
        const parts: Uint8Array[] = [];
        for (let i = 0; i < 20000; i++) parts.push(one);
        await c.send(...parts).catch(() => {});
        assert.equal(await c.goawayCode(), ENHANCE_YOUR_CALM);
      } finally {
        c.close();
      }
    });
  });
}

Deno.test("h2 connection: DATA beyond the connection window gets GOAWAY FLOW_CONTROL_ERROR", async () => {
  await withEngine(() => new Promise(() => {}), async (port) => {
    const c = await RawClient.open(port);
    try {
      const parts = [headersFrame(1, requestFields("/", "POST"), false)];
      for (let i = 0; i < 5; i++) parts.push(frame(DATA, 0, 1, new Uint8Array(16384)));
      await c.send(...parts).catch(() => {});
      assert.equal(await c.goawayCode(), FLOW_CONTROL_ERROR);
    } finally {
      c.close();
    }
  });
});

Deno.test("h2 connection: a response held by a zero window is reset (CANCEL) after downstream_write_timeout", async () => {
  await withEngine(() => responseWith("x".repeat(1000), {}), async (port) => {
    const c = await RawClient.open(port, true, [SETTINGS_INITIAL_WINDOW_SIZE, 0]);
    try {
      await c.send(headersFrame(1, requestFields()));
      const frames = await c.until((f) => f.type === RST_STREAM, 5000);
      assert.equal(rstCode(frames, 1), CANCEL);
      assert.ok(!frames.some((f) => f.type === DATA && f.payload.byteLength > 0));
    } finally {
      c.close();
    }
  }, { writeTimeout: 300 });
});

Deno.test("h2 connection: a connection with no stream for h2_idle_timeout gets GOAWAY NO_ERROR and is closed", async () => {
  await withEngine(hello, async (port) => {
    const c = await RawClient.open(port);
    try {
      await c.send(headersFrame(1, requestFields()));
      await c.until((f) => f.stream === 1 && (f.flags & END_STREAM) !== 0);
      assert.equal(await c.goawayCode(5000), NO_ERROR);
      assert.equal(await c.next(3000), null);
    } finally {
      c.close();
    }
  }, { h2IdleTimeout: 300 });
});

Deno.test("h2 connection: a request body that stalls is reset (CANCEL) after downstream_read_timeout", async () => {
  const failed = Promise.withResolvers<string>();
  await withEngine(async (req) => {
    try {
      await new Response(req.body).arrayBuffer();
      failed.resolve("read whole");
    } catch (e) {
      failed.resolve(String(e));
    }
    return responseWith("done", {});
  }, async (port) => {
    const c = await RawClient.open(port);
    try {
      await c.send(headersFrame(1, requestFields("/", "POST"), false), frame(DATA, 0, 1, new Uint8Array(10)));
      const frames = await c.until((f) => f.type === RST_STREAM, 5000);
      assert.equal(rstCode(frames, 1), CANCEL);
      assert.notEqual(await failed.promise, "read whole");
    } finally {
      c.close();
    }
  }, { idleTimeout: 300 });
});

Deno.test("h2 connection: the request body is read with the window given back as it is consumed (256 KiB in 64 KiB windows)", async () => {
  await withEngine(async (req) => {
    const body = new Uint8Array(await new Response(req.body).arrayBuffer());
    let sum = 0;
    for (const b of body) sum += b;
    return responseWith(`${body.byteLength} ${sum}`, {});
  }, async (port) => {
    const c = await RawClient.open(port);
    try {
      await c.send(headersFrame(1, requestFields("/", "POST"), false));
      let window = 65535, stream = 65535, left = 256 * 1024;
      const chunk = new Uint8Array(16384).fill(1);
      let answer = "";
      while (left > 0 || answer === "") {
        while (left > 0 && window > 0 && stream > 0) {
          const n = Math.min(left, window, stream, chunk.byteLength);
          left -= n;
          window -= n;
          stream -= n;
          await c.send(frame(DATA, left === 0 ? END_STREAM : 0, 1, chunk.subarray(0, n)));
        }
        const f = await c.next(5000);
        assert.ok(f !== null, "the server gave no window back");
        if (f.type === SETTINGS && (f.flags & 1) === 0) await c.send(frame(SETTINGS, 1, 0));
        if (f.type === 0x8) {
          const inc = readUint32(f.payload, 0);
          if (f.stream === 0) window += inc;
          else stream += inc;
        }
        if (f.type === DATA) answer += decoder.decode(f.payload);
        if (f.type === GOAWAY || f.type === RST_STREAM) assert.fail(`got frame ${f.type}`);
      }
      assert.equal(answer, `${256 * 1024} ${256 * 1024}`);
    } finally {
      c.close();
    }
  });
});

Deno.test("h2 connection: the preface split over many writes is read", async () => {
  await withEngine(hello, async (port) => {
    const c = await RawClient.open(port, false);
    try {
      for (const b of PREFACE) await c.send(new Uint8Array([b]));
      await c.send(frame(SETTINGS, 0, 0), headersFrame(1, requestFields()));
      const frames = await c.until((f) => f.stream === 1 && (f.flags & END_STREAM) !== 0);
      assert.ok(frames.some((f) => f.type === DATA));
    } finally {
      c.close();
    }
  });
});

Deno.test("h2 connection: shutdown sends GOAWAY with the last stream, ignores later streams, lets the open one finish, then closes", async () => {
  const release = Promise.withResolvers<void>();
  const started = Promise.withResolvers<void>();
  const s = serveEngine(async () => {
    started.resolve();
    await release.promise;
    return responseWith("late", {});
  });
  const c = await RawClient.open(s.port);
  try {
    await c.send(headersFrame(1, requestFields()));
    await started.promise;
    const down = s.engine.shutdown(5000);
    const before = await c.until((f) => f.type === GOAWAY);
    const goaway = before.at(-1)!;
    assert.equal(readUint32(goaway.payload, 0), 1);
    assert.equal(readUint32(goaway.payload, 4), NO_ERROR);
    await c.send(headersFrame(3, requestFields()));
    release.resolve();
    const after = await c.until(() => false, 3000);
    assert.equal(decoder.decode(after.find((f) => f.type === DATA && f.stream === 1)!.payload), "late");
    assert.ok(!after.some((f) => f.stream === 3), "the stream after GOAWAY is not served");
    await down;
    assert.equal(s.engine.sessions, 0);
  } finally {
    release.resolve();
    c.close();
    await s.close();
  }
});

Deno.test("h2 connection: an answer that ends before the request body resets the stream NO_ERROR and ends the handler's read", async () => {
  const read = Promise.withResolvers<string>();
  await withEngine((req) => {
    // Answers at once, then reads the body the client still sends.
    queueMicrotask(async () => {
      try {
        await new Response(req.body).arrayBuffer();
        read.resolve("read whole");
      } catch (e) {
        read.resolve(`failed: ${(e as Error).name}`);
      }
    });
    return responseWith("early", { status: 413 });
  }, async (port) => {
    const c = await RawClient.open(port);
    try {
      await c.send(headersFrame(1, requestFields("/", "POST"), false), frame(DATA, 0, 1, new Uint8Array(10)));
      const frames = await c.until((f) => f.type === RST_STREAM);
      assert.equal(rstCode(frames, 1), NO_ERROR);
      assert.equal(c.fields(frames.find((f) => f.type === HEADERS)!)[1], "413");
      assert.match(await read.promise, /^failed/);
    } finally {
      c.close();
    }
  });
});

Deno.test("h2 connection: expect: 100-continue gets an interim 100 once the handler reads the body, then the answer", async () => {
  await withEngine(async (req) => {
    const body = await new Response(req.body).text();
    return responseWith(`got ${body}`, {});
  }, async (port) => {
    const c = await RawClient.open(port);
    try {
      await c.send(headersFrame(1, requestFields("/", "POST", ["expect", "100-continue"]), false));
      const interim = await c.until((f) => f.type === HEADERS && f.stream === 1);
      const head = c.fields(interim.at(-1)!);
      assert.deepEqual(head, [":status", "100"]);
      assert.equal(interim.at(-1)!.flags & END_STREAM, 0);
      await c.send(frame(DATA, END_STREAM, 1, new TextEncoder().encode("abc")));
      const rest = await c.until((f) => f.stream === 1 && (f.flags & END_STREAM) !== 0);
      assert.equal(c.fields(rest.find((f) => f.type === HEADERS)!)[1], "200");
      assert.equal(decoder.decode(rest.find((f) => f.type === DATA)!.payload), "got abc");
    } finally {
      c.close();
    }
  });
});

Deno.test("h2 connection: a response keeps to the client's windows and SETTINGS_MAX_FRAME_SIZE", async () => {
  const big = new Uint8Array(100_000).fill(7);
  await withEngine(() => responseWith(big, {}), async (port) => {
    // Default windows (65535): exactly that much comes, then the rest once the client opens them.
    const c = await RawClient.open(port);
    try {
      await c.send(headersFrame(1, requestFields()));
      let got = 0;
      const frames = await c.until((f) => f.type === DATA && (got += f.payload.byteLength) >= 65535, 3000);
      assert.equal(got, 65535);
      assert.ok(frames.filter((f) => f.type === DATA).every((f) => f.payload.byteLength <= 16384));
      assert.equal(await c.next(300), null, "nothing more while the windows are closed");
      await c.send(frame(0x8, 0, 0, uint32Payload(100_000)), frame(0x8, 0, 1, uint32Payload(100_000)));
      await c.until((f) => f.type === DATA && (got += f.payload.byteLength) >= 100_000 && (f.flags & END_STREAM) !== 0);
      assert.equal(got, 100_000);
    } finally {
      c.close();
    }
    // A larger frame size and windows: frames up to 20000 bytes.
    const d = await RawClient.open(port, true, [SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20, 0x5, 20000]);
    try {
      await d.send(frame(0x8, 0, 0, uint32Payload(1 << 20)), headersFrame(1, requestFields()));
      const frames = await d.until((f) => f.type === DATA && (f.flags & END_STREAM) !== 0);
      const sizes = frames.filter((f) => f.type === DATA).map((f) => f.payload.byteLength);
      assert.equal(sizes.reduce((a, b) => a + b, 0), 100_000);
      assert.equal(Math.max(...sizes), 20000);
    } finally {
      d.close();
    }
  });
});

Deno.test("h2 connection: client SETTINGS at their extremes (table size 2^32-1, table 0, frame size 2^24-1) are taken", async () => {
  await withEngine(hello, async (port) => {
    for (const settings of [[0x1, 0xffffffff], [0x1, 0], [0x5, 16777215, 0x4, 2 ** 31 - 1]]) {
      const c = await RawClient.open(port, true, settings);
      try {
        for (const id of [1, 3]) {
          await c.send(headersFrame(id, requestFields(`/t${id}`)));
          const frames = await c.until((f) => f.stream === id && (f.flags & END_STREAM) !== 0);
          assert.equal(
            decoder.decode(frames.find((f) => f.type === DATA && f.stream === id)!.payload),
            `hello GET /t${id}`,
          );
        }
      } finally {
        c.close();
      }
    }
  });
});

Deno.test("h2 connection: as on HTTP/1.1, a bad authority, a bad % escape, %00, a .. above the root, a GET body get 400; OPTIONS * 200", async () => {
  await withEngine(hello, async (port) => {
    const c = await RawClient.open(port);
    try {
      const cases = [
        [":method", "GET", ":scheme", "http", ":path", "/", ":authority", "a.test:80x"],
        [":method", "GET", ":scheme", "http", ":path", "/", ":authority", "a@b.test"],
        requestFields("/a%zz"),
        requestFields("/a%00"),
        requestFields("/../etc/passwd"),
        requestFields("/a/%2e%2e/%2e%2e/x"),
        requestFields("/", "GET", ["content-length", "5"]),
      ];
      let id = 1;
      for (const fields of cases) {
        await c.send(headersFrame(id, fields, !fields.includes("content-length")));
        const frames = await c.until((f) => f.stream === id && (f.flags & END_STREAM) !== 0 || f.type === RST_STREAM);
        const head = frames.find((f) => f.type === HEADERS && f.stream === id);
        assert.ok(head, `an answer to ${fields.join(" ")}`);
        assert.equal(c.fields(head)[1], "400", fields.join(" "));
        id += 2;
      }
      await c.send(headersFrame(id, requestFields("*", "OPTIONS")));
      const options = await c.until((f) => f.stream === id && (f.flags & END_STREAM) !== 0);
      assert.equal(c.fields(options.find((f) => f.type === HEADERS)!)[1], "200");
      id += 2;
      await c.send(headersFrame(id, requestFields("/a/../b%20c")));
      const ok = await c.until((f) => f.stream === id && (f.flags & END_STREAM) !== 0);
      assert.equal(c.fields(ok.find((f) => f.type === HEADERS)!)[1], "200");
    } finally {
      c.close();
    }
  });
});
