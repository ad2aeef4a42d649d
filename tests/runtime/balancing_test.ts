/**
 * Load balancing against real origins (issue 3): weighted round robin
 * within 10% of the weights over 400 requests, `hash:header:X-User`
 * stickiness and spread, and least_conn spreading concurrent requests.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Echo, echoHandler, type Origin, startEchoOrigin, startOrigin } from "../_support/origin.ts";
import { get, getJson, startTestProxy, type TestProxy } from "../_support/proxy.ts";

async function withOrigins(
  count: number,
  upstream: (origins: Origin[]) => string,
  fn: (proxy: TestProxy, origins: Origin[]) => Promise<void>,
): Promise<void> {
  const origins: Origin[] = [];
  let proxy: TestProxy | undefined;
  try {
    for (let i = 0; i < count; i++) origins.push(await startEchoOrigin(`o${i}`));
    proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["all"]

[locations.all]
upstream = "pool"

[upstreams.pool]
${upstream(origins)}
`);
    await fn(proxy, origins);
  } finally {
    await proxy?.close();
    for (const o of origins) await o.close();
  }
}

async function countNames(proxy: TestProxy, n: number, headers?: (i: number) => Record<string, string>) {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const echo = await getJson<Echo>(`${proxy.url}/w/${i}`, headers ? { headers: headers(i) } : {});
    counts.set(echo.name, (counts.get(echo.name) ?? 0) + 1);
  }
  return counts;
}

function assertWithin10(actual: number, expected: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= expected * 0.1,
    `${what}: ${actual} requests, expected ${expected} ± 10%`,
  );
}

Deno.test("balancing: weights 1:3 over 400 requests land within 10% of 100:300", async () => {
  await withOrigins(2, (o) => `addrs = ["${o[0]!.addr} 1", "${o[1]!.addr} 3"]`, async (proxy) => {
    const counts = await countNames(proxy, 400);
    assertWithin10(counts.get("o0") ?? 0, 100, "weight 1");
    assertWithin10(counts.get("o1") ?? 0, 300, "weight 3");
  });
});

Deno.test("balancing: three origins with weights 1:3:4 over 400 requests land within 10% of 50:150:200", async () => {
  await withOrigins(3, (o) => `addrs = ["${o[0]!.addr} 1", "${o[1]!.addr} 3", "${o[2]!.addr} 4"]`, async (proxy) => {
    const counts = await countNames(proxy, 400);
    assertWithin10(counts.get("o0") ?? 0, 50, "weight 1");
    assertWithin10(counts.get("o1") ?? 0, 150, "weight 3");
    assertWithin10(counts.get("o2") ?? 0, 200, "weight 4");
  });
});

Deno.test("balancing: hash:header:X-User sticks a user to one origin and spreads users over all", async () => {
  const addrs = (o: Origin[]) => `addrs = [${o.map((x) => `"${x.addr}"`).join(", ")}]\nalgo = "hash:header:X-User"`;
  await withOrigins(3, addrs, async (proxy) => {
    for (const user of ["alice", "bob", "carol"]) {
      const counts = await countNames(proxy, 50, () => ({ "x-user": user }));
      assert.equal(counts.size, 1, `${user} went to ${[...counts.keys()].join(", ")}`);
    }
    const spread = await countNames(proxy, 100, (i) => ({ "x-user": `user-${i}` }));
    assert.equal(spread.size, 3, `100 users reached ${[...spread.keys()].join(", ")}`);
    for (const [name, n] of spread) assert.ok(n >= 10, `${name} got only ${n} of 100 users`);
  });
});

Deno.test("balancing: least_conn sends concurrent requests to the origin with fewer in flight", async () => {
  const release = Promise.withResolvers<void>();
  const origins: Origin[] = [];
  let inFlight = 0;
  const arrived: (() => void)[] = [];
  const handler = (name: string) => {
    const echo = echoHandler(name);
    return async (req: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => {
      if (new URL(req.url).pathname === "/hold") {
        inFlight++;
        arrived.splice(0).forEach((f) => f());
        await release.promise;
      }
      return echo(req, info);
    };
  };
  let proxy: TestProxy | undefined;
  try {
    origins.push(await startOrigin("a", handler("a")), await startOrigin("b", handler("b")));
    proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["all"]
[locations.all]
upstream = "pool"
[upstreams.pool]
addrs = ["${origins[0]!.addr}", "${origins[1]!.addr}"]
algo = "least_conn"
`);
    const url = proxy.url;
    const pending: Promise<Echo>[] = [];
    for (let i = 0; i < 6; i++) {
      const arrivedOne = new Promise<void>((r) => arrived.push(r));
      pending.push(getJson<Echo>(`${url}/hold`));
      await arrivedOne;
    }
    assert.equal(inFlight, 6);
    // Each new request went to the origin with fewer in flight: 3 and 3.
    assert.equal(origins[0]!.hits.get("/hold"), 3);
    assert.equal(origins[1]!.hits.get("/hold"), 3);
    release.resolve();
    const names = (await Promise.all(pending)).map((e) => e.name).sort();
    assert.deepEqual(names, ["a", "a", "a", "b", "b", "b"]);
    // Idle again: plain requests still alternate over both.
    const after = new Set<string>();
    for (let i = 0; i < 4; i++) after.add((await getJson<Echo>(`${url}/x`)).name);
    assert.equal(after.size, 2);
    assert.equal((await get(`${url}/x`)).status, 200);
  } finally {
    release.resolve();
    await proxy?.close();
    for (const o of origins) await o.close();
  }
});
