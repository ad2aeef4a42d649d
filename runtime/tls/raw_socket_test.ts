import assert from "node:assert/strict";
import { procAddresses } from "./raw_socket.ts";
import { makeTestPki } from "../../tests/_support/certs.ts";
import { socketFds } from "../listen/tcp_options.ts";
import type { ByteStream } from "../listen/byte_stream.ts";
import { listenDenoTls } from "./deno_listener.ts";
import { CertStore } from "./store.ts";

Deno.test("procAddresses() writes an address as /proc/net/tcp{,6} does", () => {
  assert.deepEqual(procAddresses("127.0.0.1"), ["0100007F", "0000000000000000FFFF00000100007F"]);
  assert.deepEqual(procAddresses("::1"), ["00000000000000000000000001000000"]);
  assert.deepEqual(procAddresses("::ffff:127.0.0.1"), ["0000000000000000FFFF00000100007F"]);
  assert.deepEqual(procAddresses("2001:db8::2"), ["B80D0120000000000000000002000000"]);
  assert.deepEqual(procAddresses("not an address"), []);
  assert.deepEqual(procAddresses("1:2:3"), [], "too few groups without ::");
});

Deno.test({
  name:
    "listenerNoDelay(): a connection accepted by the deno-tls engine has TCP_NODELAY (a Deno.TlsConn cannot set it)",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const pki = await makeTestPki([{ name: "a.test" }]);
    const store = new CertStore();
    store.put("a", { cert: pki.leaves["a.test"]!.cert, key: pki.leaves["a.test"]!.key, isDefault: true });
    const accepted = Promise.withResolvers<ByteStream>();
    const l = listenDenoTls({ hostname: "127.0.0.1", port: 0, h2: false, store, serve: accepted.resolve });
    const tcp = await Deno.connect({ hostname: "127.0.0.1", port: l.addr.port });
    const client = await Deno.startTls(tcp, { hostname: "a.test", caCerts: [pki.ca.cert] });
    const libc = Deno.dlopen("libc.so.6", {
      getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
    });
    try {
      await client.handshake();
      const conn = await accepted.promise;
      // The accepted socket: local port the listener's, remote the client's.
      const clientPort = (client.localAddr as Deno.NetAddr).port;
      const inodes = new Set<string>();
      for (const line of Deno.readTextFileSync("/proc/net/tcp").split("\n").slice(1)) {
        const cols = line.trim().split(/\s+/);
        const port = (a: string) => parseInt(a.slice(a.indexOf(":") + 1), 16);
        if (cols.length > 9 && port(cols[1]!) === l.addr.port && port(cols[2]!) === clientPort) inodes.add(cols[9]!);
      }
      const fds = socketFds(inodes);
      assert.equal(fds.length, 1, "the accepted socket is found");
      const value = new Int32Array(1), size = new Uint32Array([4]);
      assert.equal(libc.symbols.getsockopt(fds[0]!, 6, 1, value, size), 0);
      assert.equal(value[0], 1, "TCP_NODELAY is on");
      conn.close();
    } finally {
      libc.close();
      client.close();
      l.close();
      await pki.remove();
    }
  },
});
