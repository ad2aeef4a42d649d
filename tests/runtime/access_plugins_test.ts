/**
 * The access plugins over real sockets (issue 18): the proxy in its own process (`mod.ts start`), an origin that
 * counts what reaches it, and curl as the client. `ip_restriction` (Pingap's vector 80, the client IP from
 * `basic.trusted_proxies` only), `ua_restriction` (vector 104), `referer_restriction` (vector 96) and `limit` (inflight,
 * and rate keyed by header, cookie and query, with Pingap 0.16's `missing_key`, `headers` and `Retry-After`). Every
 * refusal is in the access log with its status and counted in `pingap_plugin_refusals_total`, and nothing refused
 * reaches the origin.
 *
 * @module
 */
import assert from "node:assert/strict";
import { freePort, type Origin, startOrigin } from "../_support/origin.ts";
import { type Child, spawnDeno, spawnProxy, START_ARGS } from "../_support/process.ts";
import { rawExchange } from "../_support/proxy.ts";

/** Requests the slow path holds until released. */
const held: (() => void)[] = [];

async function startCountingOrigin(): Promise<Origin> {
  return await startOrigin("app", async (req) => {
    if (new URL(req.url).pathname.startsWith("/inflight")) {
      const { promise, resolve } = Promise.withResolvers<void>();
      held.push(resolve);
      await promise;
    }
    return new Response("origin");
  });
}

