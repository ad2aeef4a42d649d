import assert from "node:assert/strict";
import { compileSources } from "./mod.ts";

function compile(server: string, upstream: string) {
  return compileSources([{
    file: "g.toml",
    text: `
[upstreams.grpc]
addrs = ["127.0.0.1:50051"]
${upstream}

[locations.grpc]
upstream = "grpc"
grpc_web = true

[servers.s]
addr = "127.0.0.1:8080"
locations = ["grpc"]
${server}
`,
  }]);
}

Deno.test("grpc_web: the location is bridged when its server has the grpc-web module, with no warning", () => {
  const { plan, diagnostics } = compile('modules = ["grpc-web"]', 'alpn = "H2"');
  assert.deepEqual(diagnostics, []);
  assert.equal(plan?.locations[0]?.grpcWeb, true);
});

Deno.test("grpc_web on a server without the grpc-web module fails check (Pingap answers 500 at runtime)", () => {
  const { plan, diagnostics } = compile("", 'alpn = "H2"');
  assert.equal(plan, undefined);
  const d = diagnostics.find((d) => d.code === "missing-module");
  assert.equal(d?.severity, "error");
  assert.deepEqual(d?.path, ["servers", "s", "modules"]);
  assert.equal(d?.line, 10, "the [servers.s] line, which lacks the key");
});

Deno.test("grpc_web with an upstream that speaks HTTP/1.1 is warned about (gRPC needs HTTP/2)", () => {
  for (const upstream of ["", 'alpn = "H2H1"']) {
    const { plan, diagnostics } = compile('modules = ["grpc-web"]', upstream);
    assert.ok(plan);
    const d = diagnostics.find((d) => d.code === "grpc-web-h1-upstream");
    assert.equal(d?.severity, "warning", upstream);
    assert.deepEqual(d?.path, ["locations", "grpc", "grpc_web"]);
    assert.match(d?.hint ?? "", /alpn = "H2"/);
  }
  // h2h1 over TLS is HTTP/2 only.
  const tls = compile('modules = ["grpc-web"]', 'alpn = "H2H1"\nsni = "grpc.test"');
  assert.equal(tls.diagnostics.find((d) => d.code === "grpc-web-h1-upstream"), undefined);
});
