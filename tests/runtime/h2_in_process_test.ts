/**
 * HTTP/2 served in process by the HTTP/2 engine (issue 17): an `enabled_h2` server serves h2 over TLS (ALPN) and h2c
 * (prior knowledge) with our HTTP/2 engine whatever its upstreams speak, so response trailers reach the client even from an
 * HTTP/1.1 upstream (chunked trailers), gRPC passes over both, an upstream's `alpn` changing on reload keeps the
 * listener, a stop drains an in-flight h2 request, and no connection crosses a loopback hop inside the proxy (it holds
 * about one socket per client).
 *
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { connect, type IncomingHttpHeaders } from "node:http2";
import * as grpc from "@grpc/grpc-js";
import { makeTestPki, type TestPki } from "../_support/certs.ts";
import { compileToml, startTestProxy } from "../_support/proxy.ts";
import { spawnProxy } from "../_support/process.ts";
import { startOrigin } from "../_support/origin.ts";
import { type EchoReply, type EchoRequest, echoService, startGrpcOrigin } from "../_support/grpc_echo.ts";
import { requireComponent } from "../components.ts";
import { headersFrame, RawClient, requestFields } from "../../runtime/listen/h2/_raw_client.ts";
import {
  NO_ERROR,
  readUint32,
  REFUSED_STREAM,
  RST_STREAM,
  SETTINGS,
  SETTINGS_INITIAL_WINDOW_SIZE,
  SETTINGS_MAX_CONCURRENT_STREAMS,
  SETTINGS_MAX_HEADER_LIST_SIZE,
  WINDOW_UPDATE,
} from "../../runtime/listen/h2/frames.ts";

const h2load = await requireComponent("h2load", { binaries: ["h2load"], aptPackages: ["nghttp2-client"] });

/**
 * An HTTP/1.1 origin that answers every request chunked, `hello`, with the trailer `x-origin-trailer: t1`; while
 * `hold` is set, it answers only once that settles.
 */
function trailerOrigin(): { port: number; hold: Promise<void> | undefined; seen: number; close(): void } {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const o = {
    port: (l.addr as Deno.NetAddr).port,
    hold: undefined as Promise<void> | undefined,
    seen: 0,
    close: () => l.close(),
  };
  const answer = new TextEncoder().encode(
    "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntrailer: x-origin-trailer\r\n\r\n" +
      "5\r\nhello\r\n0\r\nx-origin-trailer: t1\r\n\r\n",
  );
  (async () => {
    for await (const c of l) {
      (async () => {
        const buf = new Uint8Array(16384);
        let got = "";
        try {
          for (;;) {
            const n = await c.read(buf);
            if (n === null) break;
            got += new TextDecoder().decode(buf.subarray(0, n));
            while (got.includes("\r\n\r\n")) {
              got = got.slice(got.indexOf("\r\n\r\n") + 4);
              o.seen++;
              if (o.hold) await o.hold;
              await c.write(answer);
            }
          }
        } catch { /* gone */ }
        try {
          c.close();
        } catch { /* closed */ }
      })();
    }
  })().catch(() => {});
  return o;
}

function serverToml(originPort: number, tls: string, alpn = "H1", log = ""): string {
  return `
[upstreams.o]
addrs = ["127.0.0.1:${originPort}"]
alpn = "${alpn}"
[locations.a]
upstream = "o"
[servers.s]
addr = "127.0.0.1:0"
enabled_h2 = true
locations = ["a"]
${log}
${tls}`;
}

function certToml(pki: TestPki, name: string): string {
  const c = pki.leaves[name]!;
  return `global_certificates = true\n[certificates.c]\ntls_cert = "${c.certFile}"\ntls_key = "${c.keyFile}"\nis_default = true\n`;
}

interface H2Answer {
  headers: IncomingHttpHeaders;
  body: string;
  trailers: IncomingHttpHeaders | undefined;
}

