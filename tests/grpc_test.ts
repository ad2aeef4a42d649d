/**
 * gRPC end to end through the proxy: a `@grpc/grpc-js` server (h2c) as the
 * origin (tests/_support/grpc_echo.ts), the proxy with a server
 * `enabled_h2 = true` (the HTTP/2 engine, which sends trailers) and an upstream
 * `alpn = "H2"` (the node:http2 client, which reads them), and a
 * `@grpc/grpc-js` client.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { compileSources } from "../compiler/mod.ts";
import { startProxy } from "../runtime/lifecycle/start.ts";
import type { RunningProxy } from "../runtime/lifecycle/serve.ts";
import { type EchoReply, type EchoRequest, echoService, startGrpcOrigin } from "./_support/grpc_echo.ts";

interface EchoClient extends grpc.Client {
  echo(
    req: EchoRequest,
    md: grpc.Metadata,
    cb: (err: grpc.ServiceError | null, reply?: EchoReply) => void,
  ): grpc.ClientUnaryCall;
  many(req: EchoRequest, md: grpc.Metadata): grpc.ClientReadableStream<EchoReply>;
}

const EchoClientCtor = grpc.makeGenericClientConstructor(echoService, "Echo") as unknown as new (
  address: string,
  credentials: grpc.ChannelCredentials,
) => EchoClient;

async function startGrpcProxy(originPort: number): Promise<RunningProxy> {
  const { plan, diagnostics } = compileSources([{
    file: "grpc.toml",
    text: `
[upstreams.grpc]
addrs = ["127.0.0.1:${originPort}"]
alpn = "H2"
max_h2_streams = 100

[locations.grpc]
upstream = "grpc"

[servers.grpc]
addr = "127.0.0.1:0"
enabled_h2 = true
locations = ["grpc"]
`,
  }]);
  assert.ok(plan, JSON.stringify(diagnostics));
  return await startProxy(plan, { log: () => {} });
}

async function withGrpc(fn: (client: EchoClient) => Promise<void>): Promise<void> {
  const origin = await startGrpcOrigin();
  let proxy: RunningProxy | undefined;
  let client: EchoClient | undefined;
  try {
    proxy = await startGrpcProxy(origin.port);
    const port = proxy.listening[0]!.port;
    client = new EchoClientCtor(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    await fn(client);
  } finally {
    client?.close();
    await proxy?.shutdown();
    await origin.close();
  }
}

function unary(
  client: EchoClient,
  req: EchoRequest,
  md = new grpc.Metadata(),
): Promise<{ error: grpc.ServiceError | null; reply?: EchoReply; status: grpc.StatusObject }> {
  return new Promise((resolve) => {
    let result: { error: grpc.ServiceError | null; reply?: EchoReply } | undefined;
    let status: grpc.StatusObject | undefined;
    const done = () => {
      if (result && status) resolve({ ...result, status });
    };
    const call = client.echo(req, md, (error, reply) => {
      result = reply === undefined ? { error } : { error, reply };
      done();
    });
    call.on("status", (s: grpc.StatusObject) => {
      status = s;
      done();
    });
  });
}

Deno.test("grpc: a unary call goes through the proxy with metadata, status and trailers", async () => {
  await withGrpc(async (client) => {
    const md = new grpc.Metadata();
    md.set("x-client-meta", "m1");
    const r = await unary(client, { message: "hello grpc" }, md);
    assert.equal(r.error, null);
    assert.deepEqual(r.reply, { message: "hello grpc", meta: ["m1"] });
    assert.equal(r.status.code, grpc.status.OK);
    assert.deepEqual(r.status.metadata.get("x-origin-trailer"), ["t1"]);
    // A second call on the same channel (and the proxy's upstream session).
    const again = await unary(client, { message: "again" });
    assert.equal(again.reply?.message, "again");
  });
});

Deno.test("grpc: an error status from the origin reaches the client", async () => {
  await withGrpc(async (client) => {
    const r = await unary(client, { message: "x", fail: true });
    assert.equal(r.error?.code, grpc.status.NOT_FOUND);
    assert.equal(r.status.code, grpc.status.NOT_FOUND);
    assert.equal(r.status.details, "no such thing: x");
  });
});

Deno.test("grpc: server streaming and concurrent calls go through the proxy", async () => {
  await withGrpc(async (client) => {
    const replies: EchoReply[] = [];
    const status = await new Promise<grpc.StatusObject>((resolve, reject) => {
      const call = client.many({ message: "s", count: 5 }, new grpc.Metadata());
      call.on("data", (r: EchoReply) => replies.push(r));
      call.on("status", resolve);
      call.on("error", (e: grpc.ServiceError) => {
        if (e.code !== grpc.status.OK) reject(e);
      });
    });
    assert.equal(status.code, grpc.status.OK);
    assert.deepEqual(replies.map((r) => r.index), [0, 1, 2, 3, 4]);
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => unary(client, { message: `m${i}` })));
    assert.deepEqual(many.map((r) => r.reply?.message), Array.from({ length: 20 }, (_, i) => `m${i}`));
    for (const r of many) assert.equal(r.status.code, grpc.status.OK);
  });
});

Deno.test("grpc: plain HTTP/1.1 requests share the enabled_h2 port with gRPC", async () => {
  const origin = await startGrpcOrigin();
  const plain = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => new Response(`plain ${req.method} ${new URL(req.url).pathname} ${await req.text()}`),
  );
  const { plan } = compileSources([{
    file: "mixed.toml",
    text: `
[upstreams.grpc]
addrs = ["127.0.0.1:${origin.port}"]
alpn = "h2"
[upstreams.plain]
addrs = ["127.0.0.1:${plain.addr.port}"]
[locations.grpc]
path = "/test.Echo/"
upstream = "grpc"
[locations.plain]
path = "/plain"
upstream = "plain"
[servers.mixed]
addr = "127.0.0.1:0"
enabled_h2 = true
locations = ["grpc", "plain"]
`,
  }]);
  assert.ok(plan);
  const proxy = await startProxy(plan, { log: () => {} });
  const port = proxy.listening[0]!.port;
  const client = new EchoClientCtor(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    const [r, res] = await Promise.all([
      unary(client, { message: "mixed" }),
      fetch(`http://127.0.0.1:${port}/plain/x`, { method: "POST", body: "hi" }),
    ]);
    assert.equal(r.status.code, grpc.status.OK);
    assert.equal(r.reply?.message, "mixed");
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "plain POST /plain/x hi");
  } finally {
    client.close();
    await proxy.shutdown();
    await plain.shutdown();
    await origin.close();
  }
});
