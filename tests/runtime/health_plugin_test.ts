/** `health` end to end: curl over real sockets asks a real proxy whose health checks probe a live and a dead origin. */
import assert from "node:assert/strict";
import { freePort, startEchoOrigin } from "../_support/origin.ts";
import { startTestProxy } from "../_support/proxy.ts";

async function curl(url: string): Promise<{ status: number; body: string }> {
  const out = await new Deno.Command("curl", { args: ["-s", "-w", "\n%{http_code}", url], stdout: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  const cut = text.lastIndexOf("\n");
  return { status: Number(text.slice(cut + 1)), body: text.slice(0, cut) };
}

Deno.test("health: curl gets 200 for the live upstream and 503 naming the dead backend once checks ran", async () => {
  const origin = await startEchoOrigin("live");
  const dead = `127.0.0.1:${freePort()}`;
  const proxy = await startTestProxy(`
[servers.s]
addr = "127.0.0.1:0"
locations = ["l"]
[upstreams.live]
addrs = ["${origin.addr}"]
health_check = "tcp://live?check_frequency=1s"
[upstreams.dead]
addrs = ["${dead}"]
health_check = "tcp://dead?check_frequency=1s&connection_timeout=200ms"
[locations.l]
upstream = "live"
plugins = ["live_ready", "dead_ready"]
[plugins.live_ready]
category = "health"
path = "/readyz"
upstreams = ["live"]
[plugins.dead_ready]
category = "health"
path = "/deadz"
upstreams = ["dead"]
`);
  try {
    let dead503: { status: number; body: string } | undefined;
    for (let i = 0; i < 50 && dead503 === undefined; i++) {
      const r = await curl(`${proxy.url}/deadz`);
      if (r.status === 503) dead503 = r;
      else await new Promise((ok) => setTimeout(ok, 100));
    }
    assert.ok(dead503, "the dead upstream is reported not ready");
    assert.deepEqual(JSON.parse(dead503.body), {
      ready: false,
      upstreams: { dead: { healthy: 0, total: 1, ready: false, unhealthy_backends: [dead] } },
    });
    const live = await curl(`${proxy.url}/readyz`);
    assert.equal(live.status, 200);
    assert.deepEqual(JSON.parse(live.body), {
      ready: true,
      upstreams: { live: { healthy: 1, total: 1, ready: true } },
    });
    const other = await curl(`${proxy.url}/other`);
    assert.equal(other.status, 200);
    assert.equal(JSON.parse(other.body).name, "live", "other paths are proxied");
  } finally {
    await proxy.close();
    await origin.close();
  }
});