/** Waits until one request is held at the origin. */
async function waitHeld(): Promise<void> {
  for (let i = 0; i < 500 && held.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(held.length, 1, "a request reached the origin and is held there");
}

interface Curled {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

/** curl `url` with `args`; returns the last response's status, headers and body. */
async function curl(url: string, ...args: string[]): Promise<Curled> {
  const out = await new Deno.Command("curl", { args: ["-s", "-i", "--max-time", "20", ...args, url] }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const text = new TextDecoder().decode(out.stdout);
  const split = text.indexOf("\r\n\r\n");
  const head = text.slice(0, split).split("\r\n");
  const headers = new Headers();
  for (const line of head.slice(1)) {
    const colon = line.indexOf(":");
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return { status: Number(head[0]!.split(" ")[1]), headers, body: text.slice(split + 4) };
}

interface Running {
  readonly url: string;
  readonly origin: Origin;
  /** The access log's lines, once it holds at least `count`. */
  lines(count: number): Promise<string[]>;
}

const PLUGINS = `
[plugins.ipDeny]
category = "ip_restriction"
type = "deny"
ip_list = ["192.168.1.1", "1.1.1.0/24"]

[plugins.ipAllow]
category = "ip_restriction"
type = "allow"
ip_list = ["192.168.1.1", "1.1.1.0/24"]
message = "Only the office"

[plugins.uaDeny]
category = "ua_restriction"
type = "deny"
ua_list = ["go-http-client/1.1", "(Twitterspider)/(\\\\d+)\\\\.(\\\\d+)"]

[plugins.refDeny]
category = "referer_restriction"
type = "deny"
referer_list = ["github.com", "*.bing.cn"]

[plugins.refAllow]
category = "referer_restriction"
type = "allow"
referer_list = ["*.example.org"]

[plugins.oneAtATime]
category = "limit"
type = "inflight"
max = 1

[plugins.perApp]
category = "limit"
tag = "header"
key = "X-App"
max = 3
interval = "1m"
missing_key = "reject"
headers = true

[plugins.perCookie]
category = "limit"
tag = "cookie"
key = "deviceId"
max = 2
interval = "30s"
status = 503
message = "slow down"

[plugins.perQuery]
category = "limit"
tag = "query"
key = "app"
max = 2
interval = "1m"
`;

const LOCATIONS: Record<string, string> = {
  ipDeny: "ipDeny",
  ipAllow: "ipAllow",
  ua: "uaDeny",
  referer: "refDeny",
  refererAllow: "refAllow",
  inflight: "oneAtATime",
  app: "perApp",
  cookie: "perCookie",
  query: "perQuery",
};

/** The proxy process with `basic` as its `[basic]` section, one location per plugin at `/<location>`. */
async function withProxy(basic: string, fn: (proxy: Running) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  const log = `${dir}/access.log`;
  const file = `${dir}/pingap.toml`;
  const port = freePort();
  const origin = await startCountingOrigin();
  let child: Child | undefined;
  try {
    const locations = Object.entries(LOCATIONS).map(([path, plugin]) =>
      `[locations.${path}]\npath = "/${path}"\nupstream = "app"\nplugins = ["${plugin}"]\n`
    );
    await Deno.writeTextFile(
      file,
      `[basic]\n${basic}\n\n[servers.s]\naddr = "127.0.0.1:${port}"\nlocations = [${
        Object.keys(LOCATIONS).map((l) => `"${l}"`).join(", ")
      }]\naccess_log = "${log}?rolling=never {status} {path} {client_ip}"\nprometheus_metrics = "/metrics"\n\n` +
        `[upstreams.app]\naddrs = ["${origin.addr}"]\n\n${locations.join("\n")}\n${PLUGINS}`,
    );
    child = spawnDeno([...START_ARGS, file]);
    await child.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+/);
    await fn({
      url: `http://127.0.0.1:${port}`,
      origin,
      async lines(count) {
        for (let i = 0; i < 500; i++) {
          const lines = (await Deno.readTextFile(log).catch(() => "")).split("\n").filter((l) => l !== "");
          if (lines.length >= count) return lines;
          await new Promise((r) => setTimeout(r, 20));
        }
        throw new Error(`fewer than ${count} access log lines:\n${await Deno.readTextFile(log).catch(String)}`);
      },
    });
  } finally {
    for (const release of held.splice(0)) release();
    if (child) assert.equal(await child.stop(), 0, "the proxy stops cleanly");
    await origin.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** `pingap_plugin_refusals_total` of `location`, `plugin` and `code` in the proxy's exposition. */
async function refusals(url: string, location: string, plugin: string, code: number): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((l) =>
    l.startsWith("pingap_plugin_refusals_total{") && l.includes(`location="${location}"`) &&
    l.includes(`plugin="${plugin}"`) && l.includes(`code="${code}"`)
  );
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}

Deno.test("ip_restriction over real sockets: vector 80 through a trusted proxy, 403 with the message", async () => {
  await withProxy('trusted_proxies = ["127.0.0.1"]', async ({ url, origin, lines }) => {
    assert.equal((await curl(`${url}/ipDeny`, "-H", "X-Forwarded-For: 2.1.1.2")).status, 200);
    const denied = await curl(`${url}/ipDeny`, "-H", "X-Forwarded-For: 192.168.1.1");
    assert.equal(denied.status, 403);
    assert.equal(denied.body, "Request is forbidden");
    assert.equal((await curl(`${url}/ipDeny`, "-H", "X-Forwarded-For: 6.6.6.6, 1.1.1.2")).status, 403);
    assert.equal((await curl(`${url}/ipAllow`, "-H", "X-Forwarded-For: 192.168.1.1")).status, 200);
    const outside = await curl(`${url}/ipAllow`);
    assert.equal(outside.status, 403, "127.0.0.1 itself is not on the allow list");
    assert.equal(outside.body, "Only the office");
    assert.equal(origin.hits.get("/ipDeny"), 1);
    assert.equal(origin.hits.get("/ipAllow"), 1);
    const log = await lines(5);
    assert.ok(log.includes("403 /ipDeny 192.168.1.1"), log.join("\n"));
    assert.ok(log.includes("403 /ipAllow 127.0.0.1"), log.join("\n"));
    assert.equal(await refusals(url, "ipDeny", "ipDeny", 403), 2);
  });
});

Deno.test("ip_restriction over real sockets: without trusted_proxies X-Forwarded-For is ignored", async () => {
  await withProxy("", async ({ url }) => {
    assert.equal((await curl(`${url}/ipDeny`, "-H", "X-Forwarded-For: 192.168.1.1")).status, 200);
    assert.equal((await curl(`${url}/ipAllow`, "-H", "X-Forwarded-For: 192.168.1.1")).status, 403);
    assert.equal((await curl(`${url}/ipAllow`, "-H", "X-Real-IP: 1.1.1.7")).status, 403);
  });
});

Deno.test("ua_restriction and referer_restriction over real sockets: vectors 104 and 96", async () => {
  await withProxy("", async ({ url, origin, lines }) => {
    assert.equal((await curl(`${url}/ua`, "-A", "pingap/1.0")).status, 200);
    const ua = await curl(`${url}/ua`, "-A", "go-http-client/1.1");
    assert.equal(ua.status, 403);
    assert.equal(ua.body, "Request is forbidden");
    assert.equal((await curl(`${url}/ua`, "-A", "Mozilla/5.0 Twitterspider/2.13")).status, 403);
    assert.equal((await curl(`${url}/referer`, "-e", "https://google.com/")).status, 200);
    assert.equal((await curl(`${url}/referer`, "-e", "https://github.com/vicanso")).status, 403);
    assert.equal((await curl(`${url}/referer`, "-e", "https://test.bing.cn/")).status, 403);
    assert.equal((await curl(`${url}/referer`)).status, 200, "no Referer: nothing on the deny list");
    assert.equal((await curl(`${url}/refererAllow`, "-e", "https://www.example.org/a")).status, 200);
    assert.equal((await curl(`${url}/refererAllow`)).status, 403, "no Referer: nothing on the allow list");
    assert.equal(origin.hits.get("/ua"), 1);
    assert.equal(origin.hits.get("/referer"), 2);
    assert.equal(origin.hits.get("/refererAllow"), 1);
    const log = await lines(9);
    assert.equal(log.filter((l) => l.startsWith("403 /ua ")).length, 2, log.join("\n"));
    assert.equal(await refusals(url, "referer", "refDeny", 403), 2);
  });
});

Deno.test("limit over real sockets: inflight, and rate by header, cookie and query with Pingap 0.16's answers", async () => {
  await withProxy("", async ({ url, origin, lines }) => {
    // inflight: one request held at the origin; a second one from the same IP is refused until it ends.
    const first = curl(`${url}/inflight`);
    first.catch(() => {}); // awaited below; a failure before that is reported there
    await waitHeld();
    const second = await curl(`${url}/inflight`, "--max-time", "5");
    assert.equal(second.status, 429);
    assert.equal(second.body, "Plugin limit, exceed limit 2/1");
    assert.equal(second.headers.get("retry-after"), null);
    held.shift()!();
    assert.equal((await first).status, 200);
    const third = curl(`${url}/inflight`);
    third.catch(() => {});
    await waitHeld();
    held.shift()!();
    assert.equal((await third).status, 200, "the slot was given back");

    // rate by header, 3 per minute, budget headers, missing key rejected.
    for (let i = 1; i <= 3; i++) {
      const ok = await curl(`${url}/app`, "-H", "X-App: a");
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get("x-ratelimit-limit"), "3");
      assert.equal(ok.headers.get("x-ratelimit-remaining"), String(3 - i));
    }
    const over = await curl(`${url}/app`, "-H", "X-App: a");
    assert.equal(over.status, 429);
    assert.match(over.body, /^Plugin limit, exceed limit 4(\.\d+)?\/3$/);
    assert.equal(over.headers.get("retry-after"), "60");
    assert.equal(over.headers.get("x-ratelimit-remaining"), "0");
    assert.ok(Number(over.headers.get("x-ratelimit-reset")) >= 60);
    assert.equal((await curl(`${url}/app`, "-H", "X-App: b")).status, 200, "another key has its own budget");
    const missing = await curl(`${url}/app`);
    assert.equal(missing.status, 400);
    assert.equal(missing.body, "Plugin limit, the header X-App is required");
    assert.equal(origin.hits.get("/app"), 4);

    // rate by cookie with its own status and message; without the cookie, unlimited.
    for (let i = 0; i < 2; i++) assert.equal((await curl(`${url}/cookie`, "-b", "deviceId=abc")).status, 200);
    const cookie = await curl(`${url}/cookie`, "-b", "deviceId=abc");
    assert.equal(cookie.status, 503);
    assert.equal(cookie.body, "slow down");
    assert.equal(cookie.headers.get("retry-after"), "30");
    for (let i = 0; i < 3; i++) assert.equal((await curl(`${url}/cookie`)).status, 200);

    // rate by query parameter.
    for (let i = 0; i < 2; i++) assert.equal((await curl(`${url}/query?app=x`)).status, 200);
    assert.equal((await curl(`${url}/query?app=x`)).status, 429);
    assert.equal((await curl(`${url}/query?app=y`)).status, 200);

    const log = await lines(19);
    assert.ok(log.includes("429 /inflight 127.0.0.1"), log.join("\n"));
    assert.ok(log.includes("429 /app 127.0.0.1") && log.includes("400 /app 127.0.0.1"), log.join("\n"));
    assert.equal(await refusals(url, "app", "perApp", 429), 1);
    assert.equal(await refusals(url, "cookie", "perCookie", 503), 1);
    assert.equal(await refusals(url, "query", "perQuery", 429), 1);
  });
});

Deno.test("limit over real sockets: a reload keeps an unchanged limit's counts and starts a changed one afresh", async () => {
  const origin = await startOrigin("app", () => new Response("ok"));
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  const port = freePort();
  const config = (max: number, tag: string) =>
    `[servers.s]\naddr = "127.0.0.1:${port}"\nlocations = ["all"]\n\n` +
    `[locations.all]\nupstream = "app"\nplugins = ["perApp"]\nproxy_set_headers = ["X-Tag:${tag}"]\n\n` +
    `[upstreams.app]\naddrs = ["${origin.addr}"]\n\n` +
    `[plugins.perApp]\ncategory = "limit"\ntag = "header"\nkey = "X-App"\nmax = ${max}\ninterval = "1h"\n`;
  await Deno.writeTextFile(file, config(2, "a"));
  const child = spawnDeno([...START_ARGS, file]);
  let reloads = 0;
  const reload = async (text: string) => {
    await Deno.writeTextFile(file, text);
    Deno.kill(child.pid, "SIGHUP");
    reloads++;
    for (let i = 0; i < 500 && (child.output().match(/reload \(SIGHUP\): /g) ?? []).length < reloads; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal((child.output().match(/reload \(SIGHUP\): /g) ?? []).length, reloads, child.output());
  };
  const status = async () => (await curl(`http://127.0.0.1:${port}/`, "-H", "X-App: a")).status;
  try {
    await child.waitFor(/listening on/);
    assert.deepEqual([await status(), await status(), await status()], [200, 200, 429]);
    await reload(config(2, "b")); // the location changes, the plugin does not
    assert.equal(await status(), 429, "the unchanged limit kept its count");
    await reload(config(3, "b")); // the plugin changes
    assert.deepEqual([await status(), await status(), await status(), await status()], [200, 200, 200, 429]);
  } finally {
    assert.equal(await child.stop(), 0, child.output());
    await origin.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("limit by cookie over real sockets: a cookie in the second of two Cookie fields is found", async () => {
  await withProxy("", async ({ url }) => {
    const port = Number(new URL(url).port);
    // Two Cookie fields, as an HTTP/2 client's crumbs reach an HTTP/1.1 hop: the key is in the second one.
    const ask = async () =>
      (await rawExchange(
        port,
        "GET /cookie HTTP/1.1\r\nHost: a.test\r\nCookie: theme=dark\r\nCookie: deviceId=two-fields\r\n" +
          "Connection: close\r\n\r\n",
      ))?.status;
    assert.deepEqual([await ask(), await ask(), await ask()], [200, 200, 503], "counted by deviceId: 2 allowed");
  });
});

Deno.test("limit by cookie over HTTP/2 (h2c, curl): a cookie in any of the client's Cookie fields is found", async () => {
  const origin = await startOrigin("app", () => new Response("ok"));
  const { child, port, file } = await spawnProxy(`
[servers.s]
addr = "127.0.0.1:0"
enabled_h2 = true
locations = ["l"]

[upstreams.app]
addrs = ["${origin.addr}"]

[locations.l]
upstream = "app"
plugins = ["perDevice"]

[plugins.perDevice]
category = "limit"
tag = "cookie"
key = "deviceId"
max = 1
interval = "1m"
missing_key = "reject"
`);
  try {
    // HTTP/2 clients send one Cookie field per cookie (RFC 9113 8.2.3): the key is in the second. (Deno.serve joins
    // them with "; " itself, so this passes also without ctx.cookieHeader(); the HTTP/1.1 test above needs it.)
    const ask = async () => {
      const r = await curl(
        `http://127.0.0.1:${port}/x`,
        "--http2-prior-knowledge",
        "-H",
        "Cookie: theme=dark",
        "-H",
        "Cookie: deviceId=h2",
      );
      return `${r.status} ${r.body}`;
    };
    assert.equal(await ask(), "200 ok");
    assert.equal(await ask(), "429 Plugin limit, exceed limit 2/1");
  } finally {
    await child.stop();
    await Deno.remove(file);
    await origin.close();
  }
});
