/**
 * `algo = "sticky:<cookie>"` end to end: the proxy in its own process, two echo origins whose `/health` the test
 * switches, curl with a cookie jar as the client. The first request gets a `Set-Cookie` naming its backend (FNV-1a 64
 * of the address, as Pingap); later ones with the jar stay there and get no new cookie; once that backend fails its
 * health check they move to the other one and are told so by a new cookie.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Echo, echoHandler, type Origin, startOrigin } from "../_support/origin.ts";
import { spawnProxy } from "../_support/process.ts";
import { curl } from "../_support/curl.ts";
import { pollFor } from "../_support/poll.ts";
import { backendId } from "../../runtime/upstream/sticky.ts";

Deno.test("backendId() is FNV-1a 64 of the address, 16 hex digits (vectors computed apart)", () => {
  const b = (addr: string) => ({ host: "", port: 0, weight: 1, addr });
  assert.equal(backendId(b("127.0.0.1:8080")), "1cf0caae52b457cc");
  assert.equal(backendId(b("[::1]:80")), "e6b726e9e9c93286");
});

async function healthOrigin(name: string, healthy: { [name: string]: boolean }): Promise<Origin> {
  const echo = echoHandler(name);
  return await startOrigin(name, (req, info) => {
    if (new URL(req.url).pathname === "/health") {
      return new Response(healthy[name] ? "ok" : "down", { status: healthy[name] ? 200 : 500 });
    }
    return echo(req, info);
  });
}

Deno.test("sticky: a cookie pins the client to its backend while healthy, then moves it with a new cookie", async () => {
  const healthy: { [name: string]: boolean } = { a: true, b: true };
  const a = await healthOrigin("a", healthy);
  const b = await healthOrigin("b", healthy);
  const addrOf: Record<string, string> = { a: a.addr, b: b.addr };
  const { child, port, file } = await spawnProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["l"]

[locations.l]
upstream = "app"

[upstreams.app]
addrs = ["${a.addr}", "${b.addr}"]
algo = "sticky:backend"
health_check = "http://app/health?check_frequency=200ms&failure=1"
`);
  const jar = await Deno.makeTempFile();
  const url = `http://127.0.0.1:${port}/x`;
  const id = (name: string) => backendId({ host: "", port: 0, weight: 1, addr: addrOf[name]! });
  const withJar = async () => {
    const r = await curl("-c", jar, "-b", jar, url);
    assert.equal(r.status, 200, r.body);
    return { name: (JSON.parse(r.body) as Echo).name, cookie: r.headers.get("set-cookie") };
  };
  try {
    // First request: a cookie naming the backend that answered, with Pingap's attributes.
    const first = await withJar();
    assert.equal(first.cookie, `backend=${id(first.name)}; Path=/; HttpOnly; SameSite=Lax`);
    // With the cookie: always the same backend, no new cookie.
    for (let i = 0; i < 6; i++) assert.deepEqual(await withJar(), { name: first.name, cookie: null });
    // Without a cookie: round robin over both, each answer with the cookie of its backend.
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const r = await curl(url);
      const name = (JSON.parse(r.body) as Echo).name;
      seen.add(name);
      assert.equal(r.headers.get("set-cookie"), `backend=${id(name)}; Path=/; HttpOnly; SameSite=Lax`);
    }
    assert.deepEqual([...seen].sort(), ["a", "b"]);
    // A cookie that names no backend: balanced, and a cookie set.
    const bogus = await curl("-b", "backend=0123456789abcdef", url);
    assert.match(bogus.headers.get("set-cookie") ?? "", /^backend=[0-9a-f]{16}; Path=\/;/);

    // The pinned backend fails its health check: the client moves, with a new cookie, and stays.
    healthy[first.name] = false;
    const other = first.name === "a" ? "b" : "a";
    const moved = await pollFor("the client to move", async () => {
      const r = await withJar();
      return r.name === other ? r : undefined;
    });
    assert.equal(moved.cookie, `backend=${id(other)}; Path=/; HttpOnly; SameSite=Lax`);
    healthy[first.name] = true;
    for (let i = 0; i < 4; i++) assert.deepEqual(await withJar(), { name: other, cookie: null });
  } finally {
    await child.stop();
    await Deno.remove(file);
    await Deno.remove(jar);
    await a.close();
    await b.close();
  }
});
