/** `uri_block` through a compiled Plan without sockets (runtime/proxy/harness.ts): Pingap's vectors 131–134. */
import assert from "node:assert/strict";
import { planHarness } from "../proxy/harness.ts";
import { echo, planOf } from "./_test_utils.ts";

function harness(plugin: string) {
  return planHarness(
    planOf(`
[servers.s]
addr = "127.0.0.1:1"
locations = ["l"]
[upstreams.u]
addrs = ["10.0.0.1:8080"]
[locations.l]
upstream = "u"
plugins = ["b"]
[plugins.b]
category = "uri_block"
${plugin}
`),
    { upstream: echo },
  );
}

/** Each target with `method`: true when blocked (the upstream not reached). */
async function blocked(plugin: string, targets: readonly string[], method = "GET"): Promise<Record<string, boolean>> {
  const h = harness(plugin);
  try {
    const out: Record<string, boolean> = {};
    for (const t of targets) {
      const res = await h.request(`http://a.test${t}`, { method });
      await res.body?.cancel();
      out[t] = res.headers.get("x-origin") !== "1";
    }
    return out;
  } finally {
    await h.dispose();
  }
}

function expect(got: Record<string, boolean>, block: readonly string[], pass: readonly string[]) {
  for (const t of block) assert.equal(got[t], true, `${t} should be blocked`);
  for (const t of pass) assert.equal(got[t], false, `${t} should pass`);
}

Deno.test("uri_block: paths as sent and as normalised (vector 131)", async () => {
  const block = [
    "/.env",
    "/app/.env",
    "/.git/config",
    "/wp-login.php",
    "/WP-Admin/install.php",
    "/%2eenv",
    "/%2Eenv?x=1",
    "/public/../.env",
    "//.git/HEAD",
    "/a/./../.git/HEAD",
  ];
  const pass = ["/", "/env", "/app/.envoy", "/git/config", "/x?file=.env"];
  expect(
    await blocked(String.raw`paths = ['\.env$', '^/\.git/', '(?i)^/wp-(login|admin)']`, [...block, ...pass]),
    block,
    pass,
  );
});

Deno.test("uri_block: raw forms an upstream may read otherwise (vector 132)", async () => {
  const block = ["/admin/users", "/admin/..;/x", "/public/../admin", "/a%00b", "/app;jsessionid=1"];
  const pass = ["/public/admin"];
  expect(await blocked(`paths = ['^/admin', '%00', ';jsessionid']`, [...block, ...pass]), block, pass);
});

Deno.test("uri_block: queries as sent and decoded, and the method allow-list (vector 133; TRACE, which fetch refuses to make, the proxy refuses with 405 before plugins)", async () => {
  const plugin = String.raw`queries = ['\.\./', '(?i)union\s+select']
methods = ["get", "HEAD", "Post"]`;
  const block = [
    "/download?file=../../etc/passwd",
    "/download?file=..%2F..%2Fetc%2Fpasswd",
    "/download?file=%2e%2e%2fetc",
    "/search?q=1%20UNION%20SELECT%20password",
    "/search?q=1+union+select+password",
  ];
  const pass = ["/download?file=report.pdf", "/search?q=union", "/x"];
  expect(await blocked(plugin, [...block, ...pass]), block, pass);
  for (const m of ["POST", "HEAD"]) assert.equal((await blocked(plugin, ["/x"], m))["/x"], false, m);
  for (const m of ["DELETE", "PUT", "OPTIONS"]) {
    assert.equal((await blocked(plugin, ["/x"], m))["/x"], true, m);
  }
  assert.equal((await blocked(`paths = ['^/admin']`, ["/x"], "DELETE"))["/x"], false, "no list: any method");
});

Deno.test("uri_block: the answer, default and configured (vector 134)", async () => {
  let h = harness(String.raw`paths = ['\.env$']`);
  try {
    const res = await h.request("http://a.test/%2eenv");
    assert.equal(res.status, 403);
    assert.equal(await res.text(), "Request is blocked");
    assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.match(res.headers.get("cache-control") ?? "", /no-store/);
  } finally {
    await h.dispose();
  }
  h = harness(String.raw`paths = ['\.env$']
status = 404
message = "Not Found"`);
  try {
    const res = await h.request("http://a.test/%2eenv");
    assert.equal(res.status, 404);
    assert.equal(await res.text(), "Not Found");
  } finally {
    await h.dispose();
  }
});
