/**
 * Health checks against real servers started in each test: a Deno.serve
 * origin whose /health status is toggled, a TLS origin with a self-signed
 * certificate, a node:http2 gRPC health server, a closed port, and a server
 * that never answers. Frequencies are 50–100 ms; time bounds are generous.
 */
import assert from "node:assert/strict";
import http2 from "node:http2";
import { Buffer } from "node:buffer";
import { type HealthCheck, healthCheck } from "../../compiler/mod.ts";
import { createHealthChecker, decodeGrpcHealthResponse, encodeGrpcHealthRequest, probe } from "./health.ts";
import { backendAt as backend, closedPort, delay as sleep, waitFor } from "./_test_utils.ts";

/** Self-signed for "upstreamname", valid until 2126. */
const CERT = `-----BEGIN CERTIFICATE-----
MIIBnjCCAUSgAwIBAgIUd1Dy1M9b0o4IAXfotZ0nRt06a+gwCgYIKoZIzj0EAwIw
FzEVMBMGA1UEAwwMdXBzdHJlYW1uYW1lMCAXDTI2MTEyMjAyMzYwOVoYDzIxMjYx
MDI5MDIzNjA5WjAXMRUwEwYDVQQDDAx1cHN0cmVhbW5hbWUwWTATBgcqhkjOPQIB
BggqhkjOPQMBBwNCAASSNkpNxipSweeQkrDX7EVCmlI7PIlKBffcHOXg+Mlz7aTY
Yj/yx3dYARSdvf9o6PdJEhoEpsUQQZW5ZBf0bgdyo2wwajAdBgNVHQ4EFgQU3HRm
fO8hp8w0F27m8+gMS4c/c3IwHwYDVR0jBBgwFoAU3HRmfO8hp8w0F27m8+gMS4c/
c3IwDwYDVR0TAQH/BAUwAwEB/zAXBgNVHREEEDAOggx1cHN0cmVhbW5hbWUwCgYI
KoZIzj0EAwIDSAAwRQIgU5dLA4nhl47+chVUb03x/bLzx6jqwWczWDbol7JsQ5QC
IQDeceCC7BEwNf/mEpzPHx9AiJYyOHpmTTXN/++amEW40A==
-----END CERTIFICATE-----
`;
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg/1GHGfg3PzQLH4+Q
nVPcLImsnPU13e4Yv7nz8c7GZcGhRANCAASSNkpNxipSweeQkrDX7EVCmlI7PIlK
BffcHOXg+Mlz7aTYYj/yx3dYARSdvf9o6PdJEhoEpsUQQZW5ZBf0bgdy
-----END PRIVATE KEY-----
`;

function parse(url: string): HealthCheck {
  const r = healthCheck(url);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

/** An origin whose /health answers `state.status`; records the Host headers it saw. */
function origin(options: { tls?: boolean } = {}) {
  const state = { status: 200, hosts: new Set<string>(), paths: new Set<string>(), hits: 0 };
  const server = Deno.serve(
    {
      hostname: "127.0.0.1",
      port: 0,
      onListen() {},
      ...(options.tls ? { cert: CERT, key: KEY } : {}),
    },
    (req) => {
      const url = new URL(req.url);
      state.hits++;
      state.hosts.add(req.headers.get("host") ?? "");
      state.paths.add(url.pathname + url.search);
      const status = url.pathname === "/health" ? state.status : 404;
      return new Response(status === 204 || status === 304 ? null : "x".repeat(10_000), { status });
    },
  );
  return { state, server, backend: backend(server.addr.port) };
}

Deno.test("createHealthChecker() http marks a backend down after `failure` failures and up after `success` successes", async () => {
  const o = origin();
  const events: string[] = [];
  const checker = createHealthChecker(
    "web",
    parse("http://upstreamname/health?check_frequency=50ms&failure=2&success=2&from=test"),
    [o.backend],
    { onChange: (b, healthy) => events.push(`${b.addr} ${healthy}`) },
  );
  try {
    await waitFor("a first check", () => o.state.hits >= 1);
    assert.equal(checker.isHealthy(o.backend.addr), true);
    assert.deepEqual([...o.state.hosts], ["upstreamname"]);
    assert.deepEqual([...o.state.paths], ["/health?from=test"]);

    o.state.status = 503;
    const hitsAtDown = o.state.hits;
    await waitFor("unhealthy", () => !checker.isHealthy(o.backend.addr));
    assert.ok(o.state.hits - hitsAtDown >= 2, "needs 2 consecutive failures");
    assert.equal(checker.healthyCount(), 0);
    assert.match(checker.snapshot()[0]!.lastError ?? "", /503/);

    o.state.status = 200;
    const hitsAtUp = o.state.hits;
    await waitFor("healthy again", () => checker.isHealthy(o.backend.addr));
    assert.ok(o.state.hits - hitsAtUp >= 2, "needs 2 consecutive successes");
    assert.deepEqual(events, [`${o.backend.addr} false`, `${o.backend.addr} true`]);
    assert.equal(checker.snapshot()[0]!.lastError, undefined);
  } finally {
    await checker.dispose();
    await o.server.shutdown();
  }
});

Deno.test("createHealthChecker() http counts only 200 as healthy", async () => {
  const o = origin();
  try {
    for (const status of [204, 301, 404, 500]) {
      o.state.status = status;
      await assert.rejects(probe(parse("http://h/health"), o.backend), new RegExp(String(status)));
    }
    o.state.status = 200;
    await probe(parse("http://h/health"), o.backend);
  } finally {
    await o.server.shutdown();
  }
});

Deno.test("createHealthChecker() https checks without verifying the certificate, reusing a connection with `reuse`", async () => {
  const o = origin({ tls: true });
  const checker = createHealthChecker(
    "tls",
    parse("https://other.example/health?check_frequency=50ms&failure=1&reuse"),
    [o.backend],
  );
  try {
    await waitFor("three checks", () => o.state.hits >= 3);
    assert.equal(checker.isHealthy(o.backend.addr), true);
    assert.deepEqual([...o.state.hosts], ["other.example"]);
    o.state.status = 500;
    await waitFor("unhealthy", () => !checker.isHealthy(o.backend.addr));
  } finally {
    await checker.dispose();
    await o.server.shutdown();
  }
});

Deno.test("createHealthChecker() tcp marks a closed port unhealthy and an open one healthy", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = backend(listener.addr.port);
  const closed = backend(closedPort());
  const events: string[] = [];
  const checker = createHealthChecker(
    "tcp",
    parse("tcp://ignored?check_frequency=50ms&failure=2&parallel"),
    [open, closed],
    { onChange: (b, healthy) => events.push(`${b.addr} ${healthy}`) },
  );
  try {
    assert.equal(checker.isHealthy(closed.addr), true, "backends start healthy");
    await waitFor("closed port unhealthy", () => !checker.isHealthy(closed.addr));
    await checker.checkNow();
    assert.equal(checker.isHealthy(open.addr), true);
    assert.deepEqual(events, [`${closed.addr} false`]);
  } finally {
    await checker.dispose();
    listener.close();
  }
});

Deno.test("createHealthChecker() default check (tcp, 10 s) runs a first round at once", async () => {
  const closed = backend(closedPort());
  const r = healthCheck("tcp://x?failure=1");
  assert.ok(r.ok);
  const checker = createHealthChecker("d", r.value, [closed]);
  try {
    await waitFor("first round", () => !checker.isHealthy(closed.addr));
  } finally {
    await checker.dispose();
  }
});

Deno.test("createHealthChecker() update keeps states of remaining backends; new ones start healthy", async () => {
  const closed = backend(closedPort());
  const o = origin();
  const checker = createHealthChecker("u", parse("http://h/health?check_frequency=1h&failure=1"), [closed]);
  try {
    await checker.checkNow();
    assert.equal(checker.isHealthy(closed.addr), false);
    checker.update([closed, o.backend]);
    assert.equal(checker.isHealthy(closed.addr), false);
    assert.equal(checker.isHealthy(o.backend.addr), true);
    assert.equal(checker.isHealthy("10.9.9.9:1"), true, "unknown backends count as healthy");
    await checker.checkNow();
    assert.equal(checker.isHealthy(o.backend.addr), true);
    checker.update([o.backend]);
    assert.deepEqual(checker.snapshot().map((s) => s.backend.addr), [o.backend.addr]);
  } finally {
    await checker.dispose();
    await o.server.shutdown();
  }
});

Deno.test("createHealthChecker() dispose stops the timer and aborts a check in flight", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) held.push(conn); // Never answers.
    } catch { /* closed */ }
  })();
  const checker = createHealthChecker(
    "slow",
    parse("http://h/health?check_frequency=50ms&read_timeout=30s&connection_timeout=30s"),
    [backend(listener.addr.port)],
  );
  try {
    await waitFor("a connection", () => held.length >= 1);
    const started = Date.now();
    await checker.dispose();
    assert.ok(Date.now() - started < 3000, "dispose did not wait for the 30 s timeout");
    assert.equal(checker.isHealthy(backend(listener.addr.port).addr), true, "an aborted check changes nothing");
    await sleep(150);
    assert.equal(held.length, 1, "no round after dispose");
  } finally {
    await checker.dispose();
    listener.close();
    await accepting;
    for (const c of held) c.close();
  }
});

Deno.test("createHealthChecker() http read timeout fails the check", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) held.push(conn);
    } catch { /* closed */ }
  })();
  try {
    const started = Date.now();
    await assert.rejects(probe(parse("http://h/?read_timeout=100ms"), backend(listener.addr.port)), /timed out/);
    assert.ok(Date.now() - started < 3000);
  } finally {
    listener.close();
    await accepting;
    for (const c of held) c.close();
  }
});

/** A gRPC health server (node:http2, h2c); `state.serving` decides the answer. */
async function grpcServer(options: { tls?: boolean } = {}) {
  const state = { serving: true, services: [] as string[], authorities: [] as string[] };
  const server = options.tls ? http2.createSecureServer({ cert: CERT, key: KEY }) : http2.createServer();
  server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    state.authorities.push(String(headers[":authority"]));
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      const body = Buffer.concat(chunks);
      state.services.push(new TextDecoder().decode(body.subarray(7)));
      if (headers[":path"] !== "/grpc.health.v1.Health/Check") {
        stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "12" }, {
          endStream: true,
        });
        return;
      }
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      stream.end(Buffer.from([0, 0, 0, 0, 2, 8, state.serving ? 1 : 2]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    state,
    backend: backend(port),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

Deno.test("createHealthChecker() grpc asks grpc.health.v1 Check and needs SERVING", async () => {
  const g = await grpcServer();
  const events: boolean[] = [];
  const checker = createHealthChecker(
    "grpc",
    parse("grpc://grpc-upstream?check_frequency=50ms&failure=1&success=1&service=pingap.Echo"),
    [g.backend],
    { onChange: (_b, healthy) => events.push(healthy) },
  );
  try {
    await waitFor("a check", () => g.state.services.length >= 1);
    assert.equal(g.state.services[0], "pingap.Echo");
    assert.equal(g.state.authorities[0], "grpc-upstream");
    assert.equal(checker.isHealthy(g.backend.addr), true);
    g.state.serving = false;
    await waitFor("not serving", () => !checker.isHealthy(g.backend.addr));
    g.state.serving = true;
    await waitFor("serving again", () => checker.isHealthy(g.backend.addr));
    assert.deepEqual(events, [false, true]);
  } finally {
    await checker.dispose();
    await g.close();
  }
});

Deno.test("createHealthChecker() grpc with `tls` checks over TLS without verifying the certificate", async () => {
  const g = await grpcServer({ tls: true });
  try {
    await probe(parse("grpc://upstreamname?tls"), g.backend);
    g.state.serving = false;
    await assert.rejects(probe(parse("grpc://upstreamname?tls"), g.backend), /not SERVING/);
    await assert.rejects(probe(parse("grpc://upstreamname?read_timeout=1s"), g.backend)); // h2c to a TLS port
  } finally {
    await g.close();
  }
});

Deno.test("createHealthChecker() grpc against a closed port or a non-gRPC origin fails", async () => {
  await assert.rejects(probe(parse("grpc://x?connection_timeout=1s"), backend(closedPort())));
  const o = origin();
  try {
    await assert.rejects(probe(parse("grpc://x?read_timeout=1s"), o.backend));
  } finally {
    await o.server.shutdown();
  }
});

Deno.test("encodeGrpcHealthRequest() and decodeGrpcHealthResponse() speak the health.proto wire format", () => {
  assert.deepEqual([...encodeGrpcHealthRequest("")], [0, 0, 0, 0, 0]);
  assert.deepEqual([...encodeGrpcHealthRequest("ab")], [0, 0, 0, 0, 4, 0x0a, 2, 0x61, 0x62]);
  const long = encodeGrpcHealthRequest("s".repeat(200));
  assert.deepEqual([...long.subarray(0, 8)], [0, 0, 0, 0, 203, 0x0a, 0xc8, 0x01]);
  assert.equal(decodeGrpcHealthResponse(new Uint8Array([0, 0, 0, 0, 2, 8, 1])), 1);
  assert.equal(decodeGrpcHealthResponse(new Uint8Array([0, 0, 0, 0, 0])), 0); // default UNKNOWN
  // Unknown fields are skipped.
  assert.equal(decodeGrpcHealthResponse(new Uint8Array([0, 0, 0, 0, 7, 0x12, 1, 0x78, 0x18, 5, 8, 2])), 2);
  assert.throws(() => decodeGrpcHealthResponse(new Uint8Array([0, 0, 0, 0, 9, 8])), /truncated/);
});
