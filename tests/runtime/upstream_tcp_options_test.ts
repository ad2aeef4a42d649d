/**
 * An upstream's TCP options reach the kernel on its backend connections: the proxy runs in this process (so its
 * sockets are this process's file descriptors), real origins answer with the peer address they saw (the proxy's end
 * of the backend connection), and the test reads the options back with `getsockopt` from that socket: over plain
 * HTTP/1.1 (`Deno.connect`), HTTP/1.1 over `node:tls` (`verify_cert = false`) and h2c (our h2 client over
 * `Deno.connect`). An upstream without the keys leaves its connections as Deno makes them (no SO_KEEPALIVE). The CLI
 * with workers (its own process, the flags `deno task start` uses) is read with `ss`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createServer, type Http2Server, type ServerHttp2Stream } from "node:http2";
import { type Echo, freePort, startEchoOrigin } from "../_support/origin.ts";
import { spawnDeno, START_ARGS } from "../_support/process.ts";
import { startTestProxy } from "../_support/proxy.ts";
import { portInodes, socketFds } from "../../runtime/listen/tcp_options.ts";
import { getIntOption, LINUX as L } from "../../runtime/process/libc.ts";
import { TEST_LEAF_CERT, TEST_LEAF_KEY } from "../../runtime/upstream/http1/testdata.ts";

/** The options the configured upstreams set (`tcp_recv_buf` is doubled by the kernel). */
const OPTIONS = `tcp_idle = "11s"
tcp_interval = "3s"
tcp_probe_count = 4
tcp_user_timeout = "5s"
tcp_recv_buf = 50000`;

/** The proxy's file descriptor of its backend connection whose local port is `port`. */
function backendFd(port: number): number {
  const fds = socketFds(portInodes(port, "01"));
  assert.equal(fds.length, 1, `one socket on local port ${port}`);
  return fds[0]!;
}

function assertConfigured(fd: number, via: string): void {
  assert.equal(getIntOption(fd, L.SOL_SOCKET, L.SO_KEEPALIVE), 1, `${via}: SO_KEEPALIVE`);
  assert.equal(getIntOption(fd, L.IPPROTO_TCP, L.TCP_KEEPIDLE), 11, `${via}: tcp_idle`);
  assert.equal(getIntOption(fd, L.IPPROTO_TCP, L.TCP_KEEPINTVL), 3, `${via}: tcp_interval`);
  assert.equal(getIntOption(fd, L.IPPROTO_TCP, L.TCP_KEEPCNT), 4, `${via}: tcp_probe_count`);
  assert.equal(getIntOption(fd, L.IPPROTO_TCP, L.TCP_USER_TIMEOUT), 5000, `${via}: tcp_user_timeout`);
  assert.equal(getIntOption(fd, L.SOL_SOCKET, L.SO_RCVBUF), 100_000, `${via}: tcp_recv_buf`);
}

/** A TLS origin (Deno.serve) answering with the peer's port. */
function startTlsOrigin(): { port: number; close(): Promise<void> } {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert: TEST_LEAF_CERT, key: TEST_LEAF_KEY, onListen() {} },
    (_req, info) => new Response(String((info.remoteAddr as Deno.NetAddr).port)),
  );
  return { port: (server.addr as Deno.NetAddr).port, close: () => server.shutdown() };
}

/** An h2c origin (node:http2) answering with the peer's port. */
async function startH2cOrigin(): Promise<{ port: number; close(): Promise<void> }> {
  const server: Http2Server = createServer();
  server.on("stream", (stream: ServerHttp2Stream) => {
    stream.respond({ ":status": 200 });
    stream.end(String(stream.session?.socket.remotePort));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // deno-lint-ignore no-explicit-any
        for (const s of (server as any)._sessions ?? []) s.destroy();
      }),
  };
}

