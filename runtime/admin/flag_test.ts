import assert from "node:assert/strict";
import { compileSources } from "../../compiler/mod.ts";
import { adminAmend, adminSpec, parseAdminFlag } from "./flag.ts";

Deno.test("--admin: Pingap's forms (user:password, base64, bare address, path and max_age)", () => {
  assert.deepEqual(parseAdminFlag("pingap:123123@127.0.0.1:3018"), {
    addr: "127.0.0.1:3018",
    path: "/",
    authorization: btoa("pingap:123123"),
    maxAge: "2d",
  });
  assert.deepEqual(parseAdminFlag(`${btoa("a:b")}@0.0.0.0/pingap?max_age=1h`), {
    addr: "0.0.0.0:80",
    path: "/pingap",
    authorization: btoa("a:b"),
    maxAge: "1h",
  });
  // Percent-encoded characters are decoded (a password with `@`).
  assert.equal((parseAdminFlag("u:p%40ss@127.0.0.1:1") as { authorization: string }).authorization, btoa("u:p@ss"));
  assert.equal((parseAdminFlag("[::1]:3018") as { addr: string; authorization: string }).addr, "[::1]:3018");
  assert.match(parseAdminFlag("root@127.0.0.1:3018") as string, /neither user:password nor the base64/);
});

Deno.test("PINGAP_ADMIN_*: the address, with credentials only when both user and password are set", () => {
  const env = (vars: Record<string, string>) => (n: string) => vars[n];
  assert.equal(adminSpec("x@1.2.3.4", env({ PINGAP_ADMIN_ADDR: "9.9.9.9" })), "x@1.2.3.4");
  assert.equal(adminSpec(undefined, env({})), undefined);
  assert.equal(
    adminSpec(undefined, env({ PINGAP_ADMIN_ADDR: "0.0.0.0:80/pingap", PINGAP_ADMIN_USER: "u" })),
    "0.0.0.0:80/pingap",
  );
  assert.equal(
    adminSpec(
      undefined,
      env({ PINGAP_ADMIN_ADDR: "0.0.0.0:80", PINGAP_ADMIN_USER: "u", PINGAP_ADMIN_PASSWORD: "p@s" }),
    ),
    "u:p%40s@0.0.0.0:80",
  );
});

const WEB = `[servers.web]
addr = "0.0.0.0:80"
locations = ["app"]
[locations.app]
path = "/"
upstream = "u"
[upstreams.u]
addrs = ["127.0.0.1:1"]
`;

Deno.test("the admin mounts on the server with the same address, else on a server of its own", () => {
  const shared = parseAdminFlag("u:p@0.0.0.0:80/pingap");
  assert.ok(typeof shared !== "string");
  const a = compileSources([{ file: "a.toml", text: WEB }], { amend: adminAmend(shared) });
  assert.ok(a.plan, JSON.stringify(a.diagnostics));
  assert.deepEqual(a.plan.servers.map((s) => s.name), ["web"]);
  const web = a.plan.servers[0]!;
  const names = web.locations.map((i) => a.plan!.locations[i]!.name);
  assert.deepEqual(names.sort(), ["app", "pingap:admin"]);
  const own = parseAdminFlag("u:p@127.0.0.1:3018");
  assert.ok(typeof own !== "string");
  const b = compileSources([{ file: "a.toml", text: WEB }], { amend: adminAmend(own) });
  assert.deepEqual(b.plan?.servers.map((s) => s.name).sort(), ["pingap:admin", "web"]);
  // The user's config is not changed by the amend: its diagnostics keep their places.
  const broken = compileSources([{ file: "a.toml", text: WEB.replace('upstream = "u"', 'upstream = "x"') }], {
    amend: adminAmend(shared),
  });
  assert.equal(broken.diagnostics.find((d) => d.severity === "error")?.line, 6);
});