/** One GET over a fresh h2 session (TLS when `pki` is given, with `a.test` by SNI; else h2c). */
async function h2get(port: number, path: string, pki?: TestPki): Promise<H2Answer> {
  const session = pki
    ? connect(`https://127.0.0.1:${port}`, { ca: pki.ca.cert, servername: "a.test" })
    : connect(`http://127.0.0.1:${port}`);
  session.on("error", () => {});
  try {
    const stream = session.request({ ":path": path, ":authority": "a.test" });
    const out: H2Answer = { headers: {}, body: "", trailers: undefined };
    stream.on("response", (h) => out.headers = h);
    stream.on("trailers", (t) => out.trailers = t);
    stream.setEncoding("utf8");
    stream.on("data", (d: string) => out.body += d);
    await new Promise<void>((resolve, reject) => {
      stream.once("close", resolve);
      stream.once("error", reject);
    });
    return out;
  } finally {
    session.close();
  }
}

for (const tls of [false, true]) {
  const kind = tls ? "h2 over TLS" : "h2c";
  Deno.test(`h2 in process (${kind}): an HTTP/1.1 upstream's chunked trailers reach the h2 client`, async () => {
    const pki = await makeTestPki([{ name: "a.test" }]);
    const origin = trailerOrigin();
    const log = `access_log = "{proto} {status} {:tls_version}|"`;
    const proxy = await startTestProxy(serverToml(origin.port, tls ? certToml(pki, "a.test") : "", "H1", log));
    try {
      const r = await h2get(proxy.port, "/x", tls ? pki : undefined);
      assert.equal(r.headers[":status"], 200);
      assert.equal(r.body, "hello");
      // Deno.serve, the h2 engine before, sent no trailers.
      assert.equal(r.trailers?.["x-origin-trailer"], "t1");
      await proxy.close();
      assert.match(proxy.logs.join("\n"), tls ? /HTTP\/2\.0 200 TLSv1\.[23]\|/ : /HTTP\/2\.0 200 -?\|/);
    } finally {
      await proxy.close();
      origin.close();
      await pki.remove();
    }
  });
}

interface EchoClient extends grpc.Client {
  echo(req: EchoRequest, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, reply?: EchoReply) => void): void;
}
const EchoClientCtor = grpc.makeGenericClientConstructor(echoService, "Echo") as unknown as new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ChannelOptions,
) => EchoClient;

Deno.test("h2 in process: gRPC unary with trailers through an h2 TLS server and an h2c server (@grpc/grpc-js)", async () => {
  const pki = await makeTestPki([{ name: "a.test" }]);
  const origin = await startGrpcOrigin();
  const plain = await startTestProxy(serverToml(origin.port, "", "H2"));
  const secure = await startTestProxy(serverToml(origin.port, certToml(pki, "a.test"), "H2"));
  const clients = [
    new EchoClientCtor(`127.0.0.1:${plain.port}`, grpc.credentials.createInsecure()),
    new EchoClientCtor(
      `127.0.0.1:${secure.port}`,
      grpc.credentials.createSsl(Buffer.from(pki.ca.cert)),
      { "grpc.ssl_target_name_override": "a.test", "grpc.default_authority": "a.test" },
    ),
  ];
  try {
    for (const client of clients) {
      const status = Promise.withResolvers<grpc.StatusObject>();
      const reply = await new Promise<EchoReply | undefined>((resolve, reject) => {
        const call = client.echo({ message: "hi" }, new grpc.Metadata(), (e, r) => e ? reject(e) : resolve(r));
        (call as unknown as grpc.ClientUnaryCall).on("status", status.resolve);
      });
      assert.equal(reply?.message, "hi");
      const s = await status.promise;
      assert.equal(s.code, grpc.status.OK);
      assert.deepEqual(s.metadata.get("x-origin-trailer"), ["t1"]);
    }
  } finally {
    for (const c of clients) c.close();
    await plain.close();
    await secure.close();
    await origin.close();
    await pki.remove();
  }
});

