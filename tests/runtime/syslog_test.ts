/**
 * `syslog://` log targets over real sockets: the proxy in its own process writes its access log to a UDP listener
 * the test starts (node:dgram), and its application log (`--log`) to a TCP listener; the test reads the messages as a
 * syslog server would (one datagram a message; newline framing over TCP) and checks Pingap's RFC 5424 / 3164 forms.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { freePort, startEchoOrigin } from "../_support/origin.ts";
import { spawnDeno, START_ARGS } from "../_support/process.ts";
import { pollFor } from "../_support/poll.ts";
import { formatSyslog } from "../../runtime/observe/log/syslog.ts";

Deno.test("formatSyslog(): RFC 3164 with local time, PRI from the facility", () => {
  const t = { spec: "", format: "3164", process: "px", facility: 16, transport: { kind: "unix", path: "" } } as const;
  const at = new Date(2026, 0, 5, 7, 8, 9);
  assert.equal(formatSyslog(t, "hello", at, { hostname: "h1", pid: 42 }), "<134>Jan 05 07:08:09 h1 px[42]: hello");
});

Deno.test("syslog: the access log goes to a UDP server as RFC 5424 messages", async () => {
  const server = createSocket("udp4");
  const got: string[] = [];
  server.on("message", (m) => got.push(new TextDecoder().decode(m)));
  await new Promise<void>((resolve) => server.bind(0, "127.0.0.1", resolve));
  const udpPort = server.address().port;
  const origin = await startEchoOrigin("o");
  const port = freePort();
  const file = await Deno.makeTempFile({ suffix: ".toml" });
  await Deno.writeTextFile(
    file,
    `[servers.s]
addr = "127.0.0.1:${port}"
locations = ["l"]
access_log = "syslog://127.0.0.1:${udpPort}?format=5424&process=access {method} {path} {status}"

[locations.l]
upstream = "o"

[upstreams.o]
addrs = ["${origin.addr}"]
`,
  );
  const child = spawnDeno([...START_ARGS, file]);
  try {
    await child.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+/);
    for (const path of ["/a", "/b"]) assert.equal((await fetch(`http://127.0.0.1:${port}${path}`)).status, 200);
    await pollFor("two datagrams", () => Promise.resolve(got.length >= 2 ? true : undefined), 3000).catch((e) => {
      throw new Error(`${e.message}: ${child.output()}`);
    });
    const re = /^<14>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+ access \d+ 0 - GET \/(a|b) 200$/;
    for (const m of got) assert.match(m, re);
    assert.deepEqual(got.map((m) => m.split(" ").at(-2)).sort(), ["/a", "/b"]);
  } finally {
    await child.stop();
    await Deno.remove(file);
    await origin.close();
    server.close();
  }
});

Deno.test("syslog: --log sends the application log to a TCP server, newline framed, RFC 3164", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const lines: string[] = [];
  const reading = (async () => {
    const conn = await listener.accept();
    let rest = "";
    for await (const chunk of conn.readable.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      const parts = rest.split("\n");
      rest = parts.pop()!;
      lines.push(...parts);
    }
  })().catch(() => {});
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/pingap.toml`,
    `[servers.s]\naddr = "127.0.0.1:0"\nlocations = ["l"]\n[locations.l]\n[plugins.p]\ncategory = "ping"\npath = "/ping"\n`,
  );
  const target = `syslog://127.0.0.1:${(listener.addr as Deno.NetAddr).port}?protocol=tcp&facility=local1&process=pg`;
  const child = spawnDeno([...START_ARGS, dir, "--log", target]);
  try {
    const line = await pollFor("a log line over TCP", () => Promise.resolve(lines.find((l) => /listening/i.test(l))));
    assert.match(line, /^<142>[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d \S+ pg\[\d+\]: .*listening/);
  } finally {
    await child.stop();
    listener.close();
    await reading;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("syslog: a bad --log syslog target stops the start with Pingap's message", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/pingap.toml`, `[servers.s]\naddr = "127.0.0.1:0"\n`);
  const child = spawnDeno([...START_ARGS, dir, "--log", "syslog://127.0.0.1?protocol=quic"]);
  try {
    assert.equal(await child.exited(), 2);
    assert.match(child.output(), /syslog protocol quic is invalid, expected udp or tcp/);
  } finally {
    await child.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
