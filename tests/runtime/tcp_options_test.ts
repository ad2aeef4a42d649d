/**
 * A server's TCP options reach the kernel: the proxy runs in this process (so its sockets are this process's file
 * descriptors), a real client connects, and the test reads the options back with `getsockopt` from the accepted
 * connection (keep-alive settings, inherited from the listener) and from the listener (TCP_FASTOPEN). A server
 * without the keys leaves its connections without SO_KEEPALIVE, as Deno does.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startEchoOrigin } from "../_support/origin.ts";
import { startTestProxy } from "../_support/proxy.ts";
import { getIntOption, LINUX, portInodes, socketFds } from "../../runtime/listen/tcp_options.ts";

const L = LINUX;

async function request(hostname: string, port: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname, port });
  await conn.write(new TextEncoder().encode("GET /x HTTP/1.1\r\nhost: a\r\n\r\n"));
  const buf = new Uint8Array(4096);
  const n = await conn.read(buf);
  assert.match(new TextDecoder().decode(buf.subarray(0, n ?? 0)), /^HTTP\/1\.1 200/);
  return conn;
}

Deno.test({
  name: "tcp options: tcp_idle, tcp_interval, tcp_probe_count, tcp_user_timeout and tcp_fastopen are set (Linux)",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const origin = await startEchoOrigin("o");
    const proxy = await startTestProxy(`
[servers.keep]
addr = "127.0.0.1:0"
locations = ["l"]
tcp_idle = "10s"
tcp_interval = "3s"
tcp_probe_count = 4
tcp_user_timeout = "5s"
tcp_fastopen = 16

[servers.plain]
addr = "127.0.0.2:0"
locations = ["l"]

[locations.l]
upstream = "o"

[upstreams.o]
addrs = ["${origin.addr}"]
`);
    const conns: Deno.TcpConn[] = [];
    try {
      const [keep, plain] = proxy.proxy.listening;
      assert.equal(keep!.server, "keep");
      conns.push(await request("127.0.0.1", keep!.port), await request("127.0.0.2", plain!.port));

      const accepted = socketFds(portInodes(keep!.port, "01"));
      assert.equal(accepted.length, 1, "one accepted connection on the keep server");
      const fd = accepted[0]!;
      assert.equal(getIntOption(fd, L.SOL_SOCKET, L.SO_KEEPALIVE), 1);
      assert.equal(getIntOption(fd, L.IPPROTO_TCP, L.TCP_KEEPIDLE), 10);
      assert.equal(getIntOption(fd, L.IPPROTO_TCP, L.TCP_KEEPINTVL), 3);
      assert.equal(getIntOption(fd, L.IPPROTO_TCP, L.TCP_KEEPCNT), 4);
      assert.equal(getIntOption(fd, L.IPPROTO_TCP, L.TCP_USER_TIMEOUT), 5000);
      const listeners = socketFds(portInodes(keep!.port, "0A"));
      assert.ok(listeners.length >= 1);
      for (const l of listeners) assert.equal(getIntOption(l, L.IPPROTO_TCP, L.TCP_FASTOPEN), 16);

      // A server without the keys: no keep-alive on its connections.
      const other = socketFds(portInodes(plain!.port, "01"));
      assert.equal(other.length, 1);
      assert.equal(getIntOption(other[0]!, L.SOL_SOCKET, L.SO_KEEPALIVE), 0);
    } finally {
      for (const c of conns) c.close();
      await proxy.close();
      await origin.close();
    }
  },
});