Deno.test({
  name: "upstream tcp options: tcp_idle, tcp_interval, tcp_probe_count, tcp_user_timeout, tcp_recv_buf on backend " +
    "connections over Deno.connect, node:tls and the h2 client (Linux)",
  ignore: Deno.build.os !== "linux",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const origin = await startEchoOrigin("o");
    const tls = startTlsOrigin();
    const h2c = await startH2cOrigin();
    const proxy = await startTestProxy(`
[servers.web]
addr = "127.0.0.1:0"
locations = ["plain", "bare", "tls", "h2"]

[locations.plain]
path = "/plain"
upstream = "plain"

[locations.bare]
path = "/bare"
upstream = "bare"

[locations.tls]
path = "/tls"
upstream = "tls"

[locations.h2]
path = "/h2"
upstream = "h2"

[upstreams.plain]
addrs = ["${origin.addr}"]
${OPTIONS}

[upstreams.bare]
addrs = ["${origin.addr}"]

[upstreams.tls]
addrs = ["127.0.0.1:${tls.port}"]
sni = "localhost"
verify_cert = false
${OPTIONS}

[upstreams.h2]
addrs = ["127.0.0.1:${h2c.port}"]
alpn = "h2"
${OPTIONS}
`);
    try {
      const echo = async (path: string) => {
        const res = await fetch(`${proxy.url}${path}`);
        assert.equal(res.status, 200, path);
        return await res.json() as Echo;
      };
      const portOf = async (path: string) => {
        const res = await fetch(`${proxy.url}${path}`);
        assert.equal(res.status, 200, path);
        return Number(await res.text());
      };

      const plain = backendFd(Number((await echo("/plain/x")).remote.split(":")[1]));
      assertConfigured(plain, "Deno.connect");
      assertConfigured(backendFd(await portOf("/tls/x")), "node:tls");
      assertConfigured(backendFd(await portOf("/h2/x")), "h2 client");

      // An upstream without the keys: the connection as Deno makes it.
      const bare = backendFd(Number((await echo("/bare/x")).remote.split(":")[1]));
      assert.notEqual(bare, plain);
      assert.equal(getIntOption(bare, L.SOL_SOCKET, L.SO_KEEPALIVE), 0);
      assert.notEqual(getIntOption(bare, L.SOL_SOCKET, L.SO_RCVBUF), 100_000);
    } finally {
      await proxy.close();
      await origin.close();
      await tls.close();
      await h2c.close();
    }
  },
});

/** What `ss` shows of the TCP connection from local port `port` (timers and socket memory), "" when none. */
function ssLine(port: number): string {
  const out = new Deno.Command("ss", { args: ["-tnmoH", "state", "established", "src", `127.0.0.1:${port}`] })
    .outputSync();
  return new TextDecoder().decode(out.stdout).replace(/\s+/g, " ").trim();
}

const HAS_SS = (() => {
  try {
    return new Deno.Command("ss", { args: ["-V"] }).outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "upstream tcp options: applied by the CLI's workers (`start`, threads = 2), seen with ss (Linux)",
  ignore: Deno.build.os !== "linux" || !HAS_SS,
  sanitizeResources: false,
  fn: async () => {
    const origin = await startEchoOrigin("o");
    const dir = await Deno.makeTempDir();
    const port = freePort();
    const conf = `${dir}/pingap.toml`;
    await Deno.writeTextFile(
      conf,
      `
[servers.web]
addr = "127.0.0.1:${port}"
threads = 2
locations = ["plain", "bare"]

[locations.plain]
path = "/plain"
upstream = "plain"

[locations.bare]
path = "/bare"
upstream = "bare"

[upstreams.plain]
addrs = ["${origin.addr}"]
${OPTIONS}

[upstreams.bare]
addrs = ["${origin.addr}"]
`,
    );
    const child = spawnDeno([...START_ARGS, conf]);
    try {
      await child.waitFor(new RegExp(`listening on 127\\.0\\.0\\.1:${port} with 2 workers`));
      const remote = async (path: string) => {
        const res = await fetch(`http://127.0.0.1:${port}${path}`);
        assert.equal(res.status, 200, path);
        return Number(((await res.json()) as Echo).remote.split(":")[1]);
      };
      // The keep-alive timer (idle 11s: under a minute, where the kernel's default would show 120min) and the
      // receive buffer (doubled by the kernel) of the backend connection.
      const plain = ssLine(await remote("/plain/x"));
      assert.match(plain, /timer:\(keepalive,[\d.]+(ms|sec),0\)/, plain);
      assert.match(plain, /skmem:\(r\d+,rb100000,/, plain);
      const bare = ssLine(await remote("/bare/x"));
      assert.doesNotMatch(bare, /keepalive/, bare);
      assert.doesNotMatch(bare, /rb100000/, bare);
      assert.doesNotMatch(child.output(), /TCP option not applied/);
    } finally {
      await child.stop();
      await origin.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