Deno.test("h2 in process: an upstream's alpn changed by a reload keeps the enabled_h2 listener", async () => {
  const origin = trailerOrigin();
  const proxy = await startTestProxy(serverToml(origin.port, "", "H1"));
  try {
    const before = proxy.proxy.listening[0]!.port;
    await proxy.proxy.swap(compileToml(serverToml(origin.port, "", "H2")));
    // Port 0: a listener opened anew would have another port. Before, an h2 upstream switched the server to another
    // front end (node:http2 + node:http), a new listener.
    assert.equal(proxy.proxy.listening[0]!.port, before);
  } finally {
    await proxy.close();
    origin.close();
  }
});

Deno.test("h2 in process: a stop drains an in-flight h2 request (h2c and TLS)", async () => {
  const pki = await makeTestPki([{ name: "a.test" }]);
  const origin = trailerOrigin();
  for (const tls of [false, true]) {
    const proxy = await startTestProxy(serverToml(origin.port, tls ? certToml(pki, "a.test") : ""));
    const gate = Promise.withResolvers<void>();
    origin.hold = gate.promise;
    const seen = origin.seen;
    const answer = h2get(proxy.port, "/slow", tls ? pki : undefined);
    while (origin.seen === seen) await new Promise((r) => setTimeout(r, 10));
    const stopped = proxy.close();
    await new Promise((r) => setTimeout(r, 200));
    gate.resolve();
    origin.hold = undefined;
    const r = await answer;
    await stopped;
    assert.equal(r.headers[":status"], 200, tls ? "TLS" : "h2c");
    assert.equal(r.body, "hello");
    assert.equal(r.trailers?.["x-origin-trailer"], "t1");
  }
  origin.close();
  await pki.remove();
});

/** Sockets the process `pid` holds open. */
async function sockets(pid: number): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir(`/proc/${pid}/fd`)) {
    const target = await Deno.readLink(`/proc/${pid}/fd/${e.name}`).catch(() => "");
    if (target.startsWith("socket:")) n++;
  }
  return n;
}

for (const tls of [false, true]) {
  const kind = tls ? "h2 over TLS" : "h2c";
  Deno.test(`h2 in process (${kind}): 20 h2 sessions hold about one socket each in the proxy (no loopback hop)`, async () => {
    const pki = await makeTestPki([{ name: "a.test" }]);
    const toml = `
[servers.s]
addr = "127.0.0.1:0"
enabled_h2 = true
locations = ["a"]
${tls ? certToml(pki, "a.test") : ""}
[locations.a]
plugins = ["pong"]
[plugins.pong]
category = "ping"
path = "/x"
`;
    const { child, port, file } = await spawnProxy(toml);
    const sessions: ReturnType<typeof connect>[] = [];
    try {
      const before = await sockets(child.pid);
      for (let i = 0; i < 20; i++) {
        const s = tls
          ? connect(`https://127.0.0.1:${port}`, { ca: pki.ca.cert, servername: "a.test" })
          : connect(`http://127.0.0.1:${port}`);
        s.on("error", () => {});
        sessions.push(s);
        const stream = s.request({ ":path": "/x", ":authority": "a.test" });
        const status = await new Promise<unknown>((resolve, reject) => {
          stream.once("response", (h) => resolve(h[":status"]));
          stream.once("error", reject);
        });
        stream.resume();
        assert.equal(status, 200);
      }
      const held = (await sockets(child.pid)) - before;
      // Through a loopback relay it held three a client: the client's and both ends of the hop.
      assert.ok(held >= 20 && held < 40, `the proxy holds ${held} sockets for 20 ${kind} sessions`);
    } finally {
      for (const s of sessions) s.destroy();
      await child.stop();
      await Deno.remove(file);
      await pki.remove();
    }
  });
}

