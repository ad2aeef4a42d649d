/** Syslog access-log targets through {@linkcode AccessLogFiles}, to a real UDP socket. */
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { compileSources } from "../../../compiler/mod.ts";
import { AccessLogFiles } from "./access_sink.ts";

Deno.test("AccessLogFiles: two syslog targets on one server with another process are two writers", async () => {
  const server = createSocket("udp4");
  const got: string[] = [];
  server.on("message", (m) => got.push(new TextDecoder().decode(m)));
  await new Promise<void>((resolve) => server.bind(0, "127.0.0.1", resolve));
  const port = server.address().port;
  const files = new AccessLogFiles();
  const target = (process: string) => {
    const text =
      `[servers.s]\naddr = "127.0.0.1:1"\naccess_log = "syslog://127.0.0.1:${port}?process=${process} {path}"\n`;
    const file = compileSources([{ file: "t.toml", text }]).plan?.servers[0]?.accessLog?.file;
    assert.ok(file);
    return files.open(file);
  };
  const a = target("one"), b = target("two");
  try {
    assert.equal(files.size, 2);
    a.write("/a");
    b.write("/b");
    for (let i = 0; i < 200 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(
      got.map((m) => m.replace(/^<14>\w{3} \d\d \d\d:\d\d:\d\d \S+ /, "").replace(/\[\d+\]/, "")).sort(),
      [
        "one: /a",
        "two: /b",
      ],
    );
  } finally {
    await a.release();
    await b.release();
    server.close();
  }
});
