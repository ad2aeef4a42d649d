/**
 * The admin API over real sockets, the proxy in its own process started by
 * the CLI with `--admin` (issue 20): every route, and each refusal — no or
 * a bad token, a token out of `max_age`, the `ip_fail_limit` lockout, a
 * cross-site write, a DNS-rebound Host on an admin without accounts, a
 * write that would break the config (400 with diagnostics, the file on
 * disk unchanged), the delete of an upstream still referenced. A saved
 * change is served (the normal reload path), history restores it, secrets
 * never come back.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { type Echo, freePort, type Origin, startEchoOrigin } from "../_support/origin.ts";
import { type Child, startWithAdmin } from "../_support/process.ts";
import { rawExchange } from "../_support/proxy.ts";
import { startLoad, until } from "../_support/load.ts";
import { loginToken, SECRET_PLACEHOLDER } from "../../runtime/admin/mod.ts";

const ACCOUNT = { user: "pingap", password: "s3cret" };
/** base64 of `ops:0ps`, the account of the `adm` plugin in the config. */
const OPS = btoa("ops:0ps");

function config(webPort: number, a: Origin, b: Origin): string {
  return `[servers.web]
addr = "127.0.0.1:${webPort}"
locations = ["app", "adm", "open", "down"]

[locations.app]
path = "/"
upstream = "a"

[locations.adm]
path = "/adm"
plugins = ["adm"]

[locations.open]
path = "/open"
plugins = ["open"]

[locations.down]
path = "/down"
plugins = ["down"]

[plugins.down]
category = "mock"
status = 503
data = "down"

[upstreams.a]
includes = ["timeouts"]
addrs = ["${a.addr}"]

[storages.timeouts]
category = "config"
value = 'connection_timeout = "3s"'

[upstreams.b]
addrs = ["${b.addr}"]

[plugins.adm]
category = "admin"
path = "/adm"
authorizations = ["${OPS}"]
ip_fail_limit = 3

[plugins.open]
category = "admin"
path = "/open"

[storages.token]
category = "secret"
value = "do-not-show"
`;
}

interface Ctx {
  readonly admin: string;
  readonly web: string;
  readonly file: string;
  readonly child: Child;
}

async function auth(account = ACCOUNT, ts = Math.floor(Date.now() / 1000)): Promise<Record<string, string>> {
  return { authorization: await loginToken(account, ts) };
}