Deno.test({
  name: "h2 in process: h2load over h2c and over TLS gets every answer",
  ignore: !h2load,
  async fn() {
    const pki = await makeTestPki([{ name: "a.test" }]);
    const origin = trailerOrigin();
    for (const tls of [false, true]) {
      const proxy = await startTestProxy(serverToml(origin.port, tls ? certToml(pki, "a.test") : ""));
      try {
        const out = await new Deno.Command(h2load!.h2load, {
          args: ["-n", "300", "-c", "4", "-m", "10", `${tls ? "https" : "http"}://127.0.0.1:${proxy.port}/x`],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const text = new TextDecoder().decode(out.stdout);
        assert.match(text, /Application protocol: h2c?\b/);
        assert.match(text, /300 succeeded/);
      } finally {
        await proxy.close();
      }
    }
    origin.close();
    await pki.remove();
  },
});

Deno.test("h2 in process: a PROXY protocol header before the h2c preface names the client (enabled_h2 plain)", async () => {
  const origin = trailerOrigin();
  const proxy = await startTestProxy(`
[basic]
trusted_proxies = ["127.0.0.1"]
${serverToml(origin.port, "", "H1", 'proxy_protocol = true\naccess_log = "{remote} {proto}|"')}`);
  try {
    // By hand: the header, the preface, an empty SETTINGS and one GET (HPACK: GET, http, /, authority a.test).
    const c = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
    const authority = new TextEncoder().encode("a.test");
    const block = [0x82, 0x86, 0x84, 0x41, authority.byteLength, ...authority];
    await c.write(
      new Uint8Array([
        ...new TextEncoder().encode("PROXY TCP4 10.1.2.3 10.0.0.1 5555 80\r\nPRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
        ...[0, 0, 0, 4, 0, 0, 0, 0, 0],
        ...[0, 0, block.length, 1, 5, 0, 0, 0, 1, ...block],
      ]),
    );
    // Frames until a HEADERS on stream 1 (type 1).
    const got: number[] = [];
    const buf = new Uint8Array(16384);
    let answered = false;
    while (!answered) {
      const n = await c.read(buf);
      if (n === null) break;
      got.push(...buf.subarray(0, n));
      for (let i = 0; i + 9 <= got.length; i += 9 + ((got[i]! << 16) | (got[i + 1]! << 8) | got[i + 2]!)) {
        if (got[i + 3] === 1 && got[i + 8] === 1) answered = true;
      }
    }
    c.close();
    assert.ok(answered, "a HEADERS answer on stream 1");
    await proxy.close();
    assert.match(proxy.logs.join("\n"), /10\.1\.2\.3 HTTP\/2\.0\|/);
  } finally {
    await proxy.close();
    origin.close();
  }
});

Deno.test("h2 in process: the server's h2_* keys reach the engine (SETTINGS, connection window, idle GOAWAY, refused streams)", async () => {
  const origin = trailerOrigin();
  origin.hold = new Promise(() => {});
  const proxy = await startTestProxy(serverToml(
    origin.port,
    "",
    "H1",
    `h2_max_concurrent_streams = 2
h2_max_header_list_size = "4kib"
h2_initial_window_size = "128kib"
h2_initial_connection_window_size = "1mib"
h2_idle_timeout = "300ms"`,
  ));
  try {
    const c = await RawClient.open(proxy.port);
    try {
      const first = await c.until((f) => f.type === WINDOW_UPDATE && f.stream === 0);
      const settings = first.find((f) => f.type === SETTINGS)!;
      const got = new Map<number, number>();
      for (let i = 0; i < settings.payload.byteLength; i += 6) {
        got.set((settings.payload[i]! << 8) | settings.payload[i + 1]!, readUint32(settings.payload, i + 2));
      }
      assert.equal(got.get(SETTINGS_MAX_CONCURRENT_STREAMS), 2);
      assert.equal(got.get(SETTINGS_MAX_HEADER_LIST_SIZE), 4096);
      assert.equal(got.get(SETTINGS_INITIAL_WINDOW_SIZE), 128 * 1024);
      assert.equal(readUint32(first.at(-1)!.payload, 0), 1024 * 1024 - 65535);
      // Two streams held by the origin, the third refused.
      await c.send(
        headersFrame(1, requestFields()),
        headersFrame(3, requestFields()),
        headersFrame(5, requestFields()),
      );
      const refused = await c.until((f) => f.type === RST_STREAM);
      assert.equal(refused.at(-1)!.stream, 5);
      assert.equal(readUint32(refused.at(-1)!.payload, 0), REFUSED_STREAM);
    } finally {
      c.close();
    }
    // An idle connection gets GOAWAY after h2_idle_timeout.
    const idle = await RawClient.open(proxy.port);
    try {
      assert.equal(await idle.goawayCode(5000), NO_ERROR);
    } finally {
      idle.close();
    }
  } finally {
    origin.close();
    await proxy.close();
  }
});

Deno.test("h2 in process: access-log facts over h2 (TLS): {proto}, {payload_size} read, one {:connection_id} reused", async () => {
  const pki = await makeTestPki([{ name: "a.test" }]);
  const origin = trailerOrigin();
  const log = `access_log = "{proto} {payload_size} {:connection_id} {:connection_reused} {:tls_version}|"`;
  const proxy = await startTestProxy(serverToml(origin.port, certToml(pki, "a.test"), "H1", log));
  try {
    const base = `https://a.test:${proxy.port}`;
    const out = await new Deno.Command("curl", {
      args: [
        "-s",
        "--http2",
        "--cacert",
        pki.ca.certFile,
        "--resolve",
        `a.test:${proxy.port}:127.0.0.1`,
        "--data-binary",
        "12345",
        `${base}/one`,
        "--next",
        "--http2",
        "--cacert",
        pki.ca.certFile,
        "--resolve",
        `a.test:${proxy.port}:127.0.0.1`,
        `${base}/two`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.equal(new TextDecoder().decode(out.stdout), "hellohello");
    await proxy.close();
    const lines = proxy.logs.join("\n").match(/HTTP\/2\.0 \d+ \d+ (true|false) TLSv1\.[23]\|/g) ?? [];
    assert.equal(lines.length, 2, proxy.logs.join("\n"));
    const [a, b] = lines.map((l) => l.split(" "));
    assert.equal(a![1], "5");
    assert.equal(a![3], "false");
    assert.equal(b![1], "0");
    assert.equal(b![3], "true");
    assert.equal(a![2], b![2], "one connection");
  } finally {
    await proxy.close();
    origin.close();
    await pki.remove();
  }
});

Deno.test("h2 in process: 10 MB up and back through the proxy to an HTTP/1.1 origin, h2c and TLS (curl, same SHA-256)", async () => {
  const pki = await makeTestPki([{ name: "a.test" }]);
  // Streams the request body back as it comes.
  const origin = await startOrigin("echo", (req) => new Response(req.body));
  const data = new Uint8Array(10 * 1024 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  const file = `${pki.dir}/up.bin`;
  await Deno.writeFile(file, data);
  const digest = async (bytes: Uint8Array<ArrayBuffer>) =>
    [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0"))
      .join("");
  const want = await digest(data);
  try {
    for (const tls of [false, true]) {
      const proxy = await startTestProxy(
        serverToml(Number(origin.addr.split(":")[1]), tls ? certToml(pki, "a.test") : ""),
      );
      try {
        const out = `${pki.dir}/back-${tls}.bin`;
        const args = tls
          ? ["--http2", "--cacert", pki.ca.certFile, "--resolve", `a.test:${proxy.port}:127.0.0.1`]
          : ["--http2-prior-knowledge"];
        const r = await new Deno.Command("curl", {
          args: [
            "-s",
            ...args,
            "--data-binary",
            `@${file}`,
            "-o",
            out,
            "-w",
            "%{http_version} %{http_code}",
            `${tls ? "https" : "http"}://a.test:${proxy.port}/echo`,
            ...(tls ? [] : ["--resolve", `a.test:${proxy.port}:127.0.0.1`]),
          ],
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.equal(new TextDecoder().decode(r.stdout), "2 200", new TextDecoder().decode(r.stderr));
        assert.equal(await digest(await Deno.readFile(out)), want, tls ? "TLS" : "h2c");
      } finally {
        await proxy.close();
      }
    }
  } finally {
    await origin.close();
    await pki.remove();
  }
});

Deno.test({
  name:
    "h2 in process: h2load -n 20000 -c 10 -m 10 on a proxy in its own process (h2c and TLS): no error, the process lives",
  ignore: !h2load,
  async fn() {
    const pki = await makeTestPki([{ name: "a.test" }]);
    const origin = trailerOrigin();
    try {
      for (const tls of [false, true]) {
        const { child, port, file } = await spawnProxy(serverToml(origin.port, tls ? certToml(pki, "a.test") : ""));
        try {
          const url = `${tls ? "https" : "http"}://127.0.0.1:${port}/x`;
          const out = await new Deno.Command(h2load!.h2load, {
            args: ["-n", "20000", "-c", "10", "-m", "10", url],
            stdout: "piped",
            stderr: "piped",
          }).output();
          const text = new TextDecoder().decode(out.stdout);
          assert.match(text, /20000 succeeded, 0 failed, 0 errored/, text);
          // h2load's GOAWAY at its end once crashed the process (node:http2 in Deno 2.9.6): it still answers.
          const after = await h2get(port, "/after", tls ? pki : undefined);
          assert.equal(after.body, "hello");
        } finally {
          const code = await child.stop();
          assert.equal(code, 0, child.output());
          await Deno.remove(file);
        }
      }
    } finally {
      origin.close();
      await pki.remove();
    }
  },
});

/** The SETTINGS a new h2c connection to `port` gets first, by identifier. */
async function firstSettings(port: number): Promise<Map<number, number>> {
  const c = await RawClient.open(port);
  try {
    const settings = (await c.until((f) => f.type === SETTINGS)).at(-1)!;
    const got = new Map<number, number>();
    for (let i = 0; i < settings.payload.byteLength; i += 6) {
      got.set((settings.payload[i]! << 8) | settings.payload[i + 1]!, readUint32(settings.payload, i + 2));
    }
    return got;
  } finally {
    c.close();
  }
}

Deno.test("h2 in process: Pingap's largest h2 limits serve; a reload that changes an h2_* key reaches new connections", async () => {
  const origin = trailerOrigin();
  // Pingap accepts up to 4 GiB - 1 for both; HPACK sizes here are 31-bit, so the engine takes them as "no limit".
  const big = `h2_max_concurrent_streams = 4294967295\nh2_max_header_list_size = "3gib"`;
  const proxy = await startTestProxy(serverToml(origin.port, "", "H1", big));
  try {
    const r = await h2get(proxy.port, "/x");
    assert.equal(r.headers[":status"], 200);
    assert.equal((await firstSettings(proxy.port)).get(SETTINGS_MAX_CONCURRENT_STREAMS), 2 ** 31 - 1);
    // The engine sends its settings when a connection opens: a changed key opens the listener anew (port 0: a new
    // port), whose connections get the new value.
    await proxy.proxy.swap(compileToml(serverToml(origin.port, "", "H1", "h2_max_concurrent_streams = 7")));
    const port = proxy.proxy.listening[0]!.port;
    assert.notEqual(port, proxy.port);
    assert.equal((await firstSettings(port)).get(SETTINGS_MAX_CONCURRENT_STREAMS), 7);
  } finally {
    await proxy.close();
    origin.close();
  }
});
