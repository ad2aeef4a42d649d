/**
 * The front-end matrix (issue 17): the same request set over h1, h1+TLS, h2+TLS and h2c, with real clients, against
 * one proxy process per column and real origins (matrix_support.ts). One `Deno.test` per column, one step per cell,
 * so a failing cell names its row and column. Rows: GET, POST with Content-Length, an upload of unknown length
 * (chunked on HTTP/1.1; on h2 a body without content-length in several DATA frames), `Expect: 100-continue`,
 * HTTP/1.0, WebSocket echo, a raw `x-echo` Upgrade (bytes after the 101), `Upgrade: h2c` (curl `--http2` on
 * `http://`: 101 then HTTP/2 on the h2c column, HTTP/1.1 on h1), gRPC unary with trailers, an h2load run,
 * slowloris cut by `downstream_read_timeout`, and last a request in flight drained by a stop (SIGTERM). A few cells
 * also check their access-log line (`{proto}`, `{payload_size}`, the TLS keys).
 *
 * Not applicable cells are steps with `ignore: true` whose name says why (HTTP/1.0 is no HTTP/2 request; gRPC needs
 * HTTP/2); so are the cells an engine cannot pass yet, the gap named in their name and beside their row
 * (`MATRIX_GAPS=1` in the environment runs them, to see which a change closed). WebSocket and raw Upgrade on the h2
 * columns go as HTTP/1.1 to the same `enabled_h2` listener (ALPN `http/1.1` over TLS, a plain Upgrade on the h2c
 * port): they prove the upgrade still works there.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import * as grpc from "@grpc/grpc-js";
import { makeTestPki, type TestPki } from "../_support/certs.ts";
import { type Child, spawnProxy } from "../_support/process.ts";
import { pollFor } from "../_support/poll.ts";
import { readToEnd } from "../_support/read_to_end.ts";
import type { Echo } from "../_support/origin.ts";
import { type EchoReply, type EchoRequest, echoService } from "../_support/grpc_echo.ts";
import { requireComponent } from "../components.ts";
import {
  type Column,
  COLUMNS,
  columnToml,
  connectTo,
  curlRun,
  curlTarget,
  H2_PREFACE,
  headersWithoutEnd,
  HOST,
  type MatrixOrigins,
  readUntil,
  startMatrixOrigins,
} from "./matrix_support.ts";

const h2load = await requireComponent("h2load", { binaries: ["h2load"], aptPackages: ["nghttp2-client"] });
const runGaps = Deno.env.get("MATRIX_GAPS") === "1";
const enc = new TextEncoder();
const dec = new TextDecoder();

/** What a cell gets. */
interface Cell {
  readonly column: Column;
  readonly port: number;
  readonly pki: TestPki;
  readonly origins: MatrixOrigins;
  readonly child: Child;
  /** curl arguments reaching `path` with the column's protocol. */
  target(path: string): string[];
  /** The access-log line of `path` once written: `[proto, payload_size, tls_version, tls_cipher]`. */
  logOf(path: string): Promise<string[]>;
}

/** A row: its name, why it does not apply to a column (or undefined), a gap of the engine (ignored), its run. */
interface Row {
  readonly name: string;
  readonly notApplicable?: (c: Column) => string | undefined;
  /** What the name says more on a column (how the cell is reached there). */
  readonly label?: (c: Column) => string | undefined;
  readonly gap?: (c: Column) => string | undefined;
  readonly run: (cell: Cell) => Promise<void>;
}

const proto = (c: Column) => c.h2 ? "HTTP/2.0" : "HTTP/1.1";

/** The TLS keys of a log line: filled on TLS columns, `-` (or empty) on plain ones. */
function assertTlsKeys(c: Column, version: string | undefined, cipher: string | undefined): void {
  if (c.tls) {
    assert.match(version ?? "", /^TLSv1\.[23]$/, "{:tls_version}");
    assert.match(cipher ?? "", /^[A-Z0-9_-]{8,}$/, "{:tls_cipher}");
  } else {
    assert.ok(!version || version === "-", `no {:tls_version} on a plain column: ${version}`);
  }
}

