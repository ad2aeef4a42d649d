/**
 * The bundled demo (issue 3): `mod.ts start -c conf/` (what `deno task
 * start` runs) serves /ping and the /hello mock, proxies /api/ with its
 * rewrite and headers, logs access lines, and exits 0 on SIGTERM.
 *
 * When 127.0.0.1:6188 (the demo's port) is taken, the same config is run
 * from a temporary copy on a free port so the test still proves it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Echo, echoHandler, freePort } from "../_support/origin.ts";
import { spawnDeno, START_ARGS } from "../_support/process.ts";
import { get } from "../_support/proxy.ts";

const CONF = new URL("../../conf/", import.meta.url).pathname;

function portFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/** An echo origin on a fixed port (the demo's backend), if that port is free. */
async function originOn(port: number): Promise<{ close(): Promise<void> } | undefined> {
  if (!portFree(port)) return undefined;
  const echo = echoHandler("demo-backend");
  const ready = Promise.withResolvers<void>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, onListen: () => ready.resolve() },
    (req, info) => {
      if (new URL(req.url).pathname === "/health") return new Response("ok");
      return echo(req, info as Deno.ServeHandlerInfo<Deno.NetAddr>);
    },
  );
  await ready.promise;
  return { close: () => server.shutdown() };
}

Deno.test("demo: mod.ts start -c conf/ serves /ping, the /hello mock and /api/, then exits 0 on SIGTERM", async () => {
  let confDir = CONF;
  let port = 6188;
  let tmp: string | undefined;
  if (!portFree(port)) {
    port = freePort();
    tmp = await Deno.makeTempDir();
    const text = await Deno.readTextFile(`${CONF}pingap.toml`);
    assert.match(text, /127\.0\.0\.1:6188/);
    await Deno.writeTextFile(`${tmp}/pingap.toml`, text.replace("127.0.0.1:6188", `127.0.0.1:${port}`));
    confDir = `${tmp}/`;
    console.log(`port 6188 is taken: running a copy of conf/ on ${port}`);
  }
  const backend = await originOn(8080);
  const child = spawnDeno([...START_ARGS, confDir]);
  try {
    await child.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+/);
    const url = `http://127.0.0.1:${port}`;
    const ping = await get(`${url}/ping`);
    assert.equal(ping.status, 200);
    assert.equal(ping.text, "pong");
    const hello = await get(`${url}/hello`);
    assert.equal(hello.status, 200);
    assert.equal(hello.headers.get("content-type"), "application/json");
    assert.deepEqual(JSON.parse(hello.text), { message: "hello from pingap-deno" });
    const api = await get(`${url}/api/items?x=1`);
    if (backend) {
      assert.equal(api.status, 200, api.text);
      const echo = JSON.parse(api.text) as Echo;
      assert.equal(echo.path, "/items", "rewrite ^/api/(.*)$ /$1");
      assert.equal(echo.query, "x=1");
      assert.equal(echo.headers["x-proxy"], "pingap-deno");
      assert.equal(echo.headers["x-forwarded-for"], "127.0.0.1");
    } else {
      assert.ok([200, 502, 503].includes(api.status), `/api/ with port 8080 taken by someone else: ${api.status}`);
    }
    assert.equal((await get(`${url}/nowhere`)).status, 404);
    // The tiny access log goes to stdout.
    await child.waitFor(/GET \/ping 200/, 5000);
    assert.equal(await child.stop(), 0, `exit code; output:\n${child.output()}`);
    assert.match(child.output(), /shutting down/);
  } finally {
    await child.stop();
    await backend?.close();
    if (tmp) await Deno.remove(tmp, { recursive: true });
  }
});