async function call(
  url: string,
  init: RequestInit & { headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; text: string; json: () => unknown }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

async function served(web: string): Promise<string> {
  const res = await fetch(`${web}/x`);
  return ((await res.json()) as Echo).name;
}

async function withAdmin(test: (ctx: Ctx) => Promise<void>): Promise<void> {
  const a = await startEchoOrigin("a");
  const b = await startEchoOrigin("b");
  const webPort = freePort();
  const adminPort = freePort();
  const dir = await Deno.makeTempDir();
  const file = `${dir}/pingap.toml`;
  await Deno.writeTextFile(file, config(webPort, a, b));
  const child = startWithAdmin(file, `${ACCOUNT.user}:${ACCOUNT.password}@127.0.0.1:${adminPort}`, dir);
  try {
    await child.waitFor(/pingap:admin listening on/);
    await test({ admin: `http://127.0.0.1:${adminPort}`, web: `http://127.0.0.1:${webPort}`, file, child });
  } catch (e) {
    console.error(child.output());
    throw e;
  } finally {
    await child.stop();
    await a.close();
    await b.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("admin API: auth, refusals, every route, checked writes applied by the reload path", async (t) => {
  await withAdmin(async ({ admin, web, file, child }) => {
    const api = `${admin}/api`;

    await t.step(
      "a request without a token is 401 with an empty body, and logged; the page loads without one",
      async () => {
        const r = await call(`${api}/basic`);
        assert.equal(r.status, 401);
        assert.equal(r.text, "");
        assert.equal(r.headers.get("x-frame-options"), "DENY");
        assert.match(r.headers.get("content-security-policy") ?? "", /frame-ancestors 'none'/);
        assert.equal(r.headers.get("x-content-type-options"), "nosniff");
        assert.equal(r.headers.get("referrer-policy"), "no-referrer");
        // An API route that looks like a file is still the API (Pingap test vector 109).
        assert.equal((await call(`${api}/configs/x.js`)).status, 401);
        const page = await call(`${admin}/`);
        assert.equal(page.status, 200);
        assert.match(page.headers.get("content-type") ?? "", /text\/html/);
        assert.equal(page.headers.get("x-frame-options"), "DENY");
        assert.equal((await call(`${admin}/missing.js`)).status, 404);
        await child.waitFor(/failed login from 127\.0\.0\.1 \(missing\)/);
      },
    );

    await t.step("a wrong password and a token out of max_age are 401", async () => {
      assert.equal((await call(`${api}/basic`, { headers: await auth({ ...ACCOUNT, password: "x" }) })).status, 401);
      const old = await call(`${api}/basic`, {
        headers: await auth(ACCOUNT, Math.floor(Date.now() / 1000) - 3 * 86400),
      });
      assert.equal(old.status, 401);
      assert.match(old.text, /clock/);
      assert.equal((await call(`${api}/basic`, { headers: { authorization: "zz:1" } })).status, 401);
    });

    await t.step("GET /basic: Pingap's process facts", async () => {
      const r = await call(`${api}/basic`, { headers: await auth() });
      assert.equal(r.status, 200, r.text);
      const b = r.json() as Record<string, unknown>;
      for (const k of ["start_time", "version", "config_hash", "pid", "memory", "supported_plugins", "now"]) {
        assert.ok(k in b, k);
      }
      assert.deepEqual(b.upstream_healthy_status, {
        a: { healthy: 1, total: 1, unhealthy_backends: [] },
        b: { healthy: 1, total: 1, unhealthy_backends: [] },
      });
      assert.equal(b.support_history, true);
    });

    await t.step("GET /configs/*: items by name, the whole config, TOML; secrets never", async () => {
      const ups = (await call(`${api}/configs/upstream`, { headers: await auth() })).json() as Record<string, unknown>;
      assert.deepEqual(Object.keys(ups).sort(), ["a", "b"]);
      const plugins = (await call(`${api}/configs/plugin`, { headers: await auth() })).json() as Record<
        string,
        Record<string, unknown>
      >;
      assert.deepEqual(plugins.adm!.authorizations, [SECRET_PLACEHOLDER]);
      const whole = await call(`${api}/configs`, { headers: await auth() });
      assert.ok(!whole.text.includes("do-not-show") && !whole.text.includes(OPS), whole.text);
      const full = (await call(`${api}/configs/full`, { headers: await auth() })).json() as Record<string, string>;
      assert.match(full.original!, /\[upstreams\.a\]/);
      assert.ok(!full.full!.includes("do-not-show"));
      // `full` has the includes merged in; `original` as stored.
      type Tree = { upstreams: { a: Record<string, unknown> } };
      const fullA = (parse(full.full!) as Tree).upstreams.a;
      const originalA = (parse(full.original!) as Tree).upstreams.a;
      assert.equal(fullA.connection_timeout, "3s");
      assert.equal(fullA.includes, undefined);
      assert.deepEqual(originalA.includes, ["timeouts"]);
      // HCL and KDL: the stored config through the --to-hcl / --to-kdl writers, secrets masked.
      assert.match(full.hcl!, /^ *upstream "a" \{$/m);
      assert.match(full.hcl!, new RegExp(`addrs = \\["127\\.0\\.0\\.1:\\d+"\\]`));
      assert.match(full.kdl!, /^ *upstream "a" \{$/m);
      assert.match(full.kdl!, /^ +includes "timeouts"$/m);
      for (const text of [full.hcl!, full.kdl!]) {
        assert.ok(!text.includes("do-not-show") && !text.includes(OPS), text);
        assert.ok(text.includes(SECRET_PLACEHOLDER), text);
      }
    });

    await t.step("GET /schema: the config's JSON Schema, with docs", async () => {
      const s = (await call(`${api}/schema`, { headers: await auth() })).json() as {
        properties: Record<string, unknown>;
      };
      assert.ok(s.properties.locations && s.properties.upstreams && s.properties.plugins);
    });

    await t.step("GET /status: health per backend, counts and 5xx per server and location", async () => {
      assert.equal(await served(web), "a");
      for (let i = 0; i < 2; i++) {
        const r = await fetch(`${web}/down`);
        await r.body?.cancel();
        assert.equal(r.status, 503);
      }
      const s = (await call(`${api}/status`, { headers: await auth() })).json() as {
        servers: { name: string; errors: number; locations: { name: string; accepted: number; errors: number }[] }[];
        upstreams: { name: string; backends: { addr: string; healthy: boolean | null }[] }[];
      };
      const server = s.servers.find((x) => x.name === "web")!;
      const app = server.locations.find((l) => l.name === "app")!;
      assert.ok(app.accepted >= 1);
      assert.equal(app.errors, 0);
      assert.equal(server.locations.find((l) => l.name === "down")!.errors, 2);
      assert.equal(server.errors, 2);
      assert.deepEqual(s.upstreams.find((u) => u.name === "a")!.backends.map((b) => b.healthy), [true]);
    });

    await t.step("GET /certificates: none here, and never a key", async () => {
      const r = await call(`${api}/certificates`, { headers: await auth() });
      assert.equal(r.status, 200);
      assert.deepEqual(r.json(), {});
    });

    const before = await Deno.readTextFile(file);

    await t.step("a write that breaks the config: 400, diagnostics at the key, nothing saved, logged", async () => {
      const r = await call(`${api}/configs/location/app`, {
        method: "POST",
        headers: await auth(),
        body: JSON.stringify({ path: "/", upstream: "nope" }),
      });
      assert.equal(r.status, 400, r.text);
      const body = r.json() as { message: string; diagnostics: { key: string; path: unknown[]; message: string }[] };
      const d = body.diagnostics.find((x) => x.key === "locations.app.upstream");
      assert.ok(d, r.text);
      assert.deepEqual(d.path, ["locations", "app", "upstream"]);
      assert.match(d.message, /"nope" is not defined/);
      assert.equal(await Deno.readTextFile(file), before);
      await child.waitFor(/admin: refused put locations\.app by "pingap"/);
      assert.equal(await served(web), "a");
    });

    await t.step("a refused write's diagnostics do not quote a secret", async () => {
      const r = await call(`${api}/configs/plugin/adm`, {
        method: "POST",
        headers: await auth(),
        body: JSON.stringify({ category: "admin", path: "/adm", authorizations: ["bm90LWEtcGFpcg=="] }),
      });
      assert.equal(r.status, 400, r.text);
      assert.ok(!r.text.includes("bm90LWEtcGFpcg=="), r.text);
      assert.match(r.text, /plugins\.adm\.authorizations/);
    });

    await t.step("deleting an upstream still referenced: 400, nothing saved", async () => {
      const r = await call(`${api}/configs/upstream/a`, { method: "DELETE", headers: await auth() });
      assert.equal(r.status, 400, r.text);
      assert.match(r.text, /locations\.app\.upstream/);
      assert.equal(await Deno.readTextFile(file), before);
    });

    await t.step("a bad body and an unnamed item are 400", async () => {
      const bad = await call(`${api}/configs/location/app`, { method: "POST", headers: await auth(), body: "{" });
      assert.equal(bad.status, 400);
      const unnamed = await call(`${api}/configs/location`, { method: "POST", headers: await auth(), body: "{}" });
      assert.equal(unnamed.status, 400);
      assert.match(unnamed.text, /no name/);
      const unknown = await call(`${api}/configs/upstreams/x`, { method: "POST", headers: await auth(), body: "{}" });
      assert.equal(unknown.status, 400);
      assert.match(unknown.text, /invalid category: upstreams/);
      assert.equal(await Deno.readTextFile(file), before);
    });

    await t.step("a cross-site write is 403", async () => {
      const r = await call(`${api}/configs/location/app`, {
        method: "POST",
        headers: { ...await auth(), origin: "http://evil.test" },
        body: JSON.stringify({ path: "/", upstream: "b" }),
      });
      assert.equal(r.status, 403);
      assert.equal(await Deno.readTextFile(file), before);
    });

    await t.step("a dry run: diagnostics, the Plan's changes and the files, nothing saved", async () => {
      const r = await call(`${api}/configs/location/app?dry_run=1`, {
        method: "POST",
        headers: await auth(),
        body: JSON.stringify({ path: "/", upstream: "b" }),
      });
      assert.equal(r.status, 200, r.text);
      const body = r.json() as { ok: boolean; changes: string[]; files: { file: string; text: string }[] };
      assert.equal(body.ok, true);
      assert.deepEqual(body.changes, ["Location(app) is modified"]);
      assert.match(body.files[0]!.text, /upstream = "b"/);
      assert.equal(await Deno.readTextFile(file), before);
      assert.equal(await served(web), "a");
    });

    await t.step(
      "a good write is saved and served at once (the reload path), no request failing; history",
      async () => {
        const load = startLoad(`${web}/load`);
        const r = await call(`${api}/configs/location/app`, {
          method: "POST",
          headers: await auth(),
          body: JSON.stringify({ path: "/", upstream: "b" }),
        });
        assert.equal(r.status, 204, r.text);
        await until(() => Promise.resolve(load.ok() > 20));
        const { failures } = await load.stop();
        assert.deepEqual(failures, [], "no failed request");
        assert.match(await Deno.readTextFile(file), /upstream = "b"/);
        assert.equal(await served(web), "b");
        const h = (await call(`${api}/config-history/location/app`, { headers: await auth() })).json() as {
          history: { id: string; created_at: number; user: string; data: { upstream: string } }[];
        };
        assert.equal(h.history.length, 2);
        assert.deepEqual(h.history.map((x) => [x.user, x.data.upstream]), [["pingap", "b"], ["", "a"]]);
      },
    );

    await t.step("history: no name is 400; restoring the earlier version serves it again", async () => {
      const none = await call(`${api}/config-history/location`, { headers: await auth() });
      assert.equal(none.status, 400);
      assert.match(none.text, /Url is invalid\(no name\)/);
      const h = (await call(`${api}/config-history/location/app`, { headers: await auth() })).json() as {
        history: { id: string }[];
      };
      const r = await call(`${api}/config-history/location/app/restore`, {
        method: "POST",
        headers: await auth(),
        body: JSON.stringify({ id: h.history[1]!.id }),
      });
      assert.equal(r.status, 204, r.text);
      assert.equal(await served(web), "a");
    });

    await t.step(
      "a secret sent back as the placeholder keeps the stored value; a dry run shows no secret",
      async () => {
        const dry = await call(`${api}/configs/plugin/adm?dry_run=true`, {
          method: "POST",
          headers: await auth(),
          body: JSON.stringify({ category: "admin", path: "/adm", authorizations: [SECRET_PLACEHOLDER] }),
        });
        assert.equal(dry.status, 200, dry.text);
        assert.ok(!dry.text.includes(OPS) && !dry.text.includes("do-not-show"), dry.text);
        const r = await call(`${api}/configs/plugin/adm`, {
          method: "POST",
          headers: await auth(),
          body: JSON.stringify({
            category: "admin",
            path: "/adm",
            authorizations: [SECRET_PLACEHOLDER],
            ip_fail_limit: 4,
          }),
        });
        assert.equal(r.status, 204, r.text);
        const text = await Deno.readTextFile(file);
        assert.ok(text.includes(OPS) && text.includes("ip_fail_limit = 4"), text);
      },
    );

    await t.step("import: a whole config replaces the file; a broken one is 400", async () => {
      const now = await Deno.readTextFile(file);
      const bad = await call(`${api}/configs/import`, {
        method: "POST",
        headers: await auth(),
        body: "[servers.x]\naddr = 1\n",
      });
      assert.equal(bad.status, 400);
      assert.equal(await Deno.readTextFile(file), now);
      const good = now.replace('upstream = "a"', 'upstream = "b"');
      const r = await call(`${api}/configs/import`, { method: "POST", headers: await auth(), body: good });
      assert.equal(r.status, 204, r.text);
      assert.equal(await served(web), "b");
    });

    await t.step("POST /configs/basic replaces [basic], through the same check", async () => {
      const bad = await call(`${api}/configs/basic`, {
        method: "POST",
        headers: await auth(),
        body: JSON.stringify({ grace_period: "soon" }),
      });
      assert.equal(bad.status, 400);
      assert.ok(
        (bad.json() as { diagnostics: { key: string }[] }).diagnostics.some((d) => d.key === "basic.grace_period"),
      );
      const r = await call(`${api}/configs/basic`, {
        method: "POST",
        headers: await auth(),
        body: JSON.stringify({ name: "edited" }),
      });
      assert.equal(r.status, 204, r.text);
      assert.match(await Deno.readTextFile(file), /\[basic\]\nname = "edited"/);
    });

    await t.step("POST /restart: a reload here; 204", async () => {
      assert.equal((await call(`${api}/restart`, { method: "POST", headers: await auth() })).status, 204);
      assert.equal(await served(web), "b");
    });

    await t.step("rename: the item and every reference to it, through the same check; refusals are 400", async () => {
      const rename = async (route: string, body: unknown) =>
        await call(`${api}/configs/${route}/rename`, {
          method: "POST",
          headers: await auth(),
          body: JSON.stringify(body),
        });
      const before = await Deno.readTextFile(file);
      for (
        const [route, body, message] of [
          ["upstream/b", { to: "a" }, /upstreams\.a exists already/],
          ["upstream/nosuch", { to: "x" }, /upstreams\.nosuch is not in the stored config/],
          ["upstream/b", { to: "../x" }, /invalid/],
          ["upstream/b", {}, /the new name/],
        ] as const
      ) {
        const r = await rename(route, body);
        assert.equal(r.status, 400, r.text);
        assert.match(r.text, message);
      }
      assert.equal(await Deno.readTextFile(file), before);
      const dry = await call(`${api}/configs/upstream/b/rename?dry_run=1`, {
        method: "POST",
        headers: await auth(),
        body: JSON.stringify({ to: "b2" }),
      });
      assert.equal(dry.status, 200, dry.text);
      assert.equal(await Deno.readTextFile(file), before);
      for (const [route, to] of [["upstream/b", "b2"], ["location/app", "main"], ["storage/timeouts", "t2"]]) {
        const r = await rename(route!, { to });
        assert.equal(r.status, 204, r.text);
      }
      const tree = parse(await Deno.readTextFile(file)) as Record<string, Record<string, Record<string, unknown>>>;
      assert.deepEqual(Object.keys(tree.upstreams!).sort(), ["a", "b2"]);
      assert.equal(tree.locations!.main!.upstream, "b2");
      assert.equal(tree.locations!.app, undefined);
      assert.ok((tree.servers!.web!.locations as string[]).includes("main"));
      assert.deepEqual(tree.upstreams!.a!.includes, ["t2"]);
      assert.equal(await served(web), "b");
      const h = (await call(`${api}/config-history/upstream/b2`, { headers: await auth() })).json() as {
        history: { user: string }[];
      };
      assert.equal(h.history.length, 1);
    });

    await t.step("a plugin mounted on a path: 307 to path/ (query kept); a longer name is not its", async () => {
      const r = await fetch(`${web}/adm?x=1`, { redirect: "manual" });
      await r.body?.cancel();
      assert.equal(r.status, 307);
      assert.equal(r.headers.get("location"), "/adm/?x=1");
      const ops = await call(`${web}/adm/api/basic`, { headers: await auth({ user: "ops", password: "0ps" }) });
      assert.equal(ops.status, 200, ops.text);
    });

    await t.step("ip_fail_limit: after the limit of failures, 403 even with a good token", async () => {
      const url = `${web}/adm/api/basic`;
      for (let i = 0; i < 4; i++) assert.equal((await call(url, { headers: { authorization: "bad" } })).status, 401);
      const locked = await call(url, { headers: await auth({ user: "ops", password: "0ps" }) });
      assert.equal(locked.status, 403);
      assert.equal(locked.text, "Forbidden, too many failures");
      await child.waitFor(/too many failed logins/);
    });

    await t.step("an admin without accounts: a Host that is a DNS name is 403 (rebinding)", async () => {
      const ok = await call(`${web}/open/api/basic`);
      assert.equal(ok.status, 200, ok.text);
      const port = Number(new URL(web).port);
      const rebound = await rawExchange(
        port,
        "GET /open/api/basic HTTP/1.1\r\nHost: rebind.example\r\nConnection: close\r\n\r\n",
      );
      assert.equal(rebound?.status, 403);
      const local = await rawExchange(
        port,
        "GET /open/api/basic HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
      );
      assert.equal(local?.status, 200);
    });
  });
});