/** Bytes 0..255 repeated to `n`. */
const bytes = (n: number) => new Uint8Array(n).map((_, i) => i % 251);

interface EchoClient extends grpc.Client {
  echo(req: EchoRequest, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, reply?: EchoReply) => void): void;
}
const EchoClientCtor = grpc.makeGenericClientConstructor(echoService, "Echo") as unknown as new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ChannelOptions,
) => EchoClient;

const ROWS: readonly Row[] = [
  {
    name: "GET",
    async run(x) {
      const r = await curlRun(x.target("/get?q=1"));
      assert.equal(r.code, 0, r.verbose);
      assert.equal(r.status, 200);
      assert.equal(r.version, x.column.h2 ? "2" : "1.1");
      const echo = JSON.parse(r.body) as Echo;
      assert.equal(echo.method, "GET");
      assert.equal(echo.path, "/get");
      assert.equal(echo.query, "q=1");
      const [p, size, version, cipher] = await x.logOf("/get");
      assert.equal(p, proto(x.column), "{proto}");
      assert.equal(size, "0", "{payload_size}");
      assertTlsKeys(x.column, version, cipher);
    },
  },
  {
    name: "POST with Content-Length",
    async run(x) {
      const file = await Deno.makeTempFile();
      try {
        await Deno.writeFile(file, bytes(100_000));
        const r = await curlRun([...x.target("/post-sized"), "--data-binary", `@${file}`]);
        assert.equal(r.status, 200, r.verbose);
        assert.match(r.verbose, /^> content-length: 100000\r?$/im, "curl sent a content-length");
        const echo = JSON.parse(r.body) as Echo;
        assert.equal(echo.method, "POST");
        assert.equal(echo.bodyLength, 100_000);
        const [p, size] = await x.logOf("/post-sized");
        assert.equal(p, proto(x.column));
        assert.equal(size, "100000", "{payload_size} is the bytes posted");
      } finally {
        await Deno.remove(file);
      }
    },
  },
  {
    name: "POST of unknown length (h1: chunked; h2: no content-length, several DATA frames)",
    async run(x) {
      // curl -T - reads stdin as it comes: chunked on HTTP/1.1, DATA frames of at most 16 KiB on h2.
      const parts = [bytes(30_000), bytes(30_000), bytes(10_007)];
      const r = await curlRun([...x.target("/post-stream"), "-X", "POST", "-T", "-"], parts);
      assert.equal(r.status, 200, r.verbose);
      const sent = r.verbose.split("\n").filter((l) => l.startsWith("> ")).join("\n");
      assert.doesNotMatch(sent, /content-length/i, "curl sent no content-length");
      if (!x.column.h2) assert.match(sent, /^> transfer-encoding: chunked\r?$/im);
      const echo = JSON.parse(r.body) as Echo;
      assert.equal(echo.bodyLength, 70_007);
      assert.equal((await x.logOf("/post-stream"))[0], proto(x.column), "{proto}");
    },
  },
  {
    name: "access log of the upload of unknown length: {payload_size} is the bytes read",
    async run(x) {
      const [, size] = await x.logOf("/post-stream");
      assert.equal(size, "70007", "{payload_size} counts the streamed body");
    },
  },
  {
    name: "Expect: 100-continue",
    async run(x) {
      // curl waits up to 15 s for the 100 before it sends the body; the 100 shows in its output.
      const r = await curlRun([
        ...x.target("/expect"),
        "-H",
        "Expect: 100-continue",
        "--expect100-timeout",
        "15",
        "--data-binary",
        "hello expect",
      ]);
      assert.equal(r.status, 200, r.verbose);
      assert.match(r.statusLines[0] ?? "", /^HTTP\/[\d.]+ 100\b/, `a 100 came first: ${r.statusLines.join(" | ")}`);
      assert.equal((JSON.parse(r.body) as Echo).bodyLength, 12);
    },
  },
  {
    name: "HTTP/1.0",
    label: (c) =>
      c.tls && !c.h2 ? "(curl --no-alpn, as HTTP/1.0 clients offer none; ALPN http/1.0: next row)" : undefined,
    notApplicable: (c) =>
      c.h2 ? "not applicable: an HTTP/2 column's requests are HTTP/2 (HTTP/1.0 is in the h1 columns)" : undefined,
    async run(x) {
      const args = x.target("/ten");
      args.splice(0, 1, "--http1.0", ...(x.column.tls ? ["--no-alpn"] : []));
      const r = await curlRun(args);
      assert.equal(r.status, 200, r.verbose);
      assert.equal((JSON.parse(r.body) as Echo).path, "/ten");
      const [p, size, version, cipher] = await x.logOf("/ten");
      assert.equal(p, "HTTP/1.0", "{proto}");
      assert.equal(size, "0");
      assertTlsKeys(x.column, version, cipher);
    },
  },
  {
    name: "TLS with ALPN http/1.0 (what curl --http1.0 offers)",
    notApplicable: (c) => c.tls ? undefined : "not applicable: no TLS, no ALPN",
    async run(x) {
      const args = x.target("/ten-alpn");
      args.splice(0, 1, "--http1.0");
      const r = await curlRun(args);
      assert.equal(r.status, 200, r.verbose);
      assert.equal((await x.logOf("/ten-alpn"))[0], "HTTP/1.0", "{proto}");
    },
  },
  {
    name: "WebSocket echo",
    label: (c) =>
      c.h2
        ? `as HTTP/1.1 on the enabled_h2 listener (${c.tls ? "ALPN http/1.1" : "plain Upgrade on the h2c port"})`
        : undefined,
    async run(x) {
      const client = x.column.tls ? Deno.createHttpClient({ caCerts: [x.pki.ca.cert] }) : undefined;
      const url = x.column.tls ? `wss://localhost:${x.port}/ws/echo` : `ws://127.0.0.1:${x.port}/ws/echo`;
      // Deno's options form (`client` with the test CA) is typed under --unstable-net only; `deno check` runs without.
      const ws = new WebSocket(url, (client ? { client } : {}) as unknown as string[]);
      ws.binaryType = "arraybuffer";
      try {
        await new Promise<void>((resolve, reject) => {
          ws.onopen = () => resolve();
          ws.onerror = (e) => reject(new Error(`websocket failed: ${(e as ErrorEvent).message}`));
        });
        const next = () => new Promise<unknown>((resolve) => ws.onmessage = (e) => resolve(e.data));
        let reply = next();
        ws.send("hello");
        assert.equal(await reply, "echo:hello");
        reply = next();
        ws.send(bytes(70_000));
        assert.deepEqual(new Uint8Array(await reply as ArrayBuffer), bytes(70_000));
        const closed = new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
        ws.close(1000, "done");
        assert.equal((await closed).code, 1000);
      } finally {
        if (ws.readyState !== WebSocket.CLOSED) ws.close();
        client?.close();
      }
    },
  },
  {
    name: "raw Upgrade (x-echo): bytes after the 101 come back",
    label: (c) =>
      c.h2
        ? `as HTTP/1.1 on the enabled_h2 listener (${c.tls ? "ALPN http/1.1" : "plain Upgrade on the h2c port"})`
        : undefined,
    async run(x) {
      const conn = await connectTo(x.port, x.column.tls ? { ca: x.pki.ca.cert, alpn: "http/1.1" } : undefined);
      try {
        await conn.write(
          enc.encode(`GET /raw HTTP/1.1\r\nHost: ${HOST}\r\nConnection: Upgrade\r\nUpgrade: x-echo\r\n\r\nearly`),
        );
        const got = await readUntil(conn, (t) => t.includes("\r\n\r\n") && t.endsWith("early"));
        assert.match(got, /^HTTP\/1\.1 101 /);
        assert.match(got, /\r\nupgrade: x-echo\r\n/i);
        const payload = bytes(50_000);
        await conn.write(payload);
        const back = new Uint8Array(payload.byteLength);
        for (let n = 0; n < back.byteLength;) {
          const m = await conn.read(back.subarray(n));
          assert.ok(m !== null, "the echo ended early");
          n += m;
        }
        assert.deepEqual(back, payload);
      } finally {
        conn.close();
      }
    },
  },
  {
    name: "Upgrade: h2c (curl --http2 on http://)",
    label: (c) =>
      c.tls ? undefined : c.h2 ? "(101, then the answer over HTTP/2)" : "(no enabled_h2: served as HTTP/1.1)",
    notApplicable: (c) =>
      c.tls
        ? "not applicable: h2c is for cleartext (over TLS it is ignored: tests/runtime/h2c_upgrade_test.ts)"
        : undefined,
    async run(x) {
      const r = await curlRun(["--http2", `http://127.0.0.1:${x.port}/h2c-upgrade`]);
      assert.equal(r.code, 0, r.verbose);
      assert.equal(r.status, 200, r.verbose);
      assert.match(r.verbose, /^> Upgrade: h2c\r?$/im, "curl asked for the upgrade");
      if (x.column.h2) assert.match(r.statusLines[0] ?? "", /^HTTP\/1\.1 101 /, r.statusLines.join(" | "));
      else assert.equal(r.statusLines.length, 1, r.statusLines.join(" | "));
      assert.equal(r.version, x.column.h2 ? "2" : "1.1");
      const echo = JSON.parse(r.body) as Echo;
      assert.equal(echo.path, "/h2c-upgrade");
      assert.equal(echo.headers["upgrade"], undefined, "the upstream sees no Upgrade");
      assert.equal(echo.headers["http2-settings"], undefined, "the upstream sees no HTTP2-Settings");
      assert.equal((await x.logOf("/h2c-upgrade"))[0], proto(x.column), "{proto}");
    },
  },
  {
    name: "gRPC unary with trailers (@grpc/grpc-js)",
    notApplicable: (c) => c.h2 ? undefined : "not applicable: gRPC needs HTTP/2 (the h2 columns cover it)",
    async run(x) {
      const client = x.column.tls
        ? new EchoClientCtor(
          `127.0.0.1:${x.port}`,
          grpc.credentials.createSsl(Buffer.from(x.pki.ca.cert)),
          { "grpc.ssl_target_name_override": HOST, "grpc.default_authority": HOST },
        )
        : new EchoClientCtor(`127.0.0.1:${x.port}`, grpc.credentials.createInsecure());
      try {
        const status = Promise.withResolvers<grpc.StatusObject>();
        const md = new grpc.Metadata();
        md.set("x-client-meta", "m1");
        const reply = await new Promise<EchoReply | undefined>((resolve, reject) => {
          const call = client.echo({ message: "hi" }, md, (e, r) => e ? reject(e) : resolve(r));
          (call as unknown as grpc.ClientUnaryCall).on("status", status.resolve);
        });
        assert.equal(reply?.message, "hi");
        assert.deepEqual(reply?.meta, ["m1"]);
        const s = await status.promise;
        assert.equal(s.code, grpc.status.OK);
        assert.deepEqual(s.metadata.get("x-origin-trailer"), ["t1"], "the origin's trailer reached the client");
      } finally {
        client.close();
      }
    },
  },
  {
    name: "h2load load (--h1 on h1 columns): every request answered",
    gap: () => h2load ? undefined : "h2load is not installed",
    async run(x) {
      const url = `${x.column.tls ? "https" : "http"}://127.0.0.1:${x.port}/load`;
      const out = await new Deno.Command(h2load!.h2load, {
        // h2: 10 streams a connection; h1: one request at a time (more would pipeline, which h1_pipelining's default,
        // false as Pingap's, answers with one response and a close: tests/runtime/h1_pipelining_test.ts).
        args: [...(x.column.h2 ? ["-m", "10"] : ["--h1", "-m", "1"]), "-n", "300", "-c", "4", url],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = dec.decode(out.stdout);
      assert.match(text, x.column.h2 ? /Application protocol: h2c?\b/ : /Application protocol: http\/1\.1/, text);
      assert.match(text, /300 succeeded/, text);
      assert.match(text, /status codes: 300 2xx/, text);
    },
  },
  {
    name: "slowloris cut by downstream_read_timeout (2s)",
    async run(x) {
      const tls = x.column.tls ? { ca: x.pki.ca.cert, alpn: x.column.h2 ? "h2" : "http/1.1" } : undefined;
      // Two clients at once: h1 half a head, then silence; h2 the preface, then a HEADERS frame without
      // END_HEADERS and never its CONTINUATION, or nothing at all after the preface.
      const clients: [string, Uint8Array][] = x.column.h2
        ? [
          ["HEADERS without END_HEADERS", new Uint8Array([...H2_PREFACE, ...headersWithoutEnd(x.column.tls)])],
          ["nothing after the preface", H2_PREFACE],
        ]
        : [["half a head", enc.encode(`GET /slow HTTP/1.1\r\nHost: ${HOST}\r\nx-a: b\r\n`)]];
      await Promise.all(clients.map(async ([what, first]) => {
        const conn = await connectTo(x.port, tls);
        await conn.write(first);
        // -1: still open after 15 s (the timeout is 2 s, checked once a second).
        assert.notEqual(await readToEnd(conn, 15_000), -1, `${what}: the proxy closed the connection`);
      }));
    },
  },
  {
    name: "a request in flight is drained by a stop (SIGTERM), then the proxy exits 0",
    async run(x) {
      const before = x.origins.held();
      const answer = curlRun(x.target("/hold"));
      await pollFor("the held request at the origin", () => Promise.resolve(x.origins.held() > before || undefined));
      const stopped = x.child.stop();
      await x.child.waitFor(/SIGTERM, shutting down/);
      // The stop waits for quiet at most grace_period (1s), then stops the listeners: their listening socket closes
      // first, and their connections drain. The held request is let go only then, so the listener's own drain (not
      // the wait for quiet) is what must carry it.
      await pollFor("the listening socket closed", async () => {
        try {
          (await Deno.connect({ hostname: "127.0.0.1", port: x.port })).close();
          return undefined;
        } catch {
          return true;
        }
      });
      x.origins.release();
      const r = await answer;
      assert.equal(r.status, 200, r.verbose);
      assert.equal(r.body, "held");
      assert.equal(await stopped, 0);
    },
  },
];

for (const column of COLUMNS) {
  Deno.test({
    name: `front-end matrix: column ${column.name}`,
    // The proxy runs in its own process for the whole column; grpc-js keeps timers past a client's close.
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const pki = await makeTestPki([{ name: HOST, dns: [HOST, "localhost"] }]);
      const origins = await startMatrixOrigins();
      const { child, port, file } = await spawnProxy(columnToml(column, origins, pki), ["--access-log"]);
      const cell: Cell = {
        column,
        port,
        pki,
        origins,
        child,
        target: (path) => curlTarget(column, port, path, pki.ca.certFile),
        async logOf(path) {
          const re = new RegExp(`^[A-Z]+@${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} (.*)\\|$`, "m");
          const m = await pollFor(
            `the access-log line of ${path}`,
            () => Promise.resolve(child.output().match(re) ?? undefined),
          );
          return m[1]!.split(" ");
        },
      };
      try {
        for (const row of ROWS) {
          const na = row.notApplicable?.(column);
          // MATRIX_GAPS=1 runs the gap cells too (to see which an engine change closed).
          const gap = runGaps ? undefined : row.gap?.(column);
          const label = row.label?.(column);
          await t.step({
            name: `${row.name} [${column.name}]${label ? ` ${label}` : ""}${na ? ` — ${na}` : ""}${
              gap ? ` — ignored: ${gap}` : ""
            }`,
            ignore: na !== undefined || gap !== undefined,
            fn: () => row.run(cell),
          });
        }
      } finally {
        await child.stop();
        await Deno.remove(file);
        await origins.close();
        await pki.remove();
      }
    },
  });
}
